"""eks-config-storage: the Config & Storage layer of an EKS platform.

Composition only: load and validate config, build the components in dependency order, export.
"""

import pulumi

from components import backend_infrastructure
from components.addons import AddonsArgs, ClusterAddons, PodIdentityAgent, PodNetwork
from components.alerts import BackupAlerts, BackupAlertsArgs
from components.app import AppArgs, AppNamespace, component_name
from components.backup import OffClusterBackups, OffClusterBackupsArgs
from components.cluster import Cluster, ClusterArgs
from components.context import current_aws_context, warn_about_account_settings
from components.controller_roles import ControllerRoles, ControllerRolesArgs
from components.drills import RestoreDrills, RestoreDrillsArgs
from components.escrow import SealingKeyEscrow, SealingKeyEscrowArgs
from components.external_secrets import (
    PARAMETER_STORE,
    SECRETS_MANAGER_STORE,
    ExternalSecretsOperator,
    ExternalSecretsOperatorArgs,
)
from components.kms import EnvelopeKey, EnvelopeKeyArgs, EnvelopeKeyPolicy, EnvelopeKeyPolicyArgs
from components.network import Network, NetworkArgs
from components.nodes import NodeGroups, NodeGroupsArgs
from components.platform import Platform
from components.reconciler import StoragePolicyReconciler, StoragePolicyReconcilerArgs
from components.sealed_secrets import CONTROLLER_NAME as SEALED_SECRETS_CONTROLLER
from components.sealed_secrets import SealedSecretsController, SealedSecretsControllerArgs
from components.snapshots import SnapshotSchedules, SnapshotSchedulesArgs
from components.storage_classes import StorageClasses, StorageClassesArgs
from components.storage_drivers import StorageDrivers, StorageDriversArgs
from config import pulumi_source, rules
from config.catalog import Catalog
from design import identity, naming
from design.backup import excluded_namespaces
from design.storage.registry import REGISTRY

pulumi_source.require_engine()
cfg = pulumi_source.load()
# Every derived view of the config (class names, coverage, watched jobs), computed once.
catalog = Catalog.of(cfg)
aws_ctx = current_aws_context(cfg.iam.permissions_boundary)
pulumi_source.check_deployer(cfg, aws_ctx.caller_arn)
warn_about_account_settings(aws_ctx)
# What Pod Identity trust conditions on (the eks-cluster-arn session tag): known before the
# cluster exists, so every trust document is whole at preview.
cluster_arn = identity.cluster_arn(
    aws_ctx.partition, aws_ctx.region, aws_ctx.account_id, cfg.cluster_name
)

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
        support_type=cfg.upgrade_policy.support_type,
        subnet_ids=network.private_subnet_ids,
        key_arn=key.arn,
        aws=aws_ctx,
        endpoint=cfg.endpoint,
        admin_role_arns=cfg.admin_role_arns,
        preview_role_arns=cfg.preview_role_arns,
        bootstrap_creator_admin=cfg.bootstrap_creator_admin,
        log_retention_days=cfg.log_retention_days,
        protect=cfg.protect,
    ),
)

# What every component below shares: the stack's identity, AWS context, key and cluster.
platform = Platform(
    cluster_name=cfg.cluster_name,
    environment=cfg.environment,
    protect=cfg.protect,
    identity=cfg.identity,
    cluster_arn=cluster_arn,
    aws=aws_ctx,
    key_arn=key.arn,
    cluster=cluster.name,
    oidc=cluster.oidc,
    provider=cluster.provider,
    catalog=catalog,
)

controllers = ControllerRoles(
    "controllers",
    ControllerRolesArgs(
        platform=platform, external_secrets_namespace=cfg.external_secrets.namespace
    ),
)

key_policy = EnvelopeKeyPolicy(
    "envelope",
    EnvelopeKeyPolicyArgs(
        key_id=key.key_id,
        key_arn=key.arn,
        root_arn=aws_ctx.root_arn,
        admin_arns=cfg.kms.admin_arns,
        user_arns=[cluster.role_arn],
        service_user_arns=[
            aws_ctx.autoscaling_service_role_arn,
            controllers.ebs_csi.arn,
        ],
    ),
)

pod_network = PodNetwork(
    "pod-network",
    AddonsArgs(
        cluster_name=cluster.name,
        kubernetes_version=cfg.kubernetes_version,
        versions=cfg.addons,
    ),
)

nodes = NodeGroups(
    "nodes",
    NodeGroupsArgs(
        cluster_name=cluster.name,
        cluster_version=cluster.version,
        kubernetes_version=cfg.kubernetes_version,
        after=[pod_network.vpc_cni],
        name_prefix=cfg.cluster_name,
        subnet_ids=network.private_subnet_ids,
        # From the policy, not the key: Auto Scaling must be admitted before it launches
        # instances whose root volumes use the key.
        key_arn=key_policy.key_arn,
        aws=aws_ctx,
        groups=cfg.node_groups,
    ),
)

ClusterAddons(
    "addons",
    AddonsArgs(
        cluster_name=cluster.name,
        kubernetes_version=cfg.kubernetes_version,
        versions=cfg.addons,
        nodes=nodes.groups,
    ),
)

# Only when some workload uses Pod Identity (or its pin asks for it); the controllers on Pod
# Identity wait for it.
agent = []
if rules.agent_needed(cfg):
    agent = [
        PodIdentityAgent(
            "pod-identity",
            AddonsArgs(
                cluster_name=cluster.name,
                kubernetes_version=cfg.kubernetes_version,
                versions=cfg.addons,
                nodes=nodes.groups,
            ),
        ).addon
    ]
controllers_agent = agent if identity.trusts_pod_identity(cfg.identity) else []

# Each backend's stack-level resources (EFS: the file system, mount targets, driver role).
infrastructure = backend_infrastructure.build(
    REGISTRY,
    platform,
    cfg,
    backend_infrastructure.Network(
        vpc_id=network.vpc_id,
        private_subnets=network.private_subnets,
        node_security_group_id=cluster.security_group_id,
    ),
)

drivers = StorageDrivers(
    "drivers",
    StorageDriversArgs(
        cluster_name=cluster.name,
        kubernetes_version=cfg.kubernetes_version,
        versions=cfg.addons,
        role_arns={
            "ebs": controllers.ebs_csi.arn,
            **{name: infra.role_arn for name, infra in infrastructure.items()},
        },
        nodes=nodes.groups,
        identity=cfg.identity,
        tag_cluster_id=cfg.cluster_name,
        agent=controllers_agent[0] if controllers_agent else None,
    ),
)

classes = StorageClasses(
    "classes",
    StorageClassesArgs(
        platform=platform,
        file_systems={k: v for infra in infrastructure.values() for k, v in infra.inputs.items()},
        drivers=drivers.by_backend,
        snapshot_controller=drivers.snapshot_controller,
        snapshot_deletion_policy=cfg.snapshots.deletion_policy,
        demote_gp2=cfg.storage.demote_gp2,
        file_system_backup=any(infra.file_system_backup for infra in infrastructure.values()),
    ),
)

for name, infra in infrastructure.items():
    if infra.in_use is not None:
        holders = [infra.resource, drivers.by_backend[name], *classes.by_backend.get(name, [])]
        infra.in_use(holders, cluster.provider, cfg.protect)

snapshots = SnapshotSchedules(
    "snapshots",
    SnapshotSchedulesArgs(
        namespace=cfg.snapshots.namespace,
        image=cfg.snapshots.job_image,
        policies=cfg.snapshots.policies,
        snapshot_class_name=classes.snapshot_class_name,
        provider=cluster.provider,
        covered=catalog.by_snapshot_policy,
        snapshot_class_names=classes.snapshot_class_names,
    ),
)

# Existing volumes and snapshots follow policy; restores are drilled.
drills = None
if cfg.restore_drills:
    drills = RestoreDrills(
        "drills",
        RestoreDrillsArgs(
            drills=cfg.restore_drills, image=cfg.snapshots.job_image, provider=cluster.provider
        ),
    )
StoragePolicyReconciler(
    "storage-policy",
    StoragePolicyReconcilerArgs(
        namespace=snapshots.namespace,
        image=cfg.snapshots.job_image,
        reclaim_policies=classes.reclaim_policies,
        snapshot_classes=classes.snapshot_class_names,
        snapshot_deletion_policy=cfg.snapshots.deletion_policy,
        exempt_namespaces=[drills.scratch_namespace] if drills else [],
        provider=cluster.provider,
    ),
)

external_secrets = ExternalSecretsOperator(
    "external-secrets",
    ExternalSecretsOperatorArgs(
        platform=platform,
        chart=cfg.external_secrets,
        role_arn=controllers.external_secrets.arn,
        nodes=[*nodes.groups, *controllers_agent],
    ),
)

if cfg.backups.enabled:
    OffClusterBackups(
        "backups",
        OffClusterBackupsArgs(
            platform=platform,
            settings=cfg.backups,
            excluded_namespaces=excluded_namespaces(
                velero=cfg.backups.namespace,
                sealing_key=cfg.sealed_secrets.namespace,
                scratch=[drills.scratch_namespace] if drills else [],
            ),
            nodes=[*nodes.groups, *controllers_agent],
            service_monitor_labels=(
                cfg.monitoring.rule_labels if cfg.monitoring.prometheus_rules else None
            ),
        ),
    )

if cfg.monitoring.prometheus_rules:
    BackupAlerts(
        "alerts",
        BackupAlertsArgs(
            jobs=catalog.watched_jobs,
            velero_schedules=catalog.velero_schedules,
            namespace=cfg.monitoring.namespace,
            rule_labels=cfg.monitoring.rule_labels,
            provider=cluster.provider,
        ),
    )

escrow = None
if cfg.sealed_secrets.escrow:
    escrow = SealingKeyEscrow(
        "sealing-key",
        SealingKeyEscrowArgs(
            platform=platform,
            namespace=cfg.sealed_secrets.namespace,
            restore=cfg.sealed_secrets.restore_escrowed_key,
            generation=cfg.sealed_secrets.escrow_generation,
            restore_generations=cfg.sealed_secrets.restore_escrowed_generations,
            controller=SEALED_SECRETS_CONTROLLER,
            image=cfg.snapshots.job_image,
            after=[external_secrets.release],
        ),
    )

SealedSecretsController(
    "sealed-secrets",
    SealedSecretsControllerArgs(
        chart=cfg.sealed_secrets,
        provider=cluster.provider,
        nodes=nodes.groups,
        key=escrow.restored if escrow else (),
    ),
)

apps = [
    AppNamespace(
        component_name(app),
        AppArgs(
            platform=platform,
            app=app,
            storage_classes=sorted(classes.classes),
            retired_classes=sorted(classes.retired),
            secrets_manager_store=SECRETS_MANAGER_STORE,
            parameter_store=PARAMETER_STORE,
            secret_stores=list(external_secrets.stores.values()),
            identity=rules.app_identity(cfg, app),
        ),
    )
    for app in cfg.apps
]

pulumi.export("environment", cfg.environment)
pulumi.export("ebsEncryptionByDefault", aws_ctx.ebs_encryption_by_default)
pulumi.export("clusterName", cluster.name)
pulumi.export("kmsKeyArn", key.arn)
pulumi.export("oidcProviderArn", cluster.oidc.provider_arn)
pulumi.export("vpcId", network.vpc_id)
pulumi.export("privateSubnetIds", network.private_subnets)
pulumi.export("storageClasses", sorted(classes.classes))
for infra in infrastructure.values():
    for output, value in infra.exports.items():
        pulumi.export(output, value)
pulumi.export(
    "appRoleArns", {app.name: ns.role_arn for app, ns in zip(cfg.apps, apps, strict=True)}
)
