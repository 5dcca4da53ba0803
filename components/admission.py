"""A ValidatingAdmissionPolicy and its Deny binding: what narrows a job account's RBAC where
RBAC cannot name the objects in advance (admissionregistration.k8s.io/v1, GA in 1.30)."""

from __future__ import annotations

from collections.abc import Mapping

import pulumi
import pulumi_kubernetes as k8s


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
