"""The CSI drivers and the snapshot controller, as EKS managed add-ons.

Add-ons only turn ACTIVE once their pods run, so they wait for the node groups; each driver's
role ARN comes from its ``IrsaRole`` and so resolves only once the role's policies are attached.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.addons import eks_addon
from config.schema import Addons

EBS_CSI = "aws-ebs-csi-driver"
EFS_CSI = "aws-efs-csi-driver"
SNAPSHOT_CONTROLLER = "snapshot-controller"
# Nodes keep IMDS hop limit 1 (pods stay off the node role), so the node plugin runs on the host
# network to reach IMDS: on Kubernetes metadata instead it "will assume one ENI and one EBS volume
# (the root volume) is attached" and miscounts the node's attach limit
# (kubernetes-sigs/aws-ebs-csi-driver@v1.48.0:docs/install.md, the deployed release). Keys from
# the driver's chart (charts/aws-ebs-csi-driver/values.yaml: node.hostNetwork,
# sidecars.snapshotter.forceEnable); tests validate them against the vendored values schema,
# the nearest public judge. EKS judges them against the add-on's own, stricter schema
# (forceEnable is in it: kubernetes-sigs/aws-ebs-csi-driver#1447; hostNetwork is reported there,
# aws/containers-roadmap#2661), which only DescribeAddonConfiguration publishes: every deploy
# checks them against it for the resolved version before `up` (tools/addon_config.py).
EBS_CSI_CONFIGURATION = {
    "node": {"hostNetwork": True},
    "sidecars": {"snapshotter": {"forceEnable": True}},
}


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

        def addon(addon_name, pinned, role_arn=None, configuration=None, after=()):
            return eks_addon(
                f"{name}-{addon_name}",
                cluster_name=args.cluster_name,
                addon_name=addon_name,
                kubernetes_version=args.kubernetes_version,
                pinned=pinned,
                role_arn=role_arn,
                configuration=configuration,
                opts=pulumi.ResourceOptions(parent=self, depends_on=[*args.nodes, *after]),
            )

        self.snapshot_controller = addon(SNAPSHOT_CONTROLLER, args.versions.snapshot_controller)
        # The snapshot CRDs come with the snapshot controller and must exist before the EBS
        # driver installs (awsdocs/amazon-eks-user-guide: latest/ug/storage/ebs-csi.adoc, "you
        # must first install the CSI snapshot controller"); the driver's chart renders its
        # csi-snapshotter sidecar only when they exist or when forced
        # (kubernetes-sigs/aws-ebs-csi-driver@v1.48.0:
        # charts/aws-ebs-csi-driver/templates/controller.yaml). Both, so snapshots are certain.
        self.ebs_csi = addon(
            EBS_CSI,
            args.versions.ebs_csi_driver,
            args.ebs_csi_role_arn,
            configuration=EBS_CSI_CONFIGURATION,
            after=[self.snapshot_controller],
        )
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
