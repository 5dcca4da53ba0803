"""The EKS control plane: envelope encryption, API-mode access entries, logs, IRSA and the
Kubernetes provider every in-cluster object of this program is created with."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from components.irsa import OidcIdentity
from config.schema import Endpoint
from design import iam, naming
from design.aws import AwsContext
from design.kubeconfig import exec_kubeconfig

CONTROL_PLANE_LOG_TYPES = ["api", "audit", "authenticator", "controllerManager", "scheduler"]
CLUSTER_ADMIN_POLICY = "AmazonEKSClusterAdminPolicy"
VIEW_POLICY = "AmazonEKSViewPolicy"
HTTPS = 443


def source_field(source: str) -> dict[str, str]:
    """An ingress rule's source: a security group (``sg-...``) or an IPv4 CIDR."""
    if source.startswith("sg-"):
        return {"referenced_security_group_id": source}
    return {"cidr_ipv4": source}


@dataclass(frozen=True)
class ClusterArgs:
    cluster_name: str
    kubernetes_version: str
    support_type: str
    subnet_ids: Sequence[pulumi.Input[str]]
    key_arn: pulumi.Input[str]
    aws: AwsContext
    endpoint: Endpoint
    admin_role_arns: Sequence[str]
    preview_role_arns: Sequence[str]
    bootstrap_creator_admin: bool
    log_retention_days: int
    protect: bool


class Cluster(pulumi.ComponentResource):
    name: pulumi.Output[str]
    role_arn: pulumi.Output[str]
    oidc: OidcIdentity
    security_group_id: pulumi.Output[str]
    provider: k8s.Provider

    def __init__(self, name: str, args: ClusterArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("eks-config-storage:eks:Cluster", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        role = aws.iam.Role(
            f"{name}-role",
            name=naming.role_name(args.cluster_name, "cluster"),
            assume_role_policy=json.dumps(
                iam.service_trust_policy("eks.amazonaws.com", tag_session=True)
            ),
            permissions_boundary=args.aws.permissions_boundary,
            opts=child,
        )
        cluster_policy = aws.iam.RolePolicyAttachment(
            f"{name}-AmazonEKSClusterPolicy",
            role=role.name,
            policy_arn=args.aws.managed_policy_arn("AmazonEKSClusterPolicy"),
            opts=child,
        )
        encryption_policy = aws.iam.RolePolicy(
            f"{name}-envelope-encryption",
            name="envelope-encryption",
            role=role.name,
            policy=pulumi.Output.from_input(args.key_arn).apply(
                lambda arn: json.dumps(iam.cluster_encryption_policy(arn))
            ),
            opts=child,
        )
        # Created before the cluster so EKS does not create it with unbounded retention. Its
        # audit log is evidence: protected stacks keep it even if the cluster goes.
        logs = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            name=naming.control_plane_log_group(args.cluster_name),
            retention_in_days=args.log_retention_days,
            opts=pulumi.ResourceOptions(
                parent=self, protect=args.protect, retain_on_delete=args.protect
            ),
        )

        cluster = aws.eks.Cluster(
            f"{name}-eks",
            name=args.cluster_name,
            version=args.kubernetes_version,
            role_arn=role.arn,
            vpc_config={
                "subnet_ids": list(args.subnet_ids),
                "endpoint_private_access": True,
                "endpoint_public_access": args.endpoint.public_access,
                "public_access_cidrs": list(args.endpoint.public_access_cidrs)
                if args.endpoint.public_access
                else None,
            },
            encryption_config={"provider": {"key_arn": args.key_arn}, "resources": ["secrets"]},
            enabled_cluster_log_types=CONTROL_PLANE_LOG_TYPES,
            access_config={
                "authentication_mode": "API",
                "bootstrap_cluster_creator_admin_permissions": args.bootstrap_creator_admin,
            },
            upgrade_policy={"support_type": args.support_type},
            deletion_protection=args.protect,
            opts=pulumi.ResourceOptions(
                parent=self,
                protect=args.protect,
                depends_on=[cluster_policy, encryption_policy, logs],
            ),
        )

        issuer = cluster.identities.apply(lambda ids: ids[0].oidcs[0].issuer)
        oidc_provider = aws.iam.OpenIdConnectProvider(
            f"{name}-oidc",
            url=issuer,
            client_id_lists=[iam.STS_AUDIENCE],
            opts=child,
        )

        def access(kind: str, role_arn: str, policy: str) -> aws.eks.AccessPolicyAssociation:
            logical = f"{name}-{kind}-{naming.arn_resource_name(role_arn)}"
            entry = aws.eks.AccessEntry(
                logical,
                cluster_name=cluster.name,
                principal_arn=role_arn,
                type="STANDARD",
                opts=child,
            )
            return aws.eks.AccessPolicyAssociation(
                logical,
                cluster_name=cluster.name,
                principal_arn=entry.principal_arn,
                policy_arn=f"arn:{args.aws.partition}:eks::aws:cluster-access-policy/{policy}",
                access_scope={"type": "cluster"},
                opts=child,
            )

        admin_access = [access("admin", arn, CLUSTER_ADMIN_POLICY) for arn in args.admin_role_arns]
        # Previews need only to authenticate and read: pulumi-kubernetes diffs on the client and
        # a dry-run the role may not make falls back to the inputs
        # (pulumi/pulumi-kubernetes@v4.32.0:provider/pkg/provider/provider.go), while a role
        # that could make dry-runs could make the writes (Kubernetes authorises both alike).
        for arn in args.preview_role_arns:
            access("preview", arn, VIEW_POLICY)

        security_group_id = cluster.vpc_config.cluster_security_group_id
        api_access = [
            aws.vpc.SecurityGroupIngressRule(
                f"{name}-api-from-{naming.source_name(source)}",
                security_group_id=security_group_id,
                ip_protocol="tcp",
                from_port=HTTPS,
                to_port=HTTPS,
                **source_field(source),
                description=f"Kubernetes API from {source}",
                opts=child,
            )
            for source in args.endpoint.private_sources
        ]

        kubeconfig = pulumi.Output.all(
            cluster.name, cluster.endpoint, cluster.certificate_authority.data
        ).apply(
            lambda v: json.dumps(
                exec_kubeconfig(
                    cluster_name=v[0], endpoint=v[1], ca_data=v[2], region=args.aws.region
                )
            )
        )
        # Waits for admin access and the way in, so no Kubernetes call is made before it is
        # both allowed and possible.
        self.provider = k8s.Provider(
            f"{name}-k8s",
            kubeconfig=kubeconfig,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[*admin_access, *api_access]),
        )

        self.name = cluster.name
        self.arn = cluster.arn
        self.version = cluster.version
        self.role_arn = role.arn
        self.security_group_id = security_group_id
        self.oidc = OidcIdentity(provider_arn=oidc_provider.arn, issuer_url=issuer)
        self.register_outputs(
            {
                "name": self.name,
                "arn": self.arn,
                "endpoint": cluster.endpoint,
                "oidcProviderArn": oidc_provider.arn,
                "oidcIssuer": issuer,
                "clusterSecurityGroupId": self.security_group_id,
            }
        )
