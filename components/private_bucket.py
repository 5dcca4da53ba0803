"""The guard rails every bucket of this repository carries: objects owned by the bucket owner,
never public, encrypted with a customer key and a bucket key, versioned. One place, so the
pipeline's state bucket (bootstrap/) and Velero's backup bucket cannot drift apart."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws


@dataclass(frozen=True)
class PrivateBucket:
    bucket: aws.s3.Bucket
    public_access: aws.s3.BucketPublicAccessBlock


def private_bucket(
    name: str,
    bucket_name: str,
    key_arn: pulumi.Input[str],
    *,
    kept: pulumi.ResourceOptions,
    child: pulumi.ResourceOptions,
    tags: Mapping[str, str] | None = None,
) -> PrivateBucket:
    """The bucket and its guard rails, named from ``name``. ``kept`` holds the bucket and its
    versioning (the data and its history); ``child`` the other guard rails."""
    bucket = aws.s3.Bucket(f"{name}-bucket", bucket=bucket_name, tags=tags, opts=kept)
    aws.s3.BucketOwnershipControls(
        f"{name}-ownership",
        bucket=bucket.id,
        rule={"object_ownership": "BucketOwnerEnforced"},
        opts=child,
    )
    public_access = aws.s3.BucketPublicAccessBlock(
        f"{name}-public-access",
        bucket=bucket.id,
        block_public_acls=True,
        block_public_policy=True,
        ignore_public_acls=True,
        restrict_public_buckets=True,
        opts=child,
    )
    aws.s3.BucketServerSideEncryptionConfiguration(
        f"{name}-encryption",
        bucket=bucket.id,
        rules=[
            {
                "apply_server_side_encryption_by_default": {
                    "sse_algorithm": "aws:kms",
                    "kms_master_key_id": key_arn,
                },
                # One data key per bucket, not per object: far fewer KMS calls.
                "bucket_key_enabled": True,
            }
        ],
        opts=child,
    )
    aws.s3.BucketVersioning(
        f"{name}-versioning",
        bucket=bucket.id,
        versioning_configuration={"status": "Enabled"},
        opts=kept,
    )
    return PrivateBucket(bucket, public_access)
