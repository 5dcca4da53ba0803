"""Kubernetes objects of a plan as plain manifests (what the provider would send the API)."""

from __future__ import annotations

from tools.offline.plan import Plan, Resource

BUILT_IN_GROUPS = {
    "",
    "apps",
    "batch",
    "policy",
    "rbac.authorization.k8s.io",
    "storage.k8s.io",
    "networking.k8s.io",
    "admissionregistration.k8s.io",
    "scheduling.k8s.io",
}


def is_object(resource: Resource) -> bool:
    """A whole Kubernetes object (not a provider, not a Patch, not a Helm release)."""
    return (
        resource.type.startswith("kubernetes:")
        and not resource.type.endswith("Patch")
        and "apiVersion" in resource.inputs
        and "kind" in resource.inputs
    )


def is_built_in(manifest: dict) -> bool:
    group = manifest["apiVersion"].rpartition("/")[0]
    return group in BUILT_IN_GROUPS


def manifests(plan: Plan) -> list[dict]:
    """Every Kubernetes object of the plan, in a stable order (kind, namespace, name)."""
    objects = [dict(r.inputs) for r in plan if is_object(r)]
    return sorted(
        objects,
        key=lambda m: (
            m["kind"],
            m.get("metadata", {}).get("namespace", ""),
            m.get("metadata", {}).get("name", ""),
        ),
    )
