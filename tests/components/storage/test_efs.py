"""EFS: encrypted with the key, a mount target in every zone the nodes use, NFS only from the
nodes, TLS enforced by the file-system policy, backups in production, CSI role scoped to it."""

from __future__ import annotations

import pytest

from tests.support.plan_helpers import doc, statement, typed
from tools.offline import Plan, run_config, stack_config

FS = "aws:efs/fileSystem:FileSystem"


@pytest.fixture
def plan(plan: Plan) -> Plan:
    """Each stack with a file system; a stack with EFS off has none of it (test_no_efs_at_all)."""
    if not typed(plan.stack).storage.efs.enabled:
        pytest.skip(f"stack {plan.stack} has EFS off")
    return plan


def test_a_stack_with_efs_off_has_none_of_it(plans):
    for stack, planned in plans.items():
        if not typed(stack).storage.efs.enabled:
            assert not [r.urn for r in planned if r.type.startswith("aws:efs/")]
            assert not [r for r in planned if r.name.startswith("efs-csi")]


def fs(plan: Plan):
    return plan.one(FS)


def test_file_system_is_encrypted_with_the_stacks_key(plan):
    inputs = fs(plan).inputs
    assert inputs["encrypted"] is True
    assert inputs["kmsKeyId"] == plan.one("aws:kms/key:Key").outputs["arn"]
    assert inputs["creationToken"] == f"{plan.exports['clusterName']}-efs"


@pytest.mark.parametrize(
    ("stack", "mode", "ia", "backup"),
    [
        ("dev", "bursting", "AFTER_7_DAYS", "DISABLED"),
        ("prod", "elastic", "AFTER_30_DAYS", "ENABLED"),
    ],
)
def test_modes_lifecycle_and_backup_per_stack(plans, stack, mode, ia, backup):
    plan = plans[stack]
    inputs = fs(plan).inputs
    assert inputs["throughputMode"] == mode
    assert inputs["performanceMode"] == "generalPurpose"
    assert inputs["lifecyclePolicies"] == [
        {"transitionToIa": ia},
        {"transitionToPrimaryStorageClass": "AFTER_1_ACCESS"},
    ]
    policy = plan.one("aws:efs/backupPolicy:BackupPolicy")
    assert policy.inputs["backupPolicy"] == {"status": backup}
    assert policy.inputs["fileSystemId"] == fs(plan).outputs["id"]


def test_one_mount_target_in_each_private_subnets_zone(plan):
    private = plan.exports["privateSubnetIds"]
    targets = plan.of_type("aws:efs/mountTarget:MountTarget")
    assert sorted(t.inputs["subnetId"] for t in targets) == sorted(private.values())
    assert len(targets) == len(private)
    sg = plan.one("aws:ec2/securityGroup:SecurityGroup", "efs-mount-targets")
    for target in targets:
        assert target.inputs["fileSystemId"] == fs(plan).outputs["id"]
        assert target.inputs["securityGroups"] == [sg.outputs["id"]]


def test_nfs_is_open_only_to_the_nodes_security_group(plan):
    sg = plan.one("aws:ec2/securityGroup:SecurityGroup", "efs-mount-targets")
    rules = [
        r
        for r in plan.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
        if r.inputs["securityGroupId"] == sg.outputs["id"]
    ]
    assert len(rules) == 1
    (rule,) = rules
    node_sg = plan.one("aws:eks/cluster:Cluster").outputs["vpcConfig"]["clusterSecurityGroupId"]
    assert rule.inputs["referencedSecurityGroupId"] == node_sg
    assert (rule.inputs["ipProtocol"], rule.inputs["fromPort"], rule.inputs["toPort"]) == (
        "tcp",
        2049,
        2049,
    )
    assert "cidrIpv4" not in rule.inputs and "cidrIpv6" not in rule.inputs
    assert not sg.inputs.get("ingress")


def test_file_system_policy_denies_every_connection_without_tls(plan):
    policy = doc(plan.one("aws:efs/fileSystemPolicy:FileSystemPolicy"))
    deny = statement(policy, "DenyWithoutTls")
    assert deny == {
        "Sid": "DenyWithoutTls",
        "Effect": "Deny",
        "Principal": {"AWS": "*"},
        "Action": "*",
        "Resource": fs(plan).outputs["arn"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }
    allow = statement(policy, "AccountMountsThroughTargets")
    assert allow["Condition"] == {"Bool": {"elasticfilesystem:AccessedViaMountTarget": "true"}}


def test_csi_role_trusts_controller_and_node_and_is_scoped_to_the_file_system(plan):
    role = plan.one("aws:iam/role:Role", "efs-csi-role")
    condition = doc(role, "assumeRolePolicy")["Statement"][0]["Condition"]["StringEquals"]
    (sub,) = [v for k, v in condition.items() if k.endswith(":sub")]
    assert sub == [
        "system:serviceaccount:kube-system:efs-csi-controller-sa",
        "system:serviceaccount:kube-system:efs-csi-node-sa",
    ]
    policy = doc(plan.one("aws:iam/rolePolicy:RolePolicy", "efs-csi-efs-csi"))
    fs_arn = fs(plan).outputs["arn"]
    create = statement(policy, "CreateTaggedAccessPoints")
    assert create["Resource"] == fs_arn
    assert create["Condition"] == {
        "StringEquals": {"aws:RequestTag/efs.csi.aws.com/cluster": "true"}
    }
    delete = statement(policy, "DeleteOwnAccessPoints")
    assert delete["Condition"] == {
        "StringEquals": {"aws:ResourceTag/efs.csi.aws.com/cluster": "true"}
    }
    assert delete["Resource"].endswith(":access-point/*")
    mount = statement(policy, "MountThroughMountTargets")
    assert mount["Resource"] == fs_arn
    for stmt in policy["Statement"]:
        if stmt["Sid"] != "DescribeZones":
            assert stmt["Resource"] != "*", stmt["Sid"]


def test_prod_file_system_is_protected(plans):
    assert fs(plans["prod"]).protect
    assert not fs(plans["dev"]).protect


def test_efs_can_be_turned_off(dev_values):
    dev_values["eks-config-storage:storage"]["efs"] = {"enabled": False}
    dev_values["eks-config-storage:storage"]["classes"] = [
        {"backing": "gp3", "access": "rwo", "default": True}
    ]
    for app in dev_values["eks-config-storage:apps"]:
        app["storage"] = [b for b in app.get("storage", []) if not b["class"].startswith("efs-")]
    plan = run_config("dev", dev_values)
    assert not [r for r in plan if r.type.startswith("aws:efs/")]
    assert not [
        a
        for a in plan.of_type("aws:eks/addon:Addon")
        if a.inputs["addonName"] == "aws-efs-csi-driver"
    ]
    assert plan.exports["storageClasses"] == ["gp3-ssd-dev-rwo"]
    assert plan.exports["efsFileSystemId"] is None


def test_turning_efs_off_stops_before_anything_of_it_is_removed(plans):
    """Pulumi deletes dependents first: the marker depends on every part of EFS's data path, so
    its delete comes first, and in a protected stack protect refuses it before any other."""
    for stack, plan in plans.items():
        marker = plan.one("kubernetes:core/v1:ConfigMap", "efs-in-use-marker")
        assert marker.protect is bool(stack_config(stack).get("eks-config-storage:protect"))
        assert marker.inputs["metadata"]["namespace"] == "kube-system"
        efs_parts = [r for r in plan if r.custom and r.name.startswith("efs-") and r is not marker]
        classes = [
            r
            for r in plan.of_type("kubernetes:storage.k8s.io/v1:StorageClass")
            if r.inputs["provisioner"] == "efs.csi.aws.com"
        ]
        addon = next(
            a
            for a in plan.of_type("aws:eks/addon:Addon")
            if a.inputs["addonName"] == "aws-efs-csi-driver"
        )
        holders = [*efs_parts, *classes, addon]
        assert len(efs_parts) >= 6 and classes
        for holder in holders:
            assert plan.depends_on(marker, holder), holder.name
