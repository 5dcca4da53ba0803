"""Existing volumes follow policy: an hourly job sets each PV's reclaimPolicy to its class's and
each content of the stack's snapshot classes to the stack's deletionPolicy, because Kubernetes
copies both only when it creates the object (jobs/storage_policy_reconcile.sh)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from design import jobs
from design.snapshots import SNAPSHOT_API_GROUP

SCRIPT_KEY = "storage_policy_reconcile.sh"
APP_NAME = "storage-policy-reconciler"
CRONJOB_NAME = "storage-policy-reconcile"
# Hourly, away from the minutes snapshot schedules usually take (:00, :15).
SCHEDULE = "40 * * * *"
ACTIVE_DEADLINE_SECONDS = 1800
HISTORY_SUCCESS = jobs.HISTORY_SUCCESS
HISTORY_FAILED = jobs.HISTORY_FAILED
STARTING_DEADLINE_SECONDS = jobs.STARTING_DEADLINE_SECONDS
# The environment the production rule reads (policies/rules/lifecycle.py).
CLASS_POLICIES = "CLASS_POLICIES"
SNAPSHOT_CLASSES = "SNAPSHOT_CLASSES"
SNAPSHOT_DELETION_POLICY = "SNAPSHOT_DELETION_POLICY"


def reconciler_rules() -> list[dict]:
    """Exactly what the script calls: list and patch PVs and contents (a ``get`` of a whole type
    is a list; ``kubectl patch`` sends the patch without reading the object first,
    kubernetes/kubectl@v0.34.1:pkg/cmd/patch/patch.go). Both are cluster-scoped, so only a
    ClusterRole can grant them; PV names are generated, so nothing narrows by name."""
    return [
        {"apiGroups": [""], "resources": ["persistentvolumes"], "verbs": ["list", "patch"]},
        {
            "apiGroups": [SNAPSHOT_API_GROUP],
            "resources": ["volumesnapshotcontents"],
            "verbs": ["list", "patch"],
        },
    ]


def class_policies(reclaim_policies: Mapping[str, str]) -> str:
    """``class=Policy,...`` sorted by class: every class of the catalog, retired ones too."""
    return ",".join(f"{name}={policy}" for name, policy in sorted(reclaim_policies.items()))


def cronjob_spec(
    *,
    reclaim_policies: Mapping[str, str],
    snapshot_classes: Sequence[str],
    snapshot_deletion_policy: str,
    exempt_namespaces: Sequence[str],
    image: str,
    service_account: str,
    script_config_map: str,
    labels: dict[str, str],
) -> dict:
    env = {
        CLASS_POLICIES: class_policies(reclaim_policies),
        SNAPSHOT_CLASSES: ",".join(snapshot_classes),
        SNAPSHOT_DELETION_POLICY: snapshot_deletion_policy,
        **({"EXEMPT_NAMESPACES": ",".join(exempt_namespaces)} if exempt_namespaces else {}),
    }
    return jobs.script_cronjob_spec(
        schedule=SCHEDULE,
        container="reconcile",
        image=image,
        script_key=SCRIPT_KEY,
        env=env,
        service_account=service_account,
        script_config_map=script_config_map,
        labels=labels,
        active_deadline_seconds=ACTIVE_DEADLINE_SECONDS,
        backoff_limit=1,
        starting_deadline_seconds=STARTING_DEADLINE_SECONDS,
        history_success=HISTORY_SUCCESS,
        history_failed=HISTORY_FAILED,
    )
