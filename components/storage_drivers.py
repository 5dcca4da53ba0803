"""The CSI drivers and the snapshot controller, as EKS managed add-ons.

Add-ons only turn ACTIVE once their pods run, so they wait for the node groups; each driver's
role ARN comes from its ``IrsaRole`` and so resolves only once the role's policies are attached.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from config.schema import Addons

EBS_CSI = "aws-ebs-csi-driver"
EFS_CSI = "aws-efs-csi-driver"
SNAPSHOT_CONTROLLER = "snapshot-controller"


@dataclass(frozen=True)
class StorageDriversArgs:
    cluster_name: pulumi.Input[str]
    kubernetes_version: str
    versions: Addons
    ebs_csi_role_arn: pulumi.Input[str]
    efs_csi_role_arn: pulumi.Input[str] | None
    nodes: Sequence[pulumi.Resource]


class StorageDrivers(pulumi.ComponentResource):
    ebs_csi: aws.eks.Addon
    efs_csi: aws.eks.Addon | None
    snapshot_controller: aws.eks.Addon

    def __init__(
        self, name: str, args: StorageDriversArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("eks-config-storage:storage:StorageDrivers", name, None, opts)

        def addon(addon_name: str, pinned: str | None, role_arn=None) -> aws.eks.Addon:
            # Unpinned: the version EKS marks default for this Kubernetes version, which
            # changes only with the cluster version (not "most recent", which drifts).
            version = (
                pinned
                or aws.eks.get_addon_version_output(
                    addon_name=addon_name, kubernetes_version=args.kubernetes_version
                ).version
            )
            return aws.eks.Addon(
                f"{name}-{addon_name}",
                cluster_name=args.cluster_name,
                addon_name=addon_name,
                addon_version=version,
                service_account_role_arn=role_arn,
                resolve_conflicts_on_create="OVERWRITE",
                resolve_conflicts_on_update="PRESERVE",
                opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.nodes)),
            )

        self.snapshot_controller = addon(SNAPSHOT_CONTROLLER, args.versions.snapshot_controller)
        self.ebs_csi = addon(EBS_CSI, args.versions.ebs_csi_driver, args.ebs_csi_role_arn)
        self.efs_csi = (
            addon(EFS_CSI, args.versions.efs_csi_driver, args.efs_csi_role_arn)
            if args.efs_csi_role_arn is not None
            else None
        )
        self.register_outputs(
            {
                "ebsCsiVersion": self.ebs_csi.addon_version,
                "snapshotControllerVersion": self.snapshot_controller.addon_version,
            }
        )
