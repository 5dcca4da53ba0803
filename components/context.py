"""Facts about the AWS account and region the stack deploys into, read once per run."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from design.aws import AwsContext, account_of_arn


def current_aws_context(permissions_boundary: str | None = None) -> AwsContext:
    """Ask the provider (its ``aws:region`` and credentials) rather than assume anything.

    Stops before any resource when the configured boundary belongs to another account: IAM
    would refuse every role with it, halfway through the first ``up``."""
    identity = aws.get_caller_identity()
    if permissions_boundary and account_of_arn(permissions_boundary) != identity.account_id:
        raise pulumi.RunError(
            f"eks-config-storage:iam.permissionsBoundary {permissions_boundary} is not a policy "
            f"of the stack's account {identity.account_id}"
        )
    return AwsContext(
        partition=aws.get_partition().partition,
        region=aws.get_region().region,
        account_id=identity.account_id,
        caller_arn=identity.arn,
        ebs_encryption_by_default=aws.ebs.get_encryption_by_default().enabled,
        permissions_boundary=permissions_boundary,
    )


def warn_about_account_settings(ctx: AwsContext) -> None:
    """Advisory ``ebs-encryption-by-default``: the stack's classes and nodes encrypt with its own
    key anyway, but a volume created outside them (EKS's gp2, a console test) would not be."""
    if ctx.ebs_encryption_by_default is False:
        pulumi.log.warn(
            "EBS encryption by default is off in this account and region: volumes created "
            "outside this stack's classes are unencrypted; turn it on with "
            "`aws ec2 enable-ebs-encryption-by-default`"
        )
