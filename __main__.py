"""eks-config-storage: the Config & Storage layer of an EKS platform.

Composition only: load and validate config, build the components in dependency order, export.
"""

import pulumi

from components.cluster import Cluster, ClusterArgs
from components.context import current_aws_context
from components.kms import EnvelopeKey, EnvelopeKeyArgs, EnvelopeKeyPolicy, EnvelopeKeyPolicyArgs
from components.network import Network, NetworkArgs
from components.nodes import NodeGroups, NodeGroupsArgs
from config import pulumi_source
from design import iam, naming

cfg = pulumi_source.load()
aws_ctx = current_aws_context()

key = EnvelopeKey(
    "envelope",
    EnvelopeKeyArgs(
        alias=naming.key_alias(cfg.cluster_name),
        description=f"Envelope key of EKS cluster {cfg.cluster_name}: Secrets, volumes, files",
        deletion_window_days=cfg.kms.deletion_window_days,
        protect=cfg.protect,
    ),
)

network = Network(
    "network",
    NetworkArgs(
        cluster_name=cfg.cluster_name, create=cfg.network.create, existing=cfg.network.existing
    ),
)

cluster = Cluster(
    "cluster",
    ClusterArgs(
        cluster_name=cfg.cluster_name,
        kubernetes_version=cfg.kubernetes_version,
        subnet_ids=network.private_subnet_ids,
        key_arn=key.arn,
        partition=aws_ctx.partition,
        region=aws_ctx.region,
        public_access=cfg.endpoint.public_access,
        public_access_cidrs=cfg.endpoint.public_access_cidrs,
        admin_role_arns=cfg.admin_role_arns,
        bootstrap_creator_admin=cfg.bootstrap_creator_admin,
        log_retention_days=cfg.log_retention_days,
        protect=cfg.protect,
    ),
)

key_policy = EnvelopeKeyPolicy(
    "envelope",
    EnvelopeKeyPolicyArgs(
        key_id=key.key_id,
        key_arn=key.arn,
        partition=aws_ctx.partition,
        account_id=aws_ctx.account_id,
        admin_arns=cfg.kms.admin_arns,
        user_arns=[cluster.role_arn],
        service_user_arns=[iam.autoscaling_service_role_arn(aws_ctx.partition, aws_ctx.account_id)],
    ),
)

nodes = NodeGroups(
    "nodes",
    NodeGroupsArgs(
        cluster_name=cluster.name,
        name_prefix=cfg.cluster_name,
        subnet_ids=network.private_subnet_ids,
        # From the policy, not the key: Auto Scaling must be admitted before it launches
        # instances whose root volumes use the key.
        key_arn=key_policy.key_arn,
        partition=aws_ctx.partition,
        groups=cfg.node_groups,
    ),
)

pulumi.export("environment", cfg.environment)
pulumi.export("clusterName", cluster.name)
pulumi.export("kmsKeyArn", key.arn)
pulumi.export("oidcProviderArn", cluster.oidc.provider_arn)
pulumi.export("vpcId", network.vpc_id)
