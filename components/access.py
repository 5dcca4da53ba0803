"""What an account may do: a Role or ClusterRole bound to it, and the ValidatingAdmissionPolicy
(with its Deny binding) that narrows RBAC where RBAC cannot name the objects in advance
(admissionregistration.k8s.io/v1, GA in 1.30)."""

from __future__ import annotations

from collections.abc import Mapping

import pulumi
import pulumi_kubernetes as k8s


def bound_role(
    role_resource: str,
    binding_resource: str,
    *,
    name: str,
    namespace: pulumi.Input[str] | None,
    rules: list[dict],
    account: tuple[pulumi.Input[str], pulumi.Input[str]],
    labels: Mapping[str, str],
    opts: pulumi.ResourceOptions,
) -> k8s.rbac.v1.RoleBinding | k8s.rbac.v1.ClusterRoleBinding:
    """A Role in ``namespace`` (a ClusterRole without one) with ``rules``, bound to the service
    account ``(name, namespace)``, both objects named ``name``; the binding is what a job waits
    for before its first run."""
    metadata = {"name": name, "labels": dict(labels)}
    if namespace is not None:
        metadata["namespace"] = namespace
    kind = "Role" if namespace is not None else "ClusterRole"
    role_type, binding_type = (
        (k8s.rbac.v1.Role, k8s.rbac.v1.RoleBinding)
        if namespace is not None
        else (k8s.rbac.v1.ClusterRole, k8s.rbac.v1.ClusterRoleBinding)
    )
    role = role_type(role_resource, metadata=metadata, rules=rules, opts=opts)
    return binding_type(
        binding_resource,
        metadata=metadata,
        role_ref={
            "apiGroup": "rbac.authorization.k8s.io",
            "kind": kind,
            "name": role.metadata.name,
        },
        subjects=[{"kind": "ServiceAccount", "name": account[0], "namespace": account[1]}],
        opts=opts,
    )


def deny_unless(
    resource_name: str,
    policy_name: str,
    spec: Mapping,
    labels: Mapping[str, str],
    opts: pulumi.ResourceOptions,
) -> k8s.admissionregistration.v1.ValidatingAdmissionPolicyBinding:
    """The policy and its binding (both named ``resource_name`` in the stack); the binding is
    what a job waits for before its first run."""
    policy = k8s.admissionregistration.v1.ValidatingAdmissionPolicy(
        resource_name,
        metadata={"name": policy_name, "labels": dict(labels)},
        spec=dict(spec),
        opts=opts,
    )
    return k8s.admissionregistration.v1.ValidatingAdmissionPolicyBinding(
        resource_name,
        metadata={"name": policy_name, "labels": dict(labels)},
        spec={"policyName": policy.metadata.name, "validationActions": ["Deny"]},
        opts=opts,
    )
