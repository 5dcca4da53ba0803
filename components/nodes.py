"""Managed node groups: IMDSv2 with hop limit 1, root volumes encrypted with the stack's key,
no SSH. A hop limit of 1 keeps pods off the node role's credentials, so every pod that needs AWS
must come through IRSA."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from config.schema import NodeGroup
from design import iam, naming
from design.aws import AwsContext

NODE_MANAGED_POLICIES = (
    "AmazonEKSWorkerNodePolicy",
    "AmazonEKS_CNI_Policy",
    "AmazonEC2ContainerRegistryPullOnly",
)
ROOT_DEVICE = "/dev/xvda"  # AL2023 AMIs boot from this device


def metadata_options() -> dict:
    return {
        "http_endpoint": "enabled",
        "http_tokens": "required",
        "http_put_response_hop_limit": 1,
        "instance_metadata_tags": "disabled",
    }


def recommended_release_parameter(kubernetes_version: str, ami_type: str) -> str:
    """The public SSM parameter naming EKS's recommended AL2023 AMI release for a version
    (docs.aws.amazon.com/eks/latest/userguide/retrieve-ami-id.html)."""
    arch = "arm64" if ami_type == "AL2023_ARM_64_STANDARD" else "x86_64"
    return (
        f"/aws/service/eks/optimized-ami/{kubernetes_version}/amazon-linux-2023/{arch}/standard/"
        "recommended/release_version"
    )


@dataclass(frozen=True)
class NodeGroupsArgs:
    cluster_name: pulumi.Input[str]
    # The control plane's version, as an output of the cluster: a bump rolls the nodes only
    # after the control plane is upgraded (update-cluster.adoc: control plane, then nodes).
    cluster_version: pulumi.Input[str]
    kubernetes_version: str
    # What nodes need before they join (the pod network add-on).
    after: Sequence[pulumi.Resource]
    name_prefix: str
    subnet_ids: Sequence[pulumi.Input[str]]
    key_arn: pulumi.Input[str]
    aws: AwsContext
    groups: Sequence[NodeGroup]


class NodeGroups(pulumi.ComponentResource):
    role_arn: pulumi.Output[str]
    groups: list[aws.eks.NodeGroup]

    def __init__(self, name: str, args: NodeGroupsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("eks-config-storage:eks:NodeGroups", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        role = aws.iam.Role(
            f"{name}-role",
            name=naming.role_name(args.name_prefix, "node"),
            assume_role_policy=json.dumps(iam.service_trust_policy("ec2.amazonaws.com")),
            permissions_boundary=args.aws.permissions_boundary,
            opts=child,
        )
        attachments = [
            aws.iam.RolePolicyAttachment(
                f"{name}-{policy}",
                role=role.name,
                policy_arn=args.aws.managed_policy_arn(policy),
                opts=child,
            )
            for policy in NODE_MANAGED_POLICIES
        ]

        self.groups = []
        for group in args.groups:
            template = aws.ec2.LaunchTemplate(
                f"{name}-{group.name}",
                name_prefix=f"{args.name_prefix}-{group.name}-",
                update_default_version=True,
                metadata_options=metadata_options(),
                block_device_mappings=[
                    {
                        "device_name": ROOT_DEVICE,
                        "ebs": {
                            "volume_size": group.disk_size_gib,
                            "volume_type": "gp3",
                            "encrypted": "true",
                            "kms_key_id": args.key_arn,
                            "delete_on_termination": "true",
                        },
                    }
                ],
                tag_specifications=[
                    {
                        "resource_type": kind,
                        "tags": {"Name": f"{args.name_prefix}-{group.name}"},
                    }
                    for kind in ("instance", "volume")
                ],
                opts=child,
            )
            release = (
                group.release_version
                or aws.ssm.get_parameter_output(
                    name=recommended_release_parameter(args.kubernetes_version, group.ami_type)
                ).value
            )
            self.groups.append(
                aws.eks.NodeGroup(
                    f"{name}-{group.name}",
                    cluster_name=args.cluster_name,
                    # A prefix, not a name: a change EKS can only make by replacing the group
                    # (instance types, AMI or capacity type) then creates the new group before
                    # deleting the old; with a fixed name the provider must delete first
                    # (pulumi/pulumi-aws: node_group_name is auto-named, so setting it forces
                    # delete-before-replace) and the cluster has no nodes in between.
                    node_group_name_prefix=f"{group.name}-",
                    version=args.cluster_version,
                    release_version=release,
                    node_role_arn=role.arn,
                    subnet_ids=list(args.subnet_ids),
                    ami_type=group.ami_type,
                    capacity_type=group.capacity_type,
                    instance_types=list(group.instance_types),
                    labels=dict(group.labels),
                    scaling_config={
                        "min_size": group.min_size,
                        "max_size": group.max_size,
                        "desired_size": group.desired_size,
                    },
                    update_config={"max_unavailable": 1},
                    launch_template={
                        "id": template.id,
                        "version": template.latest_version.apply(str),
                    },
                    opts=pulumi.ResourceOptions(
                        parent=self,
                        depends_on=[*attachments, *args.after],
                        # The cluster autoscaler owns the current size once nodes run.
                        ignore_changes=["scalingConfig.desiredSize"],
                    ),
                )
            )
        self.role_arn = role.arn
        self.register_outputs({"roleArn": self.role_arn})
