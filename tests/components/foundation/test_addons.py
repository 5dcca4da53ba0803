"""EKS managed add-ons: all six declared, each at EKS's default for the cluster's version unless
pinned, in the order EKS documents (VPC CNI before the nodes join; kube-proxy, CoreDNS and the
storage drivers after them; the EBS driver after the snapshot controller), and the EBS driver
configured for IMDS hop limit 1."""

from __future__ import annotations

import json

import pytest

from tests.support.plan_helpers import typed
from tools.offline import Plan, run_config
from tools.offline.mocks import addon_version

ADDON = "aws:eks/addon:Addon"
EFS_DRIVER = "aws-efs-csi-driver"
GROUP = "aws:eks/nodeGroup:NodeGroup"
BEFORE_NODES = {"vpc-cni"}
AFTER_NODES = {
    "kube-proxy",
    "coredns",
    "aws-ebs-csi-driver",
    "aws-efs-csi-driver",
    "snapshot-controller",
}


def addons(plan: Plan) -> dict:
    return {a.inputs["addonName"]: a for a in plan.of_type(ADDON)}


def after_nodes(plan: Plan) -> set[str]:
    """The EFS driver comes with the stack's file system only; the Pod Identity agent too, in a
    stack where a workload uses it (docs/identity.md)."""
    agent = any(r.type.endswith(":PodIdentityAssociation") for r in plan.resources)
    expected = AFTER_NODES if typed(plan.stack).storage.efs.enabled else AFTER_NODES - {EFS_DRIVER}
    return expected | ({"eks-pod-identity-agent"} if agent else set())


def test_every_addon_is_managed_and_follows_the_clusters_version(plan):
    version = typed(plan.stack).kubernetes_version
    found = addons(plan)
    assert set(found) == BEFORE_NODES | after_nodes(plan)
    cluster = plan.one("aws:eks/cluster:Cluster")
    for name, addon in found.items():
        assert addon.inputs["addonVersion"] == addon_version(name, version), name
        assert addon.inputs["clusterName"] == cluster.outputs["name"]
        # Adopts what EKS installed self-managed at creation; keeps local edits on update.
        assert addon.inputs["resolveConflictsOnCreate"] == "OVERWRITE"
        assert addon.inputs["resolveConflictsOnUpdate"] == "PRESERVE"


def test_the_pod_network_comes_before_the_nodes_and_the_rest_after(plan):
    found = addons(plan)
    groups = plan.of_type(GROUP)
    for group in groups:
        assert plan.depends_on(group, found["vpc-cni"])
    for name in after_nodes(plan):
        for group in groups:
            assert plan.depends_on(found[name], group), name
    assert not any(plan.depends_on(found["vpc-cni"], g) for g in groups)


def test_the_ebs_driver_installs_after_the_snapshot_crds_with_its_sidecar_forced(plan):
    found = addons(plan)
    ebs = found["aws-ebs-csi-driver"]
    assert plan.depends_on(ebs, found["snapshot-controller"])
    assert json.loads(ebs.inputs["configurationValues"]) == {
        "node": {"hostNetwork": True},
        "sidecars": {"snapshotter": {"forceEnable": True}},
    }


def test_no_other_addon_carries_configuration(plan):
    for name, addon in addons(plan).items():
        if name != "aws-ebs-csi-driver":
            assert "configurationValues" not in addon.inputs, name


@pytest.mark.parametrize(("key", "addon"), [("vpcCni", "vpc-cni"), ("coredns", "coredns")])
def test_a_pinned_version_is_used_as_given(dev_values, key, addon):
    dev_values["eks-config-storage:addons"] = {key: "v9.9.9-eksbuild.1"}
    assert addons(run_config("dev", dev_values))[addon].inputs["addonVersion"] == (
        "v9.9.9-eksbuild.1"
    )


def test_a_kubernetes_bump_moves_every_unpinned_addon_that_changes_with_it(dev_values):
    dev_values["eks-config-storage:kubernetesVersion"] = "1.36"
    bumped = addons(run_config("dev", dev_values))
    assert bumped["kube-proxy"].inputs["addonVersion"] == "v1.36.0-eksbuild.14"
    assert bumped["coredns"].inputs["addonVersion"] == "v1.13.2-eksbuild.6"
