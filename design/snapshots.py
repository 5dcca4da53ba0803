"""Scheduled snapshots (rule R7) as Kubernetes objects: a least-privilege identity and one
CronJob per policy that snapshots the PVCs labelled for it and prunes beyond ``keep``."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

POLICY_LABEL = "snapshots.eks-config-storage.io/policy"
SNAPSHOT_API_GROUP = "snapshot.storage.k8s.io"
SCRIPT_KEY = "snapshot_rotate.sh"
SCRIPT_DIR = "/scripts"
JOB_USER = 65532
HISTORY_SUCCESS = 3
HISTORY_FAILED = 5
# If the controller misses more than 100 schedules it stops scheduling for good; a deadline
# makes it skip missed runs instead, so backups cannot stop silently after an outage.
STARTING_DEADLINE_SECONDS = 3600
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


def rotator_rules() -> list[dict]:
    """Exactly what the rotation script calls: list PVCs, create/watch/list/get/delete
    snapshots, and read and release (patch deletionPolicy to Delete) the content of each
    generation it prunes. Contents are cluster-scoped, so only a ClusterRole can grant them."""
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
            "verbs": ["get", "patch"],
        },
    ]


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
    max_age_seconds: int | None = None,
    classes: Sequence[str] = (),
) -> dict:
    """The CronJob spec of one snapshot policy; its PVCs are those labelled for it and those
    of ``classes``."""
    env = {
        "POLICY": policy,
        "SELECTOR": f"{POLICY_LABEL}={policy}",
        **({"CLASSES": ",".join(classes)} if classes else {}),
        # Every job also fails on PVCs labelled with a policy not in this list, so a renamed
        # or removed policy cannot leave PVCs without backups silently.
        "KNOWN_POLICIES": ",".join(known_policies),
        "KEEP": str(keep),
        **({"MAX_AGE_SECONDS": str(max_age_seconds)} if max_age_seconds else {}),
        "SNAPSHOT_CLASS": snapshot_class,
        "READY_TIMEOUT": f"{ready_timeout_seconds}s",
        "POLICY_LABEL": POLICY_LABEL,
        "HOME": "/tmp",
    }
    container = {
        "name": "rotate",
        "image": image,
        "command": ["/bin/sh", f"{SCRIPT_DIR}/{SCRIPT_KEY}"],
        "env": [{"name": k, "value": v} for k, v in env.items()],
        "resources": {
            "requests": {"cpu": "50m", "memory": "64Mi"},
            "limits": {"cpu": "500m", "memory": "256Mi"},
        },
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "runAsNonRoot": True,
            "capabilities": {"drop": ["ALL"]},
        },
        "volumeMounts": [
            {"name": "script", "mountPath": SCRIPT_DIR, "readOnly": True},
            {"name": "tmp", "mountPath": "/tmp"},
        ],
    }
    pod = {
        "serviceAccountName": service_account,
        "restartPolicy": "Never",
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": JOB_USER,
            "runAsGroup": JOB_USER,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "containers": [container],
        "volumes": [
            {"name": "script", "configMap": {"name": script_config_map, "defaultMode": 0o555}},
            {"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}},
        ],
    }
    return {
        "schedule": schedule,
        "timeZone": "Etc/UTC",
        "concurrencyPolicy": "Forbid",
        "startingDeadlineSeconds": STARTING_DEADLINE_SECONDS,
        "successfulJobsHistoryLimit": HISTORY_SUCCESS,
        "failedJobsHistoryLimit": HISTORY_FAILED,
        "jobTemplate": {
            "metadata": {"labels": labels},
            "spec": {
                "backoffLimit": 2,
                "activeDeadlineSeconds": ACTIVE_DEADLINE_SECONDS,
                "template": {"metadata": {"labels": labels}, "spec": pod},
            },
        },
    }
