"""Facts about the AWS account and region the stack deploys into, read once per run."""

from __future__ import annotations

import pulumi_aws as aws

from design.aws import AwsContext


def current_aws_context() -> AwsContext:
    """Ask the provider (its ``aws:region`` and credentials) rather than assume anything."""
    identity = aws.get_caller_identity()
    return AwsContext(
        partition=aws.get_partition().partition,
        region=aws.get_region().region,
        account_id=identity.account_id,
        caller_arn=identity.arn,
    )
