"""Labels and annotation keys of the platform's Kubernetes objects, and the names of its jobs:
each spelled once, here."""

from __future__ import annotations

MANAGED_BY = {
    "app.kubernetes.io/managed-by": "pulumi",
    "app.kubernetes.io/part-of": "eks-config-storage",
}

# PVCs labelled with a snapshot policy's name are covered by it; its CronJob carries it too.
POLICY_LABEL = "snapshots.eks-config-storage.io/policy"
APP_LABEL = "eks-config-storage.io/app"
# Why a namespace runs below Pod Security ``restricted`` (apps' podSecurity.reason, Velero's).
POD_SECURITY_REASON = "eks-config-storage.io/pod-security-reason"


def snapshot_cronjob_name(policy: str) -> str:
    """The CronJob of a snapshot policy (watched by the alerts under this name)."""
    return f"snapshot-{policy}"


def restricted_namespace_labels() -> dict[str, str]:
    """Pod Security Admission: enforce, audit and warn at ``restricted``."""
    return {
        f"pod-security.kubernetes.io/{mode}": "restricted" for mode in ("enforce", "audit", "warn")
    }
