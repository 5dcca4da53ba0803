"""Labels every Kubernetes object of the platform carries, and namespace Pod Security."""

from __future__ import annotations

MANAGED_BY = {
    "app.kubernetes.io/managed-by": "pulumi",
    "app.kubernetes.io/part-of": "eks-config-storage",
}


def restricted_namespace_labels() -> dict[str, str]:
    """Pod Security Admission: enforce, audit and warn at ``restricted``."""
    return {
        f"pod-security.kubernetes.io/{mode}": "restricted" for mode in ("enforce", "audit", "warn")
    }
