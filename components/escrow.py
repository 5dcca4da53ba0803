"""Sealing-key escrow (design in ``design.escrow``): the Sealed Secrets controller's key, pushed
to Secrets Manager with the stack's key, and pulled back on a rebuilt cluster."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components.irsa import IrsaRole, IrsaRoleArgs, OidcIdentity
from design import escrow as design
from design import naming
from design.aws import AwsContext
from design.labels import MANAGED_BY

# pulumi-kubernetes waits for this before what depends on the ExternalSecret goes ahead
# (pulumi/pulumi-kubernetes@v4.32.0:provider/pkg/metadata/overrides.go, ReadyCondition).
WAIT_FOR_SYNC = {"pulumi.com/waitFor": "condition=Ready"}


@dataclass(frozen=True)
class SealingKeyEscrowArgs:
    cluster_name: str
    environment: str
    namespace: str
    restore: bool
    aws: AwsContext
    key_arn: pulumi.Input[str]
    oidc: OidcIdentity
    provider: k8s.Provider
    # External Secrets' CRDs (its release).
    after: Sequence[pulumi.Resource]


class SealingKeyEscrow(pulumi.ComponentResource):
    """``restored`` is what the controller must wait for: the key back in place, or nothing."""

    restored: list[pulumi.Resource]

    def __init__(
        self, name: str, args: SealingKeyEscrowArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("eks-config-storage:secrets:SealingKeyEscrow", name, None, opts)
        role = IrsaRole(
            f"{name}-role",
            IrsaRoleArgs(
                role_name=naming.role_name(args.cluster_name, "sealing-key-escrow"),
                oidc=args.oidc,
                permissions_boundary=args.aws.permissions_boundary,
                service_accounts=[(args.namespace, design.SERVICE_ACCOUNT)],
                inline_policies={
                    "escrow": pulumi.Output.from_input(args.key_arn).apply(
                        lambda key_arn: design.escrow_policy(
                            aws=args.aws, environment=args.environment, key_arn=key_arn
                        )
                    )
                },
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        child = pulumi.ResourceOptions(parent=self, provider=args.provider)
        after_crds = pulumi.ResourceOptions.merge(
            child, pulumi.ResourceOptions(depends_on=list(args.after))
        )
        account = k8s.core.v1.ServiceAccount(
            f"{name}-sa",
            metadata={
                "name": design.SERVICE_ACCOUNT,
                "namespace": args.namespace,
                "labels": MANAGED_BY,
                "annotations": {"eks.amazonaws.com/role-arn": role.arn},
            },
            opts=child,
        )
        store = k8s.apiextensions.CustomResource(
            f"{name}-store",
            api_version=design.ESO_API,
            kind="ClusterSecretStore",
            metadata={"name": design.STORE, "labels": MANAGED_BY},
            spec=design.store_spec(region=args.aws.region, namespace=args.namespace),
            opts=pulumi.ResourceOptions.merge(
                after_crds, pulumi.ResourceOptions(depends_on=[account])
            ),
        )
        k8s.apiextensions.CustomResource(
            f"{name}-push",
            api_version=design.PUSH_API,
            kind="PushSecret",
            metadata={
                "name": "sealing-key-escrow",
                "namespace": args.namespace,
                "labels": MANAGED_BY,
            },
            spec=pulumi.Output.from_input(args.key_arn).apply(
                lambda key_arn: design.push_spec(environment=args.environment, key_arn=key_arn)
            ),
            opts=pulumi.ResourceOptions.merge(
                after_crds, pulumi.ResourceOptions(depends_on=[store])
            ),
        )
        self.restored = []
        if args.restore:
            self.restored.append(
                k8s.apiextensions.CustomResource(
                    f"{name}-restore",
                    api_version=design.ESO_API,
                    kind="ExternalSecret",
                    metadata={
                        "name": design.RESTORED_SECRET,
                        "namespace": args.namespace,
                        "labels": MANAGED_BY,
                        "annotations": WAIT_FOR_SYNC,
                    },
                    spec=design.restore_spec(environment=args.environment),
                    opts=pulumi.ResourceOptions.merge(
                        after_crds, pulumi.ResourceOptions(depends_on=[store])
                    ),
                )
            )
        self.register_outputs(
            {"roleArn": role.arn, "remoteKey": design.remote_key(args.environment)}
        )
