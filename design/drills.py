"""Restore drills: per drill a CronJob that restores the newest ready snapshot of a policy into a
scratch namespace, checks it, times it and cleans up (jobs/restore_drill.sh), with
exactly the access that takes, narrowed by an admission policy where RBAC cannot narrow it."""

from __future__ import annotations

from collections.abc import Sequence

from design import jobs
from design.snapshots import POLICY_LABEL, SNAPSHOT_API_GROUP

SCRIPT_KEY = "restore_drill.sh"
NAMESPACE = "restore-drills"
APP_NAME = "restore-drill"
SERVICE_ACCOUNT = "restore-drill"
DRILL_LABEL = "restore.eks-config-storage.io/drill"
LAST_DRILL = "restore.eks-config-storage.io/last-drill"
POLL_SECONDS = 10
# After timeoutSeconds the drill still deletes what it made and records the result.
CLEANUP_SECONDS = 600
HISTORY_SUCCESS = jobs.HISTORY_SUCCESS
HISTORY_FAILED = jobs.HISTORY_FAILED
STARTING_DEADLINE_SECONDS = jobs.STARTING_DEADLINE_SECONDS
ADMISSION_POLICY = "restore-drill-scope"


def cronjob_name(drill: str) -> str:
    return f"drill-{drill}"


def role_rules(drills: Sequence[str]) -> list[dict]:
    """What a drill does in its scratch namespace: make and delete the copy, the PVC and the
    check pod, read the pod, wait for the copy (kubectl wait gets, lists and watches,
    kubernetes/kubectl@v0.34.1:pkg/cmd/wait/condition.go), and record the result on its own
    CronJob. ``kubectl patch`` sends the patch without reading the object first
    (kubernetes/kubectl@v0.34.1:pkg/cmd/patch/patch.go; ``kubectl annotate`` would read it,
    pkg/cmd/annotate/annotate.go, Latest), so ``patch`` alone, by name, records it."""
    return [
        {"apiGroups": [""], "resources": ["pods"], "verbs": ["create", "delete", "get"]},
        {"apiGroups": [""], "resources": ["persistentvolumeclaims"], "verbs": ["create", "delete"]},
        {
            "apiGroups": [SNAPSHOT_API_GROUP],
            "resources": ["volumesnapshots"],
            "verbs": ["create", "delete", "get", "list", "watch"],
        },
        {
            "apiGroups": ["batch"],
            "resources": ["cronjobs"],
            "resourceNames": sorted(cronjob_name(d) for d in drills),
            "verbs": ["patch"],
        },
    ]


def cluster_rules() -> list[dict]:
    """What a drill reads or writes outside its namespace: the policy's snapshots (any
    namespace), the source PVC's class, the original content's handle, its own copy's content,
    and the restored PV's reclaimPolicy.

    Neither content ``delete`` nor PV ``patch`` can be narrowed by name: RBAC ``resourceNames``
    match whole names, fixed when the role is written, while each run's copy is named after the
    run (a fixed name would let one failed cleanup block every later drill) and a PV is named
    by the provisioner after its claim's UID; ``create`` cannot be narrowed by name at all
    (https://kubernetes.io/docs/reference/access-authn-authz/rbac/#referring-to-resources).
    The admission policy (``admission_policy``) narrows them instead."""
    return [
        {"apiGroups": [SNAPSHOT_API_GROUP], "resources": ["volumesnapshots"], "verbs": ["list"]},
        {"apiGroups": [""], "resources": ["persistentvolumeclaims"], "verbs": ["get"]},
        {
            "apiGroups": [SNAPSHOT_API_GROUP],
            "resources": ["volumesnapshotcontents"],
            "verbs": ["create", "delete", "get"],
        },
        {"apiGroups": [""], "resources": ["persistentvolumes"], "verbs": ["patch"]},
    ]


def account_name(namespace: str = NAMESPACE, account: str = SERVICE_ACCOUNT) -> str:
    return f"system:serviceaccount:{namespace}:{account}"


def admission_policy(namespace: str = NAMESPACE) -> dict:
    """A ValidatingAdmissionPolicy (admissionregistration.k8s.io/v1, GA in Kubernetes 1.30) for
    the drill's account only: it creates only Retain contents labelled as its own, deletes only
    those (still Retain), and changes only PVs claimed in its scratch namespace, keeping the
    claim. So the broad grants of ``cluster_rules`` can never delete a physical snapshot, or set
    any other volume to Delete."""
    retain_copy = (
        "{o}.spec.deletionPolicy == 'Retain' && has({o}.metadata.labels) && "
        f"'{DRILL_LABEL}' in {{o}}.metadata.labels"
    )
    return {
        "failurePolicy": "Fail",
        "matchConstraints": {
            "resourceRules": [
                {
                    "apiGroups": [""],
                    "apiVersions": ["v1"],
                    "operations": ["UPDATE"],
                    "resources": ["persistentvolumes"],
                },
                {
                    "apiGroups": [SNAPSHOT_API_GROUP],
                    "apiVersions": ["*"],
                    "operations": ["CREATE", "DELETE"],
                    "resources": ["volumesnapshotcontents"],
                },
            ]
        },
        "matchConditions": [
            {
                "name": "restore-drill-account",
                "expression": f"request.userInfo.username == '{account_name(namespace)}'",
            }
        ],
        "validations": [
            {
                "expression": "request.resource.resource != 'persistentvolumes' || "
                f"(has(oldObject.spec.claimRef) && oldObject.spec.claimRef.namespace == "
                f"'{namespace}' && object.spec.claimRef == oldObject.spec.claimRef)",
                "message": f"a restore drill changes only volumes claimed in {namespace}",
            },
            {
                "expression": "request.resource.resource != 'volumesnapshotcontents' || "
                "request.operation != 'CREATE' || (" + retain_copy.format(o="object") + ")",
                "message": "a restore drill creates only Retain copies labelled as its own",
            },
            {
                "expression": "request.resource.resource != 'volumesnapshotcontents' || "
                "request.operation != 'DELETE' || (" + retain_copy.format(o="oldObject") + ")",
                "message": "a restore drill deletes only its own copies, and only while Retain",
            },
        ],
    }


def cronjob_spec(
    *,
    drill: str,
    policy: str,
    schedule: str,
    timeout_seconds: int,
    image: str,
    service_account: str,
    script_config_map: str,
    labels: dict[str, str],
    namespace: str = NAMESPACE,
) -> dict:
    env = {
        "DRILL": drill,
        "POLICY": policy,
        "NAMESPACE": namespace,
        "CRONJOB": cronjob_name(drill),
        # The check pod runs the job's own image: one pinned image, already pulled.
        "CHECK_IMAGE": image,
        "TIMEOUT_SECONDS": str(timeout_seconds),
        "POLL_SECONDS": str(POLL_SECONDS),
        "POLICY_LABEL": POLICY_LABEL,
    }
    return jobs.script_cronjob_spec(
        schedule=schedule,
        container="drill",
        image=image,
        script_key=SCRIPT_KEY,
        env=env,
        service_account=service_account,
        script_config_map=script_config_map,
        labels=labels,
        active_deadline_seconds=timeout_seconds + CLEANUP_SECONDS,
        # A retry would restore again from scratch; the next scheduled drill is the retry.
        backoff_limit=0,
        starting_deadline_seconds=STARTING_DEADLINE_SECONDS,
        history_success=HISTORY_SUCCESS,
        history_failed=HISTORY_FAILED,
    )
