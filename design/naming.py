"""Names of AWS objects, derived from the cluster name so two stacks never collide."""

from __future__ import annotations

IAM_ROLE_NAME_MAX = 64


def role_name(cluster: str, purpose: str) -> str:
    """IAM role name for one purpose of one cluster, e.g. ``eks-dev-ebs-csi``."""
    name = f"{cluster}-{purpose}"
    if len(name) > IAM_ROLE_NAME_MAX:
        raise ValueError(f"IAM role name {name!r} exceeds {IAM_ROLE_NAME_MAX} characters")
    return name


def key_alias(cluster: str) -> str:
    """KMS alias of the cluster's envelope key."""
    return f"alias/{cluster}"


def control_plane_log_group(cluster: str) -> str:
    """The log group EKS writes control-plane logs to (fixed by EKS)."""
    return f"/aws/eks/{cluster}/cluster"


def arn_resource_name(arn: str) -> str:
    """Last path segment of an ARN: ``arn:aws:iam::1:role/team/admin`` -> ``admin``."""
    return arn.rsplit("/", 1)[-1]


def source_name(source: str) -> str:
    """A network source as a logical-name fragment: ``10.60.96.0/24`` -> ``10-60-96-0-24``."""
    return source.replace(".", "-").replace("/", "-")
