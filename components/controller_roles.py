"""Roles of the platform's in-cluster controllers that work with the envelope key
(the EBS CSI driver, External Secrets Operator).

They trust IRSA, Pod Identity or both, as the stack's ``identity`` says. They are created
right after the cluster's OIDC provider and before the key policy, which names
the EBS CSI role; the node groups wait for the key policy, and the controllers themselves (EKS
add-ons, the operator's chart) wait for the nodes. The EFS CSI role is not here: it is scoped to
the file system, so the EFS component creates it after the file system.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components.irsa import IrsaRole, IrsaRoleArgs
from components.platform import Platform
from design import apps, iam, identity, naming

EBS_CSI_SERVICE_ACCOUNTS = [("kube-system", "ebs-csi-controller-sa")]
ESO_SERVICE_ACCOUNT = "external-secrets"


@dataclass(frozen=True)
class ControllerRolesArgs:
    platform: Platform
    external_secrets_namespace: str


class ControllerRoles(pulumi.ComponentResource):
    ebs_csi: IrsaRole
    external_secrets: IrsaRole

    def __init__(
        self, name: str, args: ControllerRolesArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("eks-config-storage:iam:ControllerRoles", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        mode = {
            "mode": args.platform.identity,
            "cluster_arn": args.platform.cluster_arn,
            "cluster_name": args.platform.cluster,
        }
        self.ebs_csi = IrsaRole(
            f"{name}-ebs-csi",
            IrsaRoleArgs(
                role_name=naming.role_name(args.platform.cluster_name, "ebs-csi"),
                oidc=args.platform.oidc,
                permissions_boundary=args.platform.aws.permissions_boundary,
                service_accounts=EBS_CSI_SERVICE_ACCOUNTS,
                # V2 scopes the driver to volumes and snapshots tagged ebs.csi.aws.com/cluster,
                # which it puts on everything it provisions (kubernetes-sigs/aws-ebs-csi-driver@
                # v1.64.0:docs/install.md); with Pod Identity the cluster-scoped policy narrows
                # that to this cluster's (design.identity). The key rights are the inline policy.
                managed_policy_arns=[
                    args.platform.aws.managed_policy_arn(f"service-role/{policy}")
                    for policy in identity.ebs_csi_policies(args.platform.identity)
                ],
                # The add-on makes the controller's association (storage_drivers).
                addon_service_accounts=[sa for _, sa in EBS_CSI_SERVICE_ACCOUNTS],
                **mode,
                inline_policies={
                    "envelope-key": pulumi.Output.from_input(args.platform.key_arn).apply(
                        iam.ebs_csi_key_policy
                    )
                },
            ),
            opts=child,
        )
        self.external_secrets = IrsaRole(
            f"{name}-external-secrets",
            IrsaRoleArgs(
                role_name=naming.role_name(args.platform.cluster_name, "external-secrets"),
                oidc=args.platform.oidc,
                permissions_boundary=args.platform.aws.permissions_boundary,
                service_accounts=[(args.external_secrets_namespace, ESO_SERVICE_ACCOUNT)],
                **mode,
                inline_policies={
                    "environment-secrets": pulumi.Output.from_input(args.platform.key_arn).apply(
                        lambda key_arn: apps.eso_policy(
                            aws=args.platform.aws,
                            environment=args.platform.environment,
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
