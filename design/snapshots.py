"""Scheduled snapshots (rule R7) as Kubernetes objects: a least-privilege identity and one
CronJob per policy that snapshots the PVCs labelled for it and prunes beyond ``keep``."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from design import jobs
from design.labels import POLICY_LABEL

SNAPSHOT_API_GROUP = "snapshot.storage.k8s.io"
SCRIPT_KEY = "snapshot_rotate.sh"
SCRIPT_DIR = jobs.SCRIPT_DIR
JOB_USER = jobs.JOB_USER
HISTORY_SUCCESS = jobs.HISTORY_SUCCESS
HISTORY_FAILED = jobs.HISTORY_FAILED
# Without a deadline, missed runs after an outage can stop backups silently (design.jobs).
STARTING_DEADLINE_SECONDS = jobs.STARTING_DEADLINE_SECONDS
ACTIVE_DEADLINE_SECONDS = 3 * 3600
# maxAge: a whole number of hours, days or weeks, at most ten years.
MAX_AGE = re.compile(r"^([1-9][0-9]{0,5})([hdw])$")
MAX_AGE_UNITS = {"h": 3600, "d": 86400, "w": 7 * 86400}
MAX_AGE_LIMIT_SECONDS = 3650 * 86400


def max_age_seconds(text: str) -> int:
    """Seconds in a maxAge such as 36h, 14d or 8w; ValueError with the rule otherwise."""
    match = MAX_AGE.fullmatch(text)
    if match is None:
        raise ValueError(
            f"{text!r} is not an age: a whole number of hours, days or weeks, "
            "such as 36h, 14d or 8w"
        )
    seconds = int(match.group(1)) * MAX_AGE_UNITS[match.group(2)]
    if seconds > MAX_AGE_LIMIT_SECONDS:
        raise ValueError(f"{text!r} is longer than ten years (3650d)")
    return seconds


def orphan_max_age_seconds(
    *, keep: int, longest_gap_seconds: int, max_age_seconds: int | None
) -> int:
    """How old the rotator lets a generation of a PVC its policy no longer covers (deleted, or
    out of the policy) grow before pruning it: the life it would have had under rotation, so a
    deleted PVC stays restorable as long as a live one's history reaches back. That is the
    policy's maxAge, else ``keep`` runs at the schedule's longest gap
    (``config.schedules.longest_gap``); at most ten years, the longest maxAge accepted."""
    life = max_age_seconds if max_age_seconds else keep * longest_gap_seconds
    return min(life, MAX_AGE_LIMIT_SECONDS)


def rotator_rules() -> list[dict]:
    """Exactly what the rotation script calls: list PVCs, create/watch/list/get/delete
    snapshots, read and release (patch deletionPolicy to Delete) the content of each generation
    it prunes, and list and delete the released contents that outlived their snapshot.
    Contents are cluster-scoped, so only a ClusterRole can grant them; an admission policy
    (``rotator_admission_policy``) narrows what the patch and the delete may touch."""
    return [
        {
            "apiGroups": [""],
            "resources": ["persistentvolumeclaims"],
            "verbs": ["get", "list"],
        },
        {
            "apiGroups": [SNAPSHOT_API_GROUP],
            "resources": ["volumesnapshots"],
            "verbs": ["create", "delete", "get", "list", "watch"],
        },
        {
            "apiGroups": [SNAPSHOT_API_GROUP],
            "resources": ["volumesnapshotcontents"],
            "verbs": ["delete", "get", "list", "patch"],
        },
    ]


ROTATOR_ACCOUNT = "snapshot-rotator"
ADMISSION_POLICY = "snapshot-rotator-scope"
# The script's mark on a content it releases (jobs/snapshot_rotate.sh).
PRUNING_ANNOTATION = "snapshots.eks-config-storage.io/pruning"


def _same(field: str, default: str) -> str:
    """CEL: ``field`` of the object is what it was, absent (``default``) included."""
    return (
        f"(has(object.{field}) ? object.{field} : {default}) == "
        f"(has(oldObject.{field}) ? oldObject.{field} : {default})"
    )


def _released(obj: str) -> str:
    """CEL: ``obj`` is a released content: Delete, marked with the snapshot it belonged to."""
    ref = "oldObject.spec.volumeSnapshotRef"
    return (
        f"{obj}.spec.deletionPolicy == 'Delete' && has({obj}.metadata.annotations) && "
        f"'{PRUNING_ANNOTATION}' in {obj}.metadata.annotations && "
        f"{obj}.metadata.annotations['{PRUNING_ANNOTATION}'] == "
        f"{ref}.namespace + '/' + {ref}.name"
    )


def rotator_admission_policy(*, namespace: str, snapshot_classes: Sequence[str]) -> dict:
    """A ValidatingAdmissionPolicy (admissionregistration.k8s.io/v1) for the rotator's account:
    RBAC cannot name contents in advance, so ``patch`` and ``delete`` on volumesnapshotcontents
    reach every content of the cluster. This lets it only release a content of the stack's
    snapshot classes the way the script does (deletionPolicy Delete, marked with the snapshot
    it belongs to) and change nothing else, and delete only contents so released, so the
    account cannot strip Retain from, or delete, anyone else's snapshots."""
    classes = ", ".join(f"'{c}'" for c in sorted(snapshot_classes))
    unchanged = " && ".join(
        [
            "object.spec.volumeSnapshotRef == oldObject.spec.volumeSnapshotRef",
            "object.spec.source == oldObject.spec.source",
            "object.spec.driver == oldObject.spec.driver",
            _same("spec.volumeSnapshotClassName", "''"),
            _same("metadata.labels", "{}"),
            _same("metadata.finalizers", "[]"),
        ]
    )
    return {
        "failurePolicy": "Fail",
        "matchConstraints": {
            "resourceRules": [
                {
                    "apiGroups": [SNAPSHOT_API_GROUP],
                    "apiVersions": ["*"],
                    "operations": ["UPDATE", "DELETE"],
                    "resources": ["volumesnapshotcontents"],
                }
            ]
        },
        "matchConditions": [
            {
                "name": "snapshot-rotator-account",
                "expression": "request.userInfo.username == "
                f"'system:serviceaccount:{namespace}:{ROTATOR_ACCOUNT}'",
            }
        ],
        "validations": [
            {
                "expression": "has(oldObject.spec.volumeSnapshotClassName) && "
                f"oldObject.spec.volumeSnapshotClassName in [{classes}]",
                "message": "the snapshot rotator changes only contents of the stack's "
                "snapshot classes",
            },
            {
                "expression": f"request.operation != 'UPDATE' || ({_released('object')})",
                "message": "the snapshot rotator only releases a content (deletionPolicy "
                f"Delete), marked {PRUNING_ANNOTATION} with the snapshot it prunes",
            },
            {
                "expression": f"request.operation != 'UPDATE' || ({unchanged})",
                "message": "the snapshot rotator changes nothing else of a content",
            },
            {
                "expression": f"request.operation != 'DELETE' || ({_released('oldObject')})",
                "message": "the snapshot rotator deletes only contents it released",
            },
        ],
    }


def classes_by_policy(protections: Iterable[tuple[str, Sequence[str]]]) -> dict[str, list[str]]:
    """The classes each snapshot policy covers by construction, from (class name, the class's
    ``protection.snapshotPolicies``) pairs: policy -> sorted class names."""
    covered: dict[str, set[str]] = {}
    for class_name, policies in protections:
        for policy in policies:
            covered.setdefault(policy, set()).add(class_name)
    return {policy: sorted(names) for policy, names in sorted(covered.items())}


def cronjob_spec(
    *,
    policy: str,
    known_policies: Sequence[str],
    schedule: str,
    keep: int,
    ready_timeout_seconds: int,
    image: str,
    service_account: str,
    script_config_map: str,
    snapshot_class: str,
    labels: dict[str, str],
    orphan_max_age_seconds: int,
    max_age_seconds: int | None = None,
    classes: Sequence[str] = (),
) -> dict:
    """The CronJob spec of one snapshot policy; its PVCs are those labelled for it and those
    of ``classes``; its generations of other PVCs go once older than
    ``orphan_max_age_seconds``."""
    env = {
        "POLICY": policy,
        "SELECTOR": f"{POLICY_LABEL}={policy}",
        **({"CLASSES": ",".join(classes)} if classes else {}),
        # Every job also fails on PVCs labelled with a policy not in this list, so a renamed
        # or removed policy cannot leave PVCs without backups silently.
        "KNOWN_POLICIES": ",".join(known_policies),
        "KEEP": str(keep),
        **({"MAX_AGE_SECONDS": str(max_age_seconds)} if max_age_seconds else {}),
        # Without it, generations of a deleted or unselected PVC would stay for good (F4).
        "ORPHAN_MAX_AGE_SECONDS": str(orphan_max_age_seconds),
        "SNAPSHOT_CLASS": snapshot_class,
        "READY_TIMEOUT": f"{ready_timeout_seconds}s",
        "POLICY_LABEL": POLICY_LABEL,
    }
    return jobs.script_cronjob_spec(
        schedule=schedule,
        container="rotate",
        image=image,
        script_key=SCRIPT_KEY,
        env=env,
        service_account=service_account,
        script_config_map=script_config_map,
        labels=labels,
        active_deadline_seconds=ACTIVE_DEADLINE_SECONDS,
        backoff_limit=2,
        starting_deadline_seconds=STARTING_DEADLINE_SECONDS,
        history_success=HISTORY_SUCCESS,
        history_failed=HISTORY_FAILED,
    )
