"""Network mode, who and what reaches the API server, administration, production safety."""

from __future__ import annotations

from collections.abc import Iterator

from config.rules.base import Problem, repeated
from config.schema import StackConfig
from design import eks_versions
from design.aws import caller_role_name
from design.images import image_pin_problem
from design.naming import arn_resource_name


def one_network_mode(cfg: StackConfig) -> Iterator[Problem]:
    if (cfg.network.create is None) == (cfg.network.existing is None):
        yield "network", "set exactly one of 'create' (new VPC) or 'existing' (adopt a VPC)"


def endpoint_exposure(cfg: StackConfig) -> Iterator[Problem]:
    ep = cfg.endpoint
    if ep.public_access and cfg.production:
        yield "endpoint.publicAccess", "a production cluster's API endpoint must be private only"
    if ep.public_access and not ep.public_access_cidrs:
        yield (
            "endpoint.publicAccessCidrs",
            "a public endpoint must list the CIDRs allowed to reach it",
        )
    if not ep.public_access and ep.public_access_cidrs:
        yield "endpoint.publicAccessCidrs", "CIDRs given but endpoint.publicAccess is false"


def endpoint_sources_unique(cfg: StackConfig) -> Iterator[Problem]:
    """Each private source becomes its own ingress rule, named after the source."""
    ep = cfg.endpoint
    yield from repeated("endpoint.privateAccessCidrs", "CIDR", ep.private_access_cidrs)
    yield from repeated(
        "endpoint.privateAccessSecurityGroupIds", "group", ep.private_access_security_group_ids
    )
    yield from repeated("endpoint.publicAccessCidrs", "CIDR", ep.public_access_cidrs)


def endpoint_reachable(cfg: StackConfig) -> Iterator[Problem]:
    """The deployer's Kubernetes steps need a way in: pulumi-kubernetes fails every object of a
    cluster it cannot reach ("configured Kubernetes cluster is unreachable",
    pulumi/pulumi-kubernetes@v4.32.0:provider/pkg/provider/provider.go)."""
    ep = cfg.endpoint
    if ep.public_access:
        return
    if not ep.private_sources:
        yield (
            "endpoint",
            "nothing can reach the API server: the endpoint is private only and no network is "
            "admitted to it (EKS's cluster security group admits only itself); set "
            "endpoint.privateAccessCidrs or endpoint.privateAccessSecurityGroupIds to the "
            "networks your deploy runners and operators connect from",
        )
    elif cfg.network.create is not None and not cfg.network.create.connected_to_runners:
        yield (
            "endpoint",
            "the endpoint is private only, but network.create makes the VPC in this same up: no "
            "runner can be inside it or connected to it yet, so every Kubernetes object would "
            "fail; adopt a VPC your deploy runners reach (network.existing) or, outside "
            "production, reach a public endpoint limited to your runners' addresses "
            "(endpoint.publicAccess with publicAccessCidrs); if an earlier up created this VPC "
            "and it is now connected to your runners' network, set "
            "network.create.connectedToRunners: true",
        )


def kubernetes_support(cfg: StackConfig) -> Iterator[Problem]:
    if problem := eks_versions.support_problem(cfg.kubernetes_version, eks_versions.today()):
        yield "kubernetesVersion", problem


def production_safety(cfg: StackConfig) -> Iterator[Problem]:
    if not cfg.production:
        return
    if not cfg.protect:
        yield "protect", "production stacks must protect their stateful resources"
    if cfg.kms.deletion_window_days != 30:
        yield "kms.deletionWindowDays", "production keys keep the longest window (30 days)"
    for key, image in images(cfg):
        if problem := image_pin_problem(image, production=True):
            yield key, problem


def images(cfg: StackConfig) -> list[tuple[str, str]]:
    """Every container image the config makes the program deploy, by key."""
    found = [("snapshots.jobImage", cfg.snapshots.job_image)]
    if cfg.backups.enabled:
        found.append(("backups.pluginImage", cfg.backups.plugin_image))
    return found


def someone_can_administer(cfg: StackConfig) -> Iterator[Problem]:
    if not cfg.admin_role_arns and not cfg.bootstrap_creator_admin:
        yield (
            "adminRoleArns",
            "list at least one admin role (include the role that deploys this stack), "
            "or set bootstrapCreatorAdmin",
        )


def access_roles(cfg: StackConfig) -> Iterator[Problem]:
    for key, arns in (
        ("adminRoleArns", cfg.admin_role_arns),
        ("previewRoleArns", cfg.preview_role_arns),
    ):
        yield from repeated(key, "role", arns)
        # Each access entry is named after the role's own name (the ARN's last segment).
        unique = list(dict.fromkeys(arns))
        yield from repeated(key, "role name", (arn_resource_name(a) for a in unique))
    # EKS holds one access entry per principal.
    for arn in sorted(set(cfg.admin_role_arns) & set(cfg.preview_role_arns)):
        yield "previewRoleArns", f"{arn} is already an admin; a role has one kind of access"


def deployer_problems(cfg: StackConfig, caller_arn: str) -> list[Problem]:
    """The identity running the deployment must stay able to manage the cluster's objects.

    The cluster authenticates through access entries only (``authentication_mode: API``,
    awsdocs/amazon-eks-user-guide: latest/ug/manage-access/k8s-access/grant-k8s-access.adoc), so
    an ``up`` by a role missing from ``adminRoleArns`` would remove its own entry and lock every
    later deployment out of Kubernetes."""
    if cfg.bootstrap_creator_admin:
        return []
    role = caller_role_name(caller_arn)
    account = caller_arn.split(":")[4] if caller_arn.count(":") >= 5 else ""
    admins = {(a.split(":")[4], arn_resource_name(a)) for a in cfg.admin_role_arns}
    if role is not None and (account, role) in admins:
        return []
    return [
        (
            "adminRoleArns",
            f"the deploying identity {caller_arn} is not among them: this deployment would lock "
            "itself (and the pipeline) out of the cluster's Kubernetes API; add its role "
            "(bootstrapCreatorAdmin helps only a cluster not created yet: EKS sets it at "
            "creation, and changing it replaces the cluster)",
        )
    ]


def previewer(cfg: StackConfig, caller_arn: str) -> bool:
    """Whether the caller is one of the stack's read-only preview roles."""
    role = caller_role_name(caller_arn)
    return role is not None and role in {arn_resource_name(a) for a in cfg.preview_role_arns}
