"""Where a stack deploys: the AWS partition, region and account, travelling as one value."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AwsContext:
    """Partition, region and account of the stack's provider (asked, never assumed)."""

    partition: str
    region: str
    account_id: str
    # Who runs this deployment (sts:GetCallerIdentity), e.g. arn:aws:sts::1:assumed-role/R/s.
    caller_arn: str = ""
    # The account's EBS encryption-by-default setting in this region: one per account and region,
    # so not this stack's to own; read and reported.
    ebs_encryption_by_default: bool | None = None
    # The permissions boundary every role of the stack carries (config iam.permissionsBoundary):
    # the account's pipeline lets a deploy create roles only under it.
    permissions_boundary: str | None = None

    def arn(self, service: str, resource: str, *, regional: bool = True) -> str:
        """``arn:<partition>:<service>:<region>:<account>:<resource>``."""
        region = self.region if regional else ""
        return f"arn:{self.partition}:{service}:{region}:{self.account_id}:{resource}"

    def managed_policy_arn(self, name: str) -> str:
        return f"arn:{self.partition}:iam::aws:policy/{name}"

    @property
    def root_arn(self) -> str:
        return f"arn:{self.partition}:iam::{self.account_id}:root"

    def role_arn(self, path_and_name: str) -> str:
        return f"arn:{self.partition}:iam::{self.account_id}:role/{path_and_name}"

    @property
    def autoscaling_service_role_arn(self) -> str:
        """The Auto Scaling service-linked role, which launches managed node group instances."""
        return self.role_arn(
            "aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling"
        )

    def via_service(self, *services: str) -> list[str]:
        """``kms:ViaService`` values: the regional endpoints of ``services``."""
        return [f"{service}.{self.region}.amazonaws.com" for service in services]


def account_of_arn(arn: str) -> str:
    """The account field of an ARN (empty for AWS-owned ones)."""
    parts = arn.split(":", 5)
    return parts[4] if len(parts) == 6 else ""


def caller_role_name(caller_arn: str) -> str | None:
    """The IAM role behind an assumed-role session ARN, or None for users and root."""
    parts = caller_arn.split(":", 5)
    if len(parts) != 6 or not parts[5].startswith("assumed-role/"):
        return None
    return parts[5].split("/")[1]
