"""Facts about the AWS account and region the stack deploys into, read once per run."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi_aws as aws


@dataclass(frozen=True)
class AwsContext:
    account_id: str
    partition: str
    region: str


def current_aws_context() -> AwsContext:
    """Ask the provider (its ``aws:region`` and credentials) rather than assume anything."""
    identity = aws.get_caller_identity()
    partition = aws.get_partition()
    region = aws.get_region()
    return AwsContext(
        account_id=identity.account_id, partition=partition.partition, region=region.region
    )
