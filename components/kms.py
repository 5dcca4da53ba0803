"""The customer-managed envelope key and its policy.

The policy is a separate resource: it admits roles (the EBS CSI driver's, for one) that can only
exist after the cluster, and the cluster itself needs the key. Until the policy lands the key has
AWS's default policy (account root only), which is never weaker than ours.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from design import iam


@dataclass(frozen=True)
class EnvelopeKeyArgs:
    alias: str
    description: str
    deletion_window_days: int
    protect: bool


class EnvelopeKey(pulumi.ComponentResource):
    """A symmetric KMS key with yearly rotation and an alias."""

    arn: pulumi.Output[str]
    key_id: pulumi.Output[str]

    def __init__(
        self, name: str, args: EnvelopeKeyArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("eks-config-storage:kms:EnvelopeKey", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        # Losing this key makes every Secret in etcd and every encrypted volume unreadable.
        key = aws.kms.Key(
            f"{name}-key",
            description=args.description,
            enable_key_rotation=True,
            rotation_period_in_days=365,
            deletion_window_in_days=args.deletion_window_days,
            key_usage="ENCRYPT_DECRYPT",
            customer_master_key_spec="SYMMETRIC_DEFAULT",
            opts=pulumi.ResourceOptions(
                parent=self, protect=args.protect, retain_on_delete=args.protect
            ),
        )
        aws.kms.Alias(f"{name}-alias", name=args.alias, target_key_id=key.key_id, opts=child)
        self.arn = key.arn
        self.key_id = key.key_id
        self.register_outputs({"arn": self.arn, "keyId": self.key_id})


@dataclass(frozen=True)
class EnvelopeKeyPolicyArgs:
    key_id: pulumi.Input[str]
    key_arn: pulumi.Input[str]
    root_arn: str
    admin_arns: Sequence[str] = ()
    user_arns: Sequence[pulumi.Input[str]] = ()
    service_user_arns: Sequence[pulumi.Input[str]] = ()


class EnvelopeKeyPolicy(pulumi.ComponentResource):
    """The explicit key policy (see ``design.iam.key_policy`` for who may do what).

    ``key_arn`` resolves once the policy is in place: whatever encrypts through a principal the
    policy admits (Auto Scaling launching nodes) takes the key from here, and so waits for it.
    """

    document: pulumi.Output[str]
    key_arn: pulumi.Output[str]

    def __init__(
        self, name: str, args: EnvelopeKeyPolicyArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("eks-config-storage:kms:EnvelopeKeyPolicy", name, None, opts)
        users = pulumi.Output.all(*args.user_arns)
        service_users = pulumi.Output.all(*args.service_user_arns)
        self.document = pulumi.Output.all(users, service_users).apply(
            lambda arns: json.dumps(
                iam.key_policy(
                    root_arn=args.root_arn,
                    admin_arns=list(args.admin_arns),
                    user_arns=arns[0],
                    service_user_arns=arns[1],
                )
            )
        )
        policy = aws.kms.KeyPolicy(
            f"{name}-policy",
            key_id=args.key_id,
            policy=self.document,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.key_arn = pulumi.Output.all(args.key_arn, policy.id).apply(lambda v: v[0])
        self.register_outputs({"document": self.document, "keyArn": self.key_arn})
