"""The Pulumi state bucket and the secrets keys of the main program's stacks."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.private_bucket import private_bucket


def tls_only_policy(bucket_arn: str) -> dict:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "TlsOnly",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [bucket_arn, f"{bucket_arn}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        ],
    }


STATE_KEY_ALIAS = "alias/pulumi-state"


class StateBucket(pulumi.ComponentResource):
    """Versioned (every earlier state stays: the last line of defence when a state is damaged),
    SSE-KMS with its own customer managed key and a bucket key, never public, TLS only.
    Protected and retained: it holds every stack's state. Its own key, not AWS's ``aws/s3``, so
    that a role reads state only where its IAM policy names the key as well as the objects."""

    bucket: aws.s3.Bucket
    key_arn: pulumi.Output[str]

    def __init__(self, name: str, bucket_name: str, opts: pulumi.ResourceOptions | None = None):
        super().__init__("eks-pipeline-bootstrap:state:StateBucket", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        kept = pulumi.ResourceOptions(parent=self, protect=True, retain_on_delete=True)
        key = aws.kms.Key(
            f"{name}-key",
            description=f"Pulumi state in s3://{bucket_name}",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            opts=kept,
        )
        aws.kms.Alias(f"{name}-key", name=STATE_KEY_ALIAS, target_key_id=key.key_id, opts=child)
        self.key_arn = key.arn
        self.bucket = private_bucket(name, bucket_name, key.arn, kept=kept, child=child).bucket
        aws.s3.BucketPolicy(
            f"{name}-policy",
            bucket=self.bucket.id,
            policy=self.bucket.arn.apply(lambda arn: json.dumps(tls_only_policy(arn))),
            opts=child,
        )
        self.register_outputs({"bucket": self.bucket.bucket, "keyArn": self.key_arn})


@dataclass(frozen=True)
class SecretsKeysArgs:
    stacks: Sequence[str]
    project: str


class SecretsKeys(pulumi.ComponentResource):
    """One key per main-program stack, so a stack's roles decrypt its secrets and no other's.
    The key policy stays the account's default (IAM policies decide); protected, 30-day window."""

    arns: dict[str, pulumi.Output[str]]

    def __init__(
        self, name: str, args: SecretsKeysArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("eks-pipeline-bootstrap:state:SecretsKeys", name, None, opts)
        self.arns = {}
        for stack in args.stacks:
            key = aws.kms.Key(
                f"{name}-{stack}",
                description=f"Pulumi secrets of {args.project} {stack}",
                enable_key_rotation=True,
                deletion_window_in_days=30,
                opts=pulumi.ResourceOptions(parent=self, protect=True),
            )
            aws.kms.Alias(
                f"{name}-{stack}",
                name=f"alias/pulumi-secrets-{stack}",
                target_key_id=key.key_id,
                opts=pulumi.ResourceOptions(parent=self),
            )
            self.arns[stack] = key.arn
        self.register_outputs({"arns": self.arns})
