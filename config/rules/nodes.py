"""Managed node groups."""

from __future__ import annotations

from collections.abc import Iterator

from config.rules.base import Problem, repeated
from config.schema import StackConfig
from design.instances import ARM, InstanceType, ami_architecture, instance_type


def node_group_sizes(cfg: StackConfig) -> Iterator[Problem]:
    for i, group in enumerate(cfg.node_groups):
        if not group.min_size <= group.desired_size <= group.max_size:
            yield (
                f"nodeGroups[{i}]",
                f"sizes must satisfy minSize <= desiredSize <= maxSize "
                f"(got {group.min_size} <= {group.desired_size} <= {group.max_size})",
            )
    yield from repeated("nodeGroups", "node group name", (g.name for g in cfg.node_groups))


def node_group_releases(cfg: StackConfig) -> Iterator[Problem]:
    """A pinned AMI release is built for one Kubernetes minor: EKS refuses a node group whose
    release does not match its version (the release's first two numbers are that minor)."""
    for i, group in enumerate(cfg.node_groups):
        release = group.release_version
        if release is None:
            continue
        minor = ".".join(release.split(".")[:2])
        if minor != cfg.kubernetes_version:
            yield (
                f"nodeGroups[{i}].releaseVersion",
                f"{release!r} is a release of Kubernetes {minor}, but the cluster runs "
                f"{cfg.kubernetes_version}: pin a {cfg.kubernetes_version}.x release or unset it "
                "(EKS's recommended release for the cluster's version)",
            )


def node_group_instances(cfg: StackConfig) -> Iterator[Problem]:
    """Instance types the group's AMI cannot run, refused by EKS at `up` or useless once up
    (awsdocs/amazon-eks-user-guide: latest/ug/nodes/choosing-instance-type.adoc)."""
    for i, group in enumerate(cfg.node_groups):
        key = f"nodeGroups[{i}].instanceTypes"
        types = [instance_type(name) for name in group.instance_types]
        yield from repeated(key, "instance type", group.instance_types)
        architectures = {t.architecture for t in types} - {None}
        if len(architectures) > 1:
            arm = ", ".join(t.name for t in types if t.architecture == ARM)
            yield (
                key,
                (
                    f"mixes Arm (Graviton: {arm}) and x86_64 types: a node group runs one AMI, "
                    "so one architecture; split it into two groups"
                ),
            )
        for j, t in enumerate(types):
            if problem := _type_problem(t, group.ami_type, mixed=len(architectures) > 1):
                yield f"{key}[{j}]", problem
        if cfg.production and group.capacity_type == "SPOT" and len(set(group.instance_types)) < 2:
            # EKS accepts it, but one type is one Spot capacity pool: when it runs dry the group
            # cannot replace interrupted nodes (latest/ug/nodes/managed-node-groups.adoc).
            yield key, "production Spot groups list at least two instance types (capacity pools)"


def _type_problem(t: InstanceType, ami_type: str, *, mixed: bool) -> str | None:
    if t.unsupported:
        return f"{t.name}: {t.unsupported}"
    if t.accelerated:
        return (
            f"{t.name} is a GPU/accelerator type: it needs an accelerated AMI type (NVIDIA or "
            f"Neuron drivers), and {ami_type} has none"
        )
    wanted = ami_architecture(ami_type)
    if mixed or t.architecture in (None, wanted):
        return None
    if wanted == ARM:
        return (
            f"{t.name} is x86_64; {ami_type} runs on Graviton types only (a 'g' after the "
            "generation: m7g, c6gn, t4g, r8g)"
        )
    return (
        f"{t.name} is an Arm (Graviton) type; {ami_type} runs x86_64 only: use amiType "
        "AL2023_ARM_64_STANDARD"
    )
