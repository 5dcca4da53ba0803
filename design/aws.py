"""Where a stack deploys: the AWS partition, region and account, travelling as one value."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AwsContext:
    """Partition, region and account of the stack's provider (asked, never assumed)."""

    partition: str
    region: str
    account_id: str

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
