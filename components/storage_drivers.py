"""The CSI drivers and the snapshot controller, as EKS managed add-ons.

Add-ons only turn ACTIVE once their pods run, so they wait for the node groups; each driver's
role ARN comes from its ``IrsaRole`` and so resolves only once the role's policies are attached.
In a Pod Identity stack the add-ons make their associations themselves and wait for the agent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.addons import eks_addon
from config.schema import Addons
from design.identity import trusts_irsa, trusts_pod_identity
from design.storage import ebs
from design.storage.registry import REGISTRY, SNAPSHOTTER

SNAPSHOT_CONTROLLER = "snapshot-controller"
# Under the names tools and tests knew before each backend had its module.
EBS_CSI_CONFIGURATION = ebs.ADDON_CONFIGURATION
ebs_csi_configuration = ebs.addon_configuration
__all__ = ["EBS_CSI_CONFIGURATION", "StorageDrivers", "StorageDriversArgs", "ebs_csi_configuration"]


@dataclass(frozen=True)
class StorageDriversArgs:
    cluster_name: pulumi.Input[str]
    kubernetes_version: str
    versions: Addons
    role_arns: Mapping[str, pulumi.Input[str] | None]
    """Each backend's driver role, by backend name; None: the backend's driver is not installed."""
    nodes: Sequence[pulumi.Resource]
    # design.identity: the stack's mode, which the drivers follow.
    identity: str = "irsa"
    # The cluster's name as the driver tags volumes with it (k8sTagClusterId): what the
    # cluster-scoped policy compares with the session's eks-cluster-name tag.
    tag_cluster_id: str = ""
    # The Pod Identity agent, when the stack installs it.
    agent: pulumi.Resource | None = None


class StorageDrivers(pulumi.ComponentResource):
    by_backend: dict[str, aws.eks.Addon | None]
    """Each backend's CSI driver add-on, by backend name (None: not installed)."""
    snapshot_controller: aws.eks.Addon

    def __init__(
        self, name: str, args: StorageDriversArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("eks-config-storage:storage:StorageDrivers", name, None, opts)

        pod_identity = trusts_pod_identity(args.identity)
        agent = [args.agent] if args.agent is not None else []

        def addon(addon_name, pinned, role_arn=None, *, configuration=None, after=(), accounts=()):
            """``accounts``: the add-on's service accounts its role is for. In ``both`` the
            add-on keeps ``role_arn`` (EKS ignores it once the agent runs: add-ons-iam.adoc), so
            going back to ``irsa`` never leaves it without one."""
            return eks_addon(
                f"{name}-{addon_name}",
                cluster_name=args.cluster_name,
                addon_name=addon_name,
                kubernetes_version=args.kubernetes_version,
                pinned=pinned,
                role_arn=role_arn if trusts_irsa(args.identity) else None,
                configuration=configuration,
                associations=[(a, role_arn) for a in accounts] if pod_identity else (),
                opts=pulumi.ResourceOptions(
                    parent=self,
                    depends_on=[*args.nodes, *after, *(agent if accounts and pod_identity else [])],
                ),
            )

        self.snapshot_controller = addon(SNAPSHOT_CONTROLLER, args.versions.snapshot_controller)
        # The snapshot CRDs come with the snapshot controller and must exist before a driver
        # that snapshots installs (awsdocs/amazon-eks-user-guide: latest/ug/storage/ebs-csi.adoc,
        # "you must first install the CSI snapshot controller"); the EBS driver's chart renders
        # its csi-snapshotter sidecar only when they exist or when forced
        # (kubernetes-sigs/aws-ebs-csi-driver@v1.48.0:
        # charts/aws-ebs-csi-driver/templates/controller.yaml). Both, so snapshots are certain.
        self.by_backend = {}
        for backend in REGISTRY:
            role_arn = args.role_arns.get(backend.name)
            self.by_backend[backend.name] = (
                addon(
                    backend.addon,
                    backend.addon_version(args.versions),
                    role_arn,
                    configuration=backend.addon_configuration(args.identity, args.tag_cluster_id),
                    after=[self.snapshot_controller] if backend.snapshots else [],
                    accounts=list(backend.addon_accounts),
                )
                if role_arn is not None
                else None
            )
        self.register_outputs(
            {
                "ebsCsiVersion": self.by_backend[SNAPSHOTTER.name].addon_version,
                "snapshotControllerVersion": self.snapshot_controller.addon_version,
            }
        )
