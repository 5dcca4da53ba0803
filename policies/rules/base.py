"""What every rule is made of: the subject a rule sees, the stack settings, the rule records,
and the helpers that read engine-shaped inputs (camelCase keys, JSON documents as strings)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from design.resource_types import TYPES

Enforcement = Literal["mandatory", "advisory"]

STORAGE_CLASS = "kubernetes:storage.k8s.io/v1:StorageClass"
SNAPSHOT_CLASS = "kubernetes:snapshot.storage.k8s.io/v1:VolumeSnapshotClass"
CLUSTER = "aws:eks/cluster:Cluster"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
# Holds state: protected in production (design.resource_types, the one per-type table).
STATEFUL_TYPES = frozenset(t for t, facts in TYPES.items() if facts.protected)
IDENTITY_POLICY_TYPES = frozenset(
    {"aws:iam/rolePolicy:RolePolicy", "aws:iam/policy:Policy", "aws:iam/userPolicy:UserPolicy"}
)
# APIs without resource-level permissions: a "*" resource is the only way to allow them. The
# program's own and its pipeline roles' (bootstrap/permissions/actions.yaml: resourceless); a test
# checks each against the IAM action database.
RESOURCE_WILDCARD_EXCEPTIONS = frozenset(
    {
        "ec2:DescribeAddresses",
        "ec2:DescribeAvailabilityZones",
        "ec2:DescribeInternetGateways",
        "ec2:DescribeLaunchTemplateVersions",
        "ec2:DescribeLaunchTemplates",
        "ec2:DescribeNatGateways",
        "ec2:DescribeNetworkAcls",
        "ec2:DescribeNetworkInterfaces",
        "ec2:DescribeRouteTables",
        "ec2:DescribeSecurityGroupRules",
        "ec2:DescribeSecurityGroups",
        "ec2:DescribeSubnets",
        "ec2:DescribeVpcs",
        "ec2:GetEbsEncryptionByDefault",
        "eks:CreateCluster",
        "eks:DescribeAddonConfiguration",
        "eks:DescribeAddonVersions",
        "elasticfilesystem:CreateFileSystem",
        "kms:CreateKey",
        "kms:ListAliases",
        "logs:DescribeLogGroups",
    }
)
WORKLOAD_KINDS = {
    "Pod": ("spec",),
    "Deployment": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "ReplicaSet": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}
EXACT_VERSION = re.compile(r"^v?\d+\.\d+\.\d+([-+][0-9A-Za-z.-]+)?$")
CUSTOMER_KEY_ARN = re.compile(r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/[0-9a-f-]+$")


@dataclass(frozen=True)
class Settings:
    """What the rules need to know about the stack (policy pack config)."""

    environment: str
    production: bool
    protect: bool
    # The policy every IAM role the stack creates must carry (config ``iam.permissionsBoundary``);
    # empty when the stack sets none.
    permissions_boundary: str = ""
    # Names of the permissions boundary policies the stack itself defines: ceilings, not grants,
    # so their service-wide actions are what they are for (the bootstrap program's).
    boundary_policies: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Subject:
    type: str
    name: str
    urn: str
    props: Mapping[str, Any]
    protect: bool = False


@dataclass(frozen=True)
class ResourceRule:
    name: str
    principle: str
    description: str
    enforcement: Enforcement
    check: Callable[[Subject, Settings], Iterable[str]]


@dataclass(frozen=True)
class StackRule:
    name: str
    principle: str
    description: str
    enforcement: Enforcement
    check: Callable[[Sequence[Subject], Settings], Iterable[tuple[str, str]]]


# -- helpers -----------------------------------------------------------------------------------


def get(value: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def as_list(value: Any) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, Sequence) and not isinstance(value, str) else [value]


def document(value: Any) -> Mapping:
    return json.loads(value) if isinstance(value, str) else (value or {})


def kind(subject: Subject) -> str | None:
    return subject.type.rsplit(":", 1)[-1] if subject.type.startswith("kubernetes:") else None


def pod_spec(subject: Subject) -> Mapping | None:
    path = WORKLOAD_KINDS.get(kind(subject) or "")
    return get(subject.props, *path) if path else None


def containers(pod: Mapping) -> list[Mapping]:
    return [*as_list(pod.get("initContainers")), *as_list(pod.get("containers"))]


def job_env(subject: Subject) -> dict:
    """Every container's literal environment of a workload, merged: name -> value."""
    pod = pod_spec(subject) or {}
    return {e.get("name"): e.get("value") for c in containers(pod) for e in as_list(c.get("env"))}


@dataclass(frozen=True)
class Verdict:
    name: str
    principle: str
    enforcement: Enforcement
    description: str
    violations: list[tuple[str, str]]

    @property
    def failed(self) -> bool:
        return bool(self.violations)
