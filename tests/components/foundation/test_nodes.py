"""Managed node groups: IMDSv2 only with hop limit 1, encrypted root volumes, no SSH, minimal
node role, and instances launched only after Auto Scaling may use the key."""

from __future__ import annotations

from components.nodes import recommended_release_parameter
from tests.support.plan_helpers import doc, private_subnet_ids, typed
from tools.offline import Plan, run_config

TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
GROUP = "aws:eks/nodeGroup:NodeGroup"


def configured_groups(plan: Plan) -> list[dict]:
    return [group.model_dump(by_alias=True) for group in typed(plan.stack).node_groups]


def test_instance_metadata_requires_tokens_and_stops_at_the_node(plan):
    for template in plan.of_type(TEMPLATE):
        assert template.inputs["metadataOptions"] == {
            "httpEndpoint": "enabled",
            "httpTokens": "required",
            "httpPutResponseHopLimit": 1,
            "instanceMetadataTags": "disabled",
        }


def test_root_volume_is_encrypted_with_the_stacks_key(plan):
    key_arn = plan.one("aws:kms/key:Key").outputs["arn"]
    for template, group in zip(plan.of_type(TEMPLATE), configured_groups(plan), strict=True):
        (root,) = template.inputs["blockDeviceMappings"]
        assert root["deviceName"] == "/dev/xvda"
        assert root["ebs"] == {
            "encrypted": "true",
            "kmsKeyId": key_arn,
            "volumeType": "gp3",
            "volumeSize": group["diskSizeGib"],
            "deleteOnTermination": "true",
        }


def test_no_ssh_key_and_no_extra_security_groups(plan):
    for template in plan.of_type(TEMPLATE):
        assert "keyName" not in template.inputs
        assert "vpcSecurityGroupIds" not in template.inputs
    for group in plan.of_type(GROUP):
        assert "remoteAccess" not in group.inputs


def test_groups_follow_config_and_use_their_launch_template(plan):
    groups = {g.inputs["nodeGroupNamePrefix"]: g for g in plan.of_type(GROUP)}
    assert sorted(groups) == sorted(f"{g['name']}-" for g in configured_groups(plan))
    for wanted in configured_groups(plan):
        group = groups[f"{wanted['name']}-"]
        assert "nodeGroupName" not in group.inputs, "a fixed name forces delete-first replacement"
        assert group.inputs["scalingConfig"] == {
            "minSize": wanted["minSize"],
            "maxSize": wanted["maxSize"],
            "desiredSize": wanted["desiredSize"],
        }
        assert group.inputs["instanceTypes"] == wanted["instanceTypes"]
        template = plan.one(TEMPLATE, group.name)
        assert group.inputs["launchTemplate"] == {"id": template.outputs["id"], "version": "1"}
        assert "diskSize" not in group.inputs, "disk size belongs to the launch template"
        assert group.options["ignoreChanges"] == ["scalingConfig.desiredSize"]


def test_nodes_follow_the_control_plane_and_join_after_the_pod_network(plan):
    cluster = plan.one("aws:eks/cluster:Cluster")
    vpc_cni = plan.one("aws:eks/addon:Addon", "pod-network-vpc-cni")
    version = typed(plan.stack).kubernetes_version
    pinned = {g.name: g.release_version for g in typed(plan.stack).node_groups}
    for group in plan.of_type(GROUP):
        assert group.inputs["version"] == cluster.outputs["version"] == version
        assert plan.depends_on(group, cluster)
        assert plan.depends_on(group, vpc_cni)
        # The stack's pin; else, offline, EKS's recommended AL2023 release for the version (the
        # SSM public parameter).
        name = group.inputs["nodeGroupNamePrefix"].removesuffix("-")
        assert group.inputs["releaseVersion"] == (pinned[name] or f"{version}.0-20261115")


def test_a_pinned_ami_release_is_used_as_given(dev_values):
    dev_values["eks-config-storage:nodeGroups"][0]["releaseVersion"] = "1.35.3-20261001"
    (group,) = run_config("dev", dev_values).of_type(GROUP)
    assert group.inputs["releaseVersion"] == "1.35.3-20261001"


def test_recommended_release_parameter_follows_version_and_architecture():
    assert recommended_release_parameter("1.36", "AL2023_ARM_64_STANDARD") == (
        "/aws/service/eks/optimized-ami/1.36/amazon-linux-2023/arm64/standard/recommended/"
        "release_version"
    )
    assert "/1.35/amazon-linux-2023/x86_64/standard/" in recommended_release_parameter(
        "1.35", "AL2023_x86_64_STANDARD"
    )


def test_nodes_run_in_private_subnets(plan):
    private = private_subnet_ids(plan)
    assert private
    for group in plan.of_type(GROUP):
        assert sorted(group.inputs["subnetIds"]) == private


def test_node_role_has_exactly_the_policies_nodes_need(plan):
    role = plan.one("aws:iam/role:Role", "nodes-role")
    policies = sorted(
        a.inputs["policyArn"]
        for a in plan.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        if a.inputs["role"] == role.outputs["name"]
    )
    assert policies == [
        "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPullOnly",
        "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
        "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy",
    ]
    assert doc(role, "assumeRolePolicy")["Statement"][0]["Principal"] == {
        "Service": "ec2.amazonaws.com"
    }
    assert not [
        p
        for p in plan.of_type("aws:iam/rolePolicy:RolePolicy")
        if p.inputs["role"] == role.outputs["name"]
    ]


def test_instances_launch_only_after_the_key_policy_admits_autoscaling(plan):
    policy = plan.one("aws:kms/keyPolicy:KeyPolicy")
    for group in plan.of_type(GROUP):
        assert plan.depends_on(group, policy)
