"""EKS managed add-ons: one way to declare them, and the cluster's own add-ons.

EKS installs vpc-cni, kube-proxy and CoreDNS self-managed when it creates a cluster, and then
never upgrades them ("You can ... update them when desired", awsdocs/amazon-eks-user-guide:
latest/ug/workloads/eks-add-ons.adoc). Declared here as managed add-ons, they are adopted
(``OVERWRITE`` on create) and follow ``kubernetesVersion``. The documented order
(latest/ug/clusters/update-cluster.adoc: control plane, then nodes, then add-ons) is carried by
data: every add-on names the cluster, and kube-proxy and CoreDNS also wait for the node groups;
the VPC CNI comes before the nodes (nodes that join need it, terraform-aws-modules/
terraform-aws-eks@v21.19.0:main.tf ``before_compute``), so the node groups wait for it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from config.schema import Addons
from design.identity import AGENT_ADDON

VPC_CNI = "vpc-cni"
KUBE_PROXY = "kube-proxy"
COREDNS = "coredns"


def eks_addon(
    resource_name: str,
    *,
    cluster_name: pulumi.Input[str],
    addon_name: str,
    kubernetes_version: str,
    pinned: str | None,
    opts: pulumi.ResourceOptions,
    role_arn: pulumi.Input[str] | None = None,
    configuration: Mapping[str, Any] | None = None,
    associations: Sequence[tuple[str, pulumi.Input[str]]] = (),
) -> aws.eks.Addon:
    """An add-on at its pinned version, or at the version EKS marks default for this Kubernetes
    version (not "most recent", which drifts): a Kubernetes bump moves it in the same diff.

    ``associations`` are ``(service account, role ARN)`` pairs the add-on makes and owns as EKS
    Pod Identity associations (latest/ug/workloads/add-ons-iam.adoc); with the agent installed,
    EKS uses them and ignores ``role_arn``."""
    version = (
        pinned
        or aws.eks.get_addon_version_output(
            addon_name=addon_name, kubernetes_version=kubernetes_version
        ).version
    )
    return aws.eks.Addon(
        resource_name,
        cluster_name=cluster_name,
        addon_name=addon_name,
        addon_version=version,
        service_account_role_arn=role_arn,
        configuration_values=json.dumps(configuration, sort_keys=True) if configuration else None,
        pod_identity_associations=[
            {"service_account": account, "role_arn": arn} for account, arn in associations
        ]
        or None,
        resolve_conflicts_on_create="OVERWRITE",
        resolve_conflicts_on_update="PRESERVE",
        opts=opts,
    )


@dataclass(frozen=True)
class AddonsArgs:
    cluster_name: pulumi.Input[str]
    kubernetes_version: str
    versions: Addons
    # What the add-ons run on (kube-proxy and CoreDNS are pods on the nodes); empty for vpc-cni.
    nodes: Sequence[pulumi.Resource] = ()


class PodNetwork(pulumi.ComponentResource):
    """The VPC CNI, before any node joins: nodes without it never become Ready."""

    vpc_cni: aws.eks.Addon

    def __init__(self, name: str, args: AddonsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("eks-config-storage:eks:PodNetwork", name, None, opts)
        self.vpc_cni = eks_addon(
            f"{name}-{VPC_CNI}",
            cluster_name=args.cluster_name,
            addon_name=VPC_CNI,
            kubernetes_version=args.kubernetes_version,
            pinned=args.versions.vpc_cni,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({"version": self.vpc_cni.addon_version})


class ClusterAddons(pulumi.ComponentResource):
    """kube-proxy and CoreDNS, after the nodes they run on."""

    def __init__(self, name: str, args: AddonsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("eks-config-storage:eks:ClusterAddons", name, None, opts)
        self.addons = {
            addon_name: eks_addon(
                f"{name}-{addon_name}",
                cluster_name=args.cluster_name,
                addon_name=addon_name,
                kubernetes_version=args.kubernetes_version,
                pinned=pinned,
                opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.nodes)),
            )
            for addon_name, pinned in (
                (KUBE_PROXY, args.versions.kube_proxy),
                (COREDNS, args.versions.coredns),
            )
        }
        self.register_outputs({k: a.addon_version for k, a in self.addons.items()})


class PodIdentityAgent(pulumi.ComponentResource):
    """The EKS Pod Identity agent (``eks-pod-identity-agent``), a DaemonSet on the host network
    of every Linux EC2 node, serving credentials on 169.254.170.23 (latest/ug/manage-access/
    aws-access/pod-identities.adoc). Only stacks with a workload on Pod Identity install it.

    It authenticates with the node role (``eks-auth:AssumeRoleForPodIdentity``, in
    AmazonEKSWorkerNodePolicy) and takes no ``serviceAccountRoleArn``
    (latest/ug/manage-access/aws-access/pod-id-agent-setup.adoc). Its pods run on the nodes, so
    it waits for them; every add-on or workload that uses an association waits for it."""

    addon: aws.eks.Addon

    def __init__(self, name: str, args: AddonsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("eks-config-storage:eks:PodIdentityAgent", name, None, opts)
        self.addon = eks_addon(
            f"{name}-{AGENT_ADDON}",
            cluster_name=args.cluster_name,
            addon_name=AGENT_ADDON,
            kubernetes_version=args.kubernetes_version,
            pinned=args.versions.pod_identity_agent,
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.nodes)),
        )
        self.register_outputs({"version": self.addon.addon_version})
