"""IRSA roles of the platform's in-cluster controllers that work with the envelope key
(the EBS CSI driver, External Secrets Operator).

They are created right after the cluster's OIDC provider and before the key policy, which names
the EBS CSI role; the node groups wait for the key policy, and the controllers themselves (EKS
add-ons, the operator's chart) wait for the nodes. The EFS CSI role is not here: it is scoped to
the file system, so the EFS component creates it after the file system.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components.irsa import IrsaRole, IrsaRoleArgs, OidcIdentity
from design import apps, iam, naming
from design.aws import AwsContext

EBS_CSI_SERVICE_ACCOUNTS = [("kube-system", "ebs-csi-controller-sa")]
ESO_SERVICE_ACCOUNT = "external-secrets"


@dataclass(frozen=True)
class ControllerRolesArgs:
    cluster_name: str
    oidc: OidcIdentity
    key_arn: pulumi.Input[str]
    aws: AwsContext
    environment: str
    external_secrets_namespace: str


class ControllerRoles(pulumi.ComponentResource):
    ebs_csi: IrsaRole
    external_secrets: IrsaRole

    def __init__(
        self, name: str, args: ControllerRolesArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("eks-config-storage:iam:ControllerRoles", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.ebs_csi = IrsaRole(
            f"{name}-ebs-csi",
            IrsaRoleArgs(
                role_name=naming.role_name(args.cluster_name, "ebs-csi"),
                oidc=args.oidc,
                permissions_boundary=args.aws.permissions_boundary,
                service_accounts=EBS_CSI_SERVICE_ACCOUNTS,
                # V2 scopes the driver to volumes and snapshots tagged ebs.csi.aws.com/cluster,
                # which it puts on everything it provisions (kubernetes-sigs/aws-ebs-csi-driver@
                # v1.64.0:docs/install.md); the key rights are the inline policy below.
                managed_policy_arns=[
                    args.aws.managed_policy_arn("service-role/AmazonEBSCSIDriverPolicyV2")
                ],
                inline_policies={
                    "envelope-key": pulumi.Output.from_input(args.key_arn).apply(
                        iam.ebs_csi_key_policy
                    )
                },
            ),
            opts=child,
        )
        self.external_secrets = IrsaRole(
            f"{name}-external-secrets",
            IrsaRoleArgs(
                role_name=naming.role_name(args.cluster_name, "external-secrets"),
                oidc=args.oidc,
                permissions_boundary=args.aws.permissions_boundary,
                service_accounts=[(args.external_secrets_namespace, ESO_SERVICE_ACCOUNT)],
                inline_policies={
                    "environment-secrets": pulumi.Output.from_input(args.key_arn).apply(
                        lambda key_arn: apps.eso_policy(
                            aws=args.aws,
                            environment=args.environment,
                            key_arn=key_arn,
                        )
                    )
                },
            ),
            opts=child,
        )
        self.register_outputs(
            {"ebsCsiRoleArn": self.ebs_csi.arn, "externalSecretsRoleArn": self.external_secrets.arn}
        )
