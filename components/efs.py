"""The stack's EFS file system: encrypted with the envelope key, reachable only from the nodes
over TLS, one mount target per zone the nodes run in, and the EFS CSI driver's role scoped to it."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from components.backend_infrastructure import BackendInfrastructure
from components.irsa import IrsaRole, IrsaRoleArgs
from components.platform import Platform
from design import iam, naming
from design.labels import MANAGED_BY
from design.storage import efs as efs_backend
from design.storage.efs import CLUSTER_TAG as EFS_CLUSTER_TAG

NFS_PORT = 2049
EFS_CSI_SERVICE_ACCOUNTS = [
    ("kube-system", "efs-csi-controller-sa"),
    ("kube-system", "efs-csi-node-sa"),
]


@dataclass(frozen=True)
class EfsStorageArgs:
    platform: Platform
    settings: efs_backend.FileSystem
    vpc_id: pulumi.Input[str]
    private_subnets: dict[str, pulumi.Input[str]]
    node_security_group_id: pulumi.Input[str]


class EfsStorage(pulumi.ComponentResource):
    file_system_id: pulumi.Output[str]
    csi_role: IrsaRole
    mount_targets: list[aws.efs.MountTarget]

    def __init__(self, name: str, args: EfsStorageArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("eks-config-storage:storage:EfsStorage", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        efs = args.settings
        lifecycle = [{"transition_to_primary_storage_class": "AFTER_1_ACCESS"}]
        if efs.transition_to_ia_days is not None:
            days = efs.transition_to_ia_days
            lifecycle.insert(0, {"transition_to_ia": f"AFTER_{days}_DAY{'S' if days > 1 else ''}"})

        # Encryption, performance mode and creation token force replacement: protect in prod.
        fs = aws.efs.FileSystem(
            f"{name}-fs",
            creation_token=f"{args.platform.cluster_name}-efs",
            encrypted=True,
            kms_key_id=args.platform.key_arn,
            performance_mode=efs.performance_mode,
            throughput_mode=efs.throughput_mode,
            provisioned_throughput_in_mibps=efs.provisioned_throughput_mibps,
            lifecycle_policies=lifecycle,
            tags={"Name": f"{args.platform.cluster_name}-efs"},
            opts=pulumi.ResourceOptions(
                parent=self, protect=args.platform.protect, retain_on_delete=args.platform.protect
            ),
        )

        sg = aws.ec2.SecurityGroup(
            f"{name}-mount-targets",
            vpc_id=args.vpc_id,
            description=(
                f"EFS mount targets of {args.platform.cluster_name}: NFS from the nodes only"
            ),
            tags={"Name": f"{args.platform.cluster_name}-efs"},
            opts=child,
        )
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-nfs-from-nodes",
            security_group_id=sg.id,
            referenced_security_group_id=args.node_security_group_id,
            ip_protocol="tcp",
            from_port=NFS_PORT,
            to_port=NFS_PORT,
            description="NFS (TLS-wrapped by efs-utils) from the cluster's nodes",
            opts=child,
        )
        # The data path, protected with the file system: Pulumi deletes dependents before the
        # resource they depend on, and refuses a protected resource only at its own delete
        # (pulumi/pulumi: pkg/resource/deploy/step.go), so protecting the file system alone
        # would let a removal take the mount targets (every EFS volume unreachable) and the
        # backup policy (deleting it sets backups DISABLED,
        # hashicorp/terraform-provider-aws: internal/service/efs/backup_policy.go) first.
        data_path = pulumi.ResourceOptions(parent=self, protect=args.platform.protect)
        self.mount_targets = [
            aws.efs.MountTarget(
                f"{name}-{zone}",
                file_system_id=fs.id,
                subnet_id=subnet_id,
                security_groups=[sg.id],
                opts=data_path,
            )
            for zone, subnet_id in sorted(args.private_subnets.items())
        ]

        aws.efs.FileSystemPolicy(
            f"{name}-policy",
            file_system_id=fs.id,
            policy=fs.arn.apply(
                lambda arn: json.dumps(
                    iam.efs_file_system_policy(
                        file_system_arn=arn,
                        account_root_arn=args.platform.aws.root_arn,
                    )
                )
            ),
            opts=child,
        )
        aws.efs.BackupPolicy(
            f"{name}-backup",
            file_system_id=fs.id,
            backup_policy={"status": "ENABLED" if efs.backup else "DISABLED"},
            opts=data_path,
        )

        access_points = args.platform.aws.arn("elasticfilesystem", "access-point/*")
        self.csi_role = IrsaRole(
            f"{name}-csi",
            IrsaRoleArgs(
                role_name=naming.role_name(args.platform.cluster_name, "efs-csi"),
                oidc=args.platform.oidc,
                permissions_boundary=args.platform.aws.permissions_boundary,
                service_accounts=EFS_CSI_SERVICE_ACCOUNTS,
                mode=args.platform.identity,
                cluster_arn=args.platform.cluster_arn,
                cluster_name=args.platform.cluster,
                # The add-on associates its controller; the node's account gets a standalone
                # association (aws-efs-csi-driver#1759).
                addon_service_accounts=efs_backend.ADDON_ACCOUNTS,
                inline_policies={
                    "efs-csi": fs.arn.apply(
                        lambda arn: iam.efs_csi_policy(
                            file_system_arn=arn,
                            access_point_arns=access_points,
                            cluster_tag=EFS_CLUSTER_TAG,
                        )
                    )
                },
            ),
            opts=child,
        )

        # Volumes mount only where a target exists: hand the ID out once every zone has one.
        self.file_system_id = pulumi.Output.all(fs.id, *(t.id for t in self.mount_targets)).apply(
            lambda ids: ids[0]
        )
        self.register_outputs(
            {"fileSystemId": self.file_system_id, "csiRoleArn": self.csi_role.arn}
        )


@dataclass(frozen=True)
class EfsInUseArgs:
    file_system_id: pulumi.Input[str]
    holders: Sequence[pulumi.Resource]
    """Everything the file system's data path is: the EfsStorage component (its file system,
    mount targets, policy, backup policy, security group and driver role), every EFS class,
    the EFS CSI add-on."""
    provider: k8s.Provider
    protect: bool


class EfsInUse(pulumi.ComponentResource):
    """Turning EFS off must stop before anything of it is removed. Pulumi deletes dependents
    first, so protecting the file system alone still lets the classes, the driver and the TLS
    policy go before the up fails at it. This marker depends on every holder and is protected
    in protected stacks: it is the first delete, and the engine refuses a protected delete
    before doing anything else (pulumi/pulumi@v3.259.0:pkg/resource/deploy/step.go,
    DeleteStep.Apply; even in preview)."""

    def __init__(self, name: str, args: EfsInUseArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("eks-config-storage:storage:EfsInUse", name, None, opts)
        marker = k8s.core.v1.ConfigMap(
            f"{name}-marker",
            metadata={
                "name": "eks-config-storage-efs-in-use",
                "namespace": "kube-system",
                "labels": MANAGED_BY,
            },
            # Keep this data as it is: pulumi-kubernetes replaces a ConfigMap whose data
            # changes, and protect would refuse that replacement and stop the update.
            data={
                "fileSystemId": args.file_system_id,
                "note": "Protected while the stack is: removing EFS stops here first. "
                "Retire it deliberately: see the README, 'What never to change in place'.",
            },
            opts=pulumi.ResourceOptions(
                parent=self,
                provider=args.provider,
                depends_on=list(args.holders),
                protect=args.protect,
            ),
        )
        self.register_outputs({"marker": marker.metadata.name})


def infrastructure(name: str, platform: Platform, cfg, network) -> BackendInfrastructure:
    """The EFS backend's hook (``Backend.infrastructure``): the file system when enabled."""
    settings = cfg.storage.efs
    if not settings.enabled:
        return BackendInfrastructure(
            inputs={efs_backend.BACKEND.parameter_input: None}, exports={"efsFileSystemId": None}
        )
    storage = EfsStorage(
        name,
        EfsStorageArgs(
            platform=platform,
            settings=settings,
            vpc_id=network.vpc_id,
            private_subnets=network.private_subnets,
            node_security_group_id=network.node_security_group_id,
        ),
    )

    def in_use(holders: Sequence[pulumi.Resource], provider: k8s.Provider, protect: bool) -> None:
        EfsInUse(
            f"{name}-in-use",
            EfsInUseArgs(
                file_system_id=storage.file_system_id,
                holders=list(holders),
                provider=provider,
                protect=protect,
            ),
        )

    return BackendInfrastructure(
        role_arn=storage.csi_role.arn,
        inputs={efs_backend.BACKEND.parameter_input: storage.file_system_id},
        exports={"efsFileSystemId": storage.file_system_id},
        file_system_backup=settings.backup,
        in_use=in_use,
        resource=storage,
    )
