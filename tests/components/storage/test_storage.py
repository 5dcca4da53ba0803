"""The storage layer: SLA-named classes that bind late and expand online, encrypted with the
stack's key; CSI drivers with exact IRSA; EFS reachable only from the nodes over TLS."""

from __future__ import annotations

import pytest

from config import rules
from design import storage as sc
from tests.support.plan_helpers import as_list, doc, statement, typed
from tools.offline import Plan, run_config, runner, stack_config
from tools.offline.mocks import addon_version

STORAGE_CLASS = "kubernetes:storage.k8s.io/v1:StorageClass"
ADDON = "aws:eks/addon:Addon"


def typed_config(stack: str):
    return runner.typed_config(stack, stack_config(stack))


def classes(plan: Plan) -> dict[str, dict]:
    return {r.inputs["metadata"]["name"]: r.inputs for r in plan.of_type(STORAGE_CLASS)}


def key_arn(plan: Plan) -> str:
    return plan.one("aws:kms/key:Key").outputs["arn"]


def addon(plan: Plan, name: str):
    return next(a for a in plan.of_type(ADDON) if a.inputs["addonName"] == name)


def drivers(plan: Plan) -> tuple[str, ...]:
    """The CSI add-ons the stack installs: EFS's only with its file system."""
    efs = ("aws-efs-csi-driver",) if typed(plan.stack).storage.efs.enabled else ()
    return ("aws-ebs-csi-driver", *efs, "snapshot-controller")


def test_class_names_are_the_sla_function_of_their_config(plan):
    cfg = typed_config(plan.stack)
    expected = {
        sc.storage_class_name(
            sc.ClassSpec(
                backing=c.backing,
                access=c.access,
                environment=cfg.environment,
                efs_throughput_mode=cfg.storage.efs.throughput_mode,
                tier=c.tier,
            )
        )
        for c in cfg.storage.classes
    }
    assert set(classes(plan)) == expected
    assert plan.exports["storageClasses"] == sorted(expected)


@pytest.mark.parametrize(
    ("stack", "names"),
    [
        ("dev", {"gp3-ssd-dev-rwo", "efs-burst-dev-rwx"}),
        ("prod", {"gp3-ssd-prod-rwo", "io2-ssd-db-prod-rwo", "efs-elastic-prod-rwx"}),
    ],
)
def test_catalog_per_stack(plans, stack, names):
    assert set(classes(plans[stack])) == names


def test_every_class_binds_late_expands_where_it_can_and_reclaims_per_environment(plan):
    reclaim = "Retain" if typed_config(plan.stack).production else "Delete"
    for name, cls in classes(plan).items():
        assert cls["volumeBindingMode"] == "WaitForFirstConsumer", name
        # EBS grows online; the EFS driver cannot expand, so its classes do not promise it.
        assert cls["allowVolumeExpansion"] is (cls["provisioner"] == "ebs.csi.aws.com"), name
        assert cls["reclaimPolicy"] == reclaim, name


def test_exactly_one_default_class_and_gp2_is_demoted(plan):
    defaults = [
        name
        for name, cls in classes(plan).items()
        if (cls["metadata"].get("annotations") or {}).get(sc.DEFAULT_CLASS_ANNOTATION) == "true"
    ]
    assert len(defaults) == 1
    (patch,) = plan.of_type("kubernetes:storage.k8s.io/v1:StorageClassPatch")
    assert patch.inputs["metadata"]["name"] == "gp2"
    assert patch.inputs["metadata"]["annotations"][sc.DEFAULT_CLASS_ANNOTATION] == "false"


def test_ebs_classes_encrypt_with_the_stacks_key(plan):
    catalog = dict(rules.storage_catalog(typed_config(plan.stack)))
    ebs = {n: c for n, c in classes(plan).items() if c["provisioner"] == "ebs.csi.aws.com"}
    assert ebs
    for name, cls in ebs.items():
        spec = catalog[name]
        expected = {
            "type": spec.backing,
            "encrypted": "true",
            "kmsKeyId": key_arn(plan),
            "csi.storage.k8s.io/fstype": spec.fs_type,
        }
        if spec.iops is not None:
            expected["iops"] = str(spec.iops)
        if spec.throughput_mibps is not None:
            expected["throughput"] = str(spec.throughput_mibps)
        assert cls["parameters"] == expected, name


def test_prod_catalog_parameters(plans):
    prod = classes(plans["prod"])
    assert prod["gp3-ssd-prod-rwo"]["parameters"]["iops"] == "6000"
    assert prod["gp3-ssd-prod-rwo"]["parameters"]["throughput"] == "250"
    assert prod["io2-ssd-db-prod-rwo"]["parameters"]["type"] == "io2"
    assert prod["io2-ssd-db-prod-rwo"]["parameters"]["csi.storage.k8s.io/fstype"] == "xfs"


def test_efs_classes_use_access_points_on_the_stacks_file_system_over_tls_and_iam(plan):
    configured = {n: c for n, c in rules.storage_catalog(typed(plan.stack)) if c.backing == "efs"}
    efs = {n: c for n, c in classes(plan).items() if c["provisioner"] == "efs.csi.aws.com"}
    assert sorted(efs) == sorted(configured)
    if not efs:
        return
    fs_id = plan.one("aws:efs/fileSystem:FileSystem").outputs["id"]
    for name, cls in efs.items():
        wanted = configured[name]
        assert cls["parameters"] == {
            "provisioningMode": "efs-ap",
            "fileSystemId": fs_id,
            "directoryPerms": wanted.directory_perms,
            "gidRangeStart": str(wanted.gid_range_start),
            "gidRangeEnd": str(wanted.gid_range_end),
            "basePath": wanted.base_path,
        }
        assert cls["mountOptions"] == ["tls", "iam"]
    assert plan.exports["efsFileSystemId"] == fs_id


def test_ebs_csi_role_trusts_only_its_controller_and_may_use_only_the_key(plan):
    role = plan.one("aws:iam/role:Role", "controllers-ebs-csi-role")
    assert role.inputs["name"] == f"{plan.exports['clusterName']}-ebs-csi"
    condition = doc(role, "assumeRolePolicy")["Statement"][0]["Condition"]["StringEquals"]
    subs = [v for k, v in condition.items() if k.endswith(":sub")]
    assert subs == ["system:serviceaccount:kube-system:ebs-csi-controller-sa"]
    attachment = plan.one(
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
        "controllers-ebs-csi-AmazonEBSCSIDriverPolicyV2",
    )
    assert attachment.inputs["policyArn"] == (
        "arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicyV2"
    )
    policy = doc(plan.one("aws:iam/rolePolicy:RolePolicy", "controllers-ebs-csi-envelope-key"))
    assert policy["Statement"] == [
        {
            "Sid": "GrantsForEbs",
            "Effect": "Allow",
            "Action": ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"],
            "Resource": key_arn(plan),
            "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}},
        },
        {
            "Sid": "EncryptVolumes",
            "Effect": "Allow",
            "Action": [
                "kms:Encrypt",
                "kms:Decrypt",
                "kms:ReEncrypt*",
                "kms:GenerateDataKey*",
                "kms:DescribeKey",
            ],
            "Resource": key_arn(plan),
        },
    ]


def test_key_policy_admits_the_ebs_csi_role_for_data_and_grants(plan):
    role_arn = plan.one("aws:iam/role:Role", "controllers-ebs-csi-role").outputs["arn"]
    policy = doc(plan.one("aws:kms/keyPolicy:KeyPolicy"))
    assert role_arn in as_list(statement(policy, "KeyUsers")["Principal"]["AWS"])
    assert role_arn in as_list(statement(policy, "KeyServiceGrants")["Principal"]["AWS"])


def test_addons_run_with_their_irsa_roles_after_the_nodes(plan):
    installed = [addon(plan, n) for n in drivers(plan)]
    ebs, snap = addon(plan, "aws-ebs-csi-driver"), addon(plan, "snapshot-controller")
    assert (
        ebs.inputs["serviceAccountRoleArn"]
        == plan.one("aws:iam/role:Role", "controllers-ebs-csi-role").outputs["arn"]
    )
    if "aws-efs-csi-driver" in drivers(plan):
        assert (
            addon(plan, "aws-efs-csi-driver").inputs["serviceAccountRoleArn"]
            == plan.one("aws:iam/role:Role", "efs-csi-role").outputs["arn"]
        )
    assert "serviceAccountRoleArn" not in snap.inputs
    for a in installed:
        for group in plan.of_type("aws:eks/nodeGroup:NodeGroup"):
            assert plan.depends_on(a, group)
        assert a.inputs["clusterName"] == plan.exports["clusterName"]


def test_ebs_addon_waits_until_its_role_has_its_policies(plan):
    ebs = addon(plan, "aws-ebs-csi-driver")
    assert plan.depends_on(ebs, plan.named("controllers-ebs-csi-envelope-key"))
    assert plan.depends_on(ebs, plan.named("controllers-ebs-csi-AmazonEBSCSIDriverPolicyV2"))


def test_unpinned_addon_versions_are_resolved_for_the_cluster_version(plan):
    # Neither stack pins a version: each add-on carries what getAddonVersion answered for it.
    version = typed(plan.stack).kubernetes_version
    for name in drivers(plan):
        assert addon(plan, name).inputs["addonVersion"] == addon_version(name, version)


def test_pinned_addon_version_is_used(dev_values):
    dev_values["eks-config-storage:addons"] = {"ebsCsiDriver": "v1.40.1-eksbuild.2"}
    plan = run_config("dev", dev_values)
    assert addon(plan, "aws-ebs-csi-driver").inputs["addonVersion"] == "v1.40.1-eksbuild.2"


def test_storage_classes_wait_only_for_their_own_driver(plan):
    ebs = addon(plan, "aws-ebs-csi-driver")
    if "aws-efs-csi-driver" not in drivers(plan):
        for resource in plan.of_type(STORAGE_CLASS):
            assert resource.inputs["provisioner"] == "ebs.csi.aws.com"
            assert plan.depends_on(resource, ebs)
        return
    efs = addon(plan, "aws-efs-csi-driver")
    fs = plan.one("aws:efs/fileSystem:FileSystem")
    for resource in plan.of_type(STORAGE_CLASS):
        if resource.inputs["provisioner"] == "ebs.csi.aws.com":
            assert plan.depends_on(resource, ebs)
            assert not plan.depends_on(resource, efs)
            assert not plan.depends_on(resource, fs)
        else:
            assert plan.depends_on(resource, efs)
            assert not plan.depends_on(resource, ebs)
            for target in plan.of_type("aws:efs/mountTarget:MountTarget"):
                assert plan.depends_on(resource, target), "no volume before every zone mounts"
    for schedule in plan.of_type("kubernetes:batch/v1:CronJob"):
        assert not plan.depends_on(schedule, efs)
        assert not plan.depends_on(schedule, fs)
