"""Day-2 changes to a live stack (the 26 of the day-2 review): after each one the graph is safe,
or the transition rules fail the diff naming the resource and the acknowledgement that accepts
it, or the config refuses the change before anything is registered."""

from __future__ import annotations

import copy

import pytest

from tests.support.day2_changes import Change, Values, app, head, judged, rename_app
from tests.support.plan_helpers import aws_of
from tests.support.stack_values import NS, broken
from tools import transitions
from tools.offline import ProgramError, run_config, stack_config


def edit(path: str, value) -> Change:
    def change(values: Values) -> None:
        values.update(broken(values, path, value))

    return change


def rename_db_tier(retire: bool) -> Change:
    def change(values: Values) -> None:
        storage = values[f"{NS}:storage"]
        db = next(c for c in storage["classes"] if c.get("tier") == "db")
        if retire:
            storage["retiredClasses"] = [{**copy.deepcopy(db), "name": "io2-ssd-db-prod-rwo"}]
        db["tier"] = "oltp"
        app(values, "orders")["storage"][0]["class"] = "io2-ssd-oltp-prod-rwo"

    return change


def efs_mode(values: Values) -> None:
    values[f"{NS}:storage"]["efs"]["throughputMode"] = "bursting"
    app(values, "catalog")["storage"][0]["class"] = "efs-burst-prod-rwx"


def efs_off(values: Values) -> None:
    storage = values[f"{NS}:storage"]
    storage["efs"] = {"enabled": False}
    storage["classes"] = [c for c in storage["classes"] if c["backing"] != "efs"]
    app(values, "catalog")["storage"] = []


def remove_app(values: Values) -> None:
    values[f"{NS}:apps"] = [a for a in values[f"{NS}:apps"] if a["name"] != "orders"]


def node_group(field: str, value) -> Change:
    def change(values: Values) -> None:
        values[f"{NS}:nodeGroups"][0][field] = value

    return change


def kubernetes_minor_up(values: Values) -> None:
    """1.35 to 1.36; a group that pins its AMI release moves its pin to a 1.36 release in the
    same change (a pin of the old minor is refused)."""
    values.update(broken(values, "kubernetesVersion", "1.36"))
    for group in values[f"{NS}:nodeGroups"]:
        if group.get("releaseVersion"):
            group["releaseVersion"] = "1.36.0-20261115"


def to_graviton(values: Values) -> None:
    values[f"{NS}:nodeGroups"][0].update(
        amiType="AL2023_ARM_64_STANDARD", instanceTypes=["m7g.large"]
    )


def rename_policy(values: Values) -> None:
    values[f"{NS}:snapshots"]["policies"][0]["name"] = "hourly-24"
    # Classes that name it are renamed with it, or the config refuses the rename.
    for cls in values[f"{NS}:storage"]["classes"]:
        policies = cls.get("protection", {}).get("snapshotPolicies", [])
        policies[:] = ["hourly-24" if p == "hourly" else p for p in policies]


def rename_environment(values: Values) -> None:
    values[f"{NS}:clusterName"] = "eks-dev"
    values[f"{NS}:environment"] = "development"
    for a in values[f"{NS}:apps"]:
        for budget in a.get("storage", []):
            budget["class"] = budget["class"].replace("-dev-", "-development-")


def to_existing(values: Values) -> None:
    values[f"{NS}:network"] = {
        "existing": {
            "vpcId": "vpc-0123456789abcdef0",
            "privateSubnetIds": ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"],
        }
    }
    values[f"{NS}:endpoint"]["privateAccessCidrs"] = ["10.40.0.0/16"]


# (review #, stack, change, violations as (subject, acknowledgement key)); [] means safe.
CASES = [
    ("1 add an app", "prod", lambda v: v[f"{NS}:apps"].append({"name": "billing"}), []),
    ("2 remove an app (protected: namespace retained)", "prod", remove_app, []),
    (
        "2 remove an app (unprotected)",
        "dev",
        remove_app,
        [("app-orders-namespace", "acknowledge.deletes")],
    ),
    ("3 rename an app, namespace kept", "prod", rename_app("orders"), []),
    (
        "3 rename an app, namespace follows",
        "dev",
        rename_app(None),
        [("app-orders-namespace", "acknowledge.deletes")],
    ),
    (
        "4 move an app to a new namespace (protected)",
        "prod",
        rename_app("orders-v2"),
        [("app-orders-namespace", "acknowledge.deletes")],
    ),
    ("5 class iops", "prod", edit("storage.classes.1.iops", 20000), []),
    (
        "6 class tier renamed",
        "prod",
        rename_db_tier(retire=False),
        [("classes-io2-ssd-db-prod-rwo", "acknowledge.deletes")],
    ),
    ("6 class tier renamed, old class retired", "prod", rename_db_tier(retire=True), []),
    ("7 reclaim policy", "dev", edit("storage.reclaimPolicy", "Retain"), []),
    ("8 Kubernetes one minor up", "prod", kubernetes_minor_up, []),
    ("9 node instance types", "prod", node_group("instanceTypes", ["m7i.xlarge"]), []),
    ("9 node AMI type", "dev", to_graviton, []),
    ("10 node disk size", "prod", node_group("diskSizeGib", 200), []),
    ("11 node group name", "prod", node_group("name", "general-v2"), []),
    (
        "12 add a node group",
        "prod",
        lambda v: v[f"{NS}:nodeGroups"].append({**v[f"{NS}:nodeGroups"][0], "name": "batch"}),
        [],
    ),
    (
        "13 zone count",
        "dev",
        edit("network.create.azCount", 3),
        [("zones", "acknowledge.settings")],
    ),
    (
        "14 network mode",
        "dev",
        to_existing,
        [
            ("network", "acknowledge.settings"),
            ("efs-eu-west-1a", "acknowledge.replacements"),
            ("efs-eu-west-1b", "acknowledge.replacements"),
        ],
    ),
    (
        "15 cluster name",
        "dev",
        edit("clusterName", "eks-dev-2"),
        [
            ("clusterName", "acknowledge.settings"),
            ("cluster-eks", "acknowledge.replacements"),
            ("cluster-logs", "acknowledge.replacements"),
            ("efs-fs", "acknowledge.replacements"),
            # The file system's replacement reaches what refers to it.
            ("efs-backup", "acknowledge.replacements"),
            ("efs-eu-west-1a", "acknowledge.replacements"),
            ("efs-eu-west-1b", "acknowledge.replacements"),
        ],
    ),
    (
        "16 environment, cluster name pinned",
        "dev",
        rename_environment,
        [
            ("environment", "acknowledge.settings"),
            ("classes-gp3-ssd-dev-rwo", "acknowledge.deletes"),
            ("classes-efs-burst-dev-rwx", "acknowledge.deletes"),
        ],
    ),
    ("17 key deletion window", "dev", edit("kms.deletionWindowDays", 10), []),
    # The file system itself is retained (left in AWS with its files); its data path is not.
    (
        "19 disable EFS (protected)",
        "prod",
        efs_off,
        [
            # The marker goes first and protect refuses it: the up stops before anything else.
            ("efs-in-use-marker", "acknowledge.deletes"),
            ("efs-fs", "acknowledge.deletes"),
            ("efs-backup", "acknowledge.deletes"),
            ("efs-eu-west-1a", "acknowledge.deletes"),
            ("efs-eu-west-1b", "acknowledge.deletes"),
            ("efs-eu-west-1c", "acknowledge.deletes"),
            ("classes-efs-elastic-prod-rwx", "acknowledge.deletes"),
        ],
    ),
    (
        "20a EFS throughput mode",
        "prod",
        efs_mode,
        [("classes-efs-elastic-prod-rwx", "acknowledge.deletes")],
    ),
    (
        "20b EFS performance mode",
        "prod",
        edit("storage.efs.performanceMode", "maxIO"),
        [
            ("efs-fs", "acknowledge.replacements"),
            ("efs-in-use-marker", "acknowledge.replacements"),
            ("efs-backup", "acknowledge.replacements"),
            *[(f"efs-eu-west-1{z}", "acknowledge.replacements") for z in "abc"],
        ],
    ),
    (
        "21a snapshot policy renamed",
        "prod",
        rename_policy,
        [("snapshot policy hourly", "acknowledge.snapshotPolicies")],
    ),
    ("21b snapshot keep", "prod", edit("snapshots.policies.0.keep", 48), []),
    ("22 snapshot namespace", "prod", edit("snapshots.namespace", "storage-ops"), []),
    (
        "23a External Secrets namespace",
        "prod",
        edit("externalSecrets.namespace", "eso"),
        [("externalSecrets.namespace", "acknowledge.settings")],
    ),
    ("23b External Secrets chart", "prod", edit("externalSecrets.chartVersion", "0.20.5"), []),
    ("24 Sealed Secrets chart", "prod", edit("sealedSecrets.chartVersion", "2.18.5"), []),
    ("25 log retention", "prod", edit("logRetentionDays", 400), []),
    (
        "28 VPC CIDR of a created VPC",
        "dev",
        edit("network.create.vpcCidr", "10.1.0.0/16"),
        [
            ("network.create.vpcCidr", "acknowledge.settings"),
            ("efs-eu-west-1a", "acknowledge.replacements"),
            ("efs-eu-west-1b", "acknowledge.replacements"),
        ],
    ),
    # EKS sets the creator's admin entry only at creation: turning it on later (as a way out of
    # the lock-out check) replaces the cluster, and the diff says so.
    (
        "27 creator admin turned on after creation",
        "prod",
        edit("bootstrapCreatorAdmin", True),
        [("cluster-eks", "acknowledge.replacements")],
    ),
    (
        "27 creator admin turned on after creation (dev)",
        "dev",
        edit("bootstrapCreatorAdmin", True),
        [("cluster-eks", "acknowledge.replacements")],
    ),
]


@pytest.mark.parametrize(("case", "stack", "change", "expected"), CASES, ids=[c[0] for c in CASES])
def test_a_day2_change_is_safe_or_named_with_its_acknowledgement(
    plans, case, stack, change, expected
):
    values = head(stack, change)
    lines, judgement = judged(plans[stack], stack, values)
    found = sorted((v.subject, v.key) for v in judgement.violations)
    assert found == sorted(expected), "\n".join(lines)
    if expected:
        buckets: dict[str, list] = {}
        for subject, key in expected:
            bucket = key.removeprefix("acknowledge.")
            buckets.setdefault(bucket, []).append(subject.removeprefix("snapshot policy "))
        values[f"{NS}:acknowledge"] = {"reason": f"review #{case}", **buckets}
        _, accepted = judged(plans[stack], stack, values)
        assert accepted.violations == [] and len(accepted.accepted) == len(expected)


@pytest.mark.parametrize(
    ("case", "stack", "key", "value", "named"),
    [
        (
            "18 admins without the deploying role",
            "prod",
            "adminRoleArns",
            [f"arn:aws:iam::{aws_of('prod').account_id}:role/platform-admin"],
            "adminRoleArns",
        ),
        ("26 dev endpoint made private", "dev", "endpoint", {"publicAccess": False}, "endpoint"),
    ],
)
def test_a_day2_change_the_config_refuses_before_anything_is_registered(
    case, stack, key, value, named
):
    values = broken(stack_config(stack), key, value)
    with pytest.raises(ProgramError) as failure:
        run_config(stack, values, caller_role="github-deploy-prod" if stack == "prod" else None)
    assert failure.value.registered == 0
    assert f"{NS}:{named}:" in str(failure.value)


def test_a_kubernetes_upgrade_shows_control_plane_nodes_and_addons_in_order(plans):
    values = head("prod", kubernetes_minor_up)
    after = run_config("prod", values)
    found = {
        c.name: c
        for c in transitions.changes(plans["prod"].document(), after.document())
        if c.kind != "LaunchTemplate"
    }
    assert found["cluster-eks"].consequence.startswith("in place: control-plane upgrade")
    assert "rolling node upgrade" in found["nodes-general"].consequence
    assert found["addons-kube-proxy"].fields == ("addonVersion",)
    nodes = after.one("aws:eks/nodeGroup:NodeGroup", "nodes-general")
    assert after.depends_on(nodes, after.named("cluster-eks"))
    assert after.depends_on(after.named("addons-kube-proxy"), nodes)


def test_skipping_a_kubernetes_minor_fails_with_no_acknowledgement_possible(plans, dev_values):
    values = broken(dev_values, "kubernetesVersion", "1.36")
    values = broken(
        values, "acknowledge", {"reason": "try to skip 1.35", "settings": ["kubernetesVersion"]}
    )
    base_values = broken(dev_values, "kubernetesVersion", "1.34")
    base = run_config("dev", base_values)
    _, judgement = judged(base, "dev", values)
    (violation,) = judgement.violations
    assert violation.subject == "kubernetesVersion" and violation.key == ""
    assert "one minor at a time" in violation.message


def test_an_acknowledgement_that_matches_nothing_is_reported(plans, dev_values):
    values = broken(
        dev_values, "acknowledge", {"reason": "left over from last time", "deletes": ["efs-fs"]}
    )
    lines, judgement = judged(plans["dev"], "dev", values)
    assert judgement.unused == ["deletes: efs-fs"]  # as the stack file spells the key
    assert "  - deletes: efs-fs" in lines


# What a real `up` does to the resources that carry each change (the review's table): the mark
# matters as much as the verdict, e.g. a node group must be replaced new-one-first.
MARKS = {
    "5 class iops": {"classes-io2-ssd-db-prod-rwo": ("replace", True)},
    "7 reclaim policy": {
        "classes-gp3-ssd-dev-rwo": ("replace", True),
        "classes-efs-burst-dev-rwx": ("replace", True),
    },
    "9 node instance types": {"nodes-general": ("replace", False)},
    "9 node AMI type": {"nodes-general": ("replace", False)},
    "11 node group name": {
        "nodes-general": ("delete", False),
        "nodes-general-v2": ("create", False),
    },
}


@pytest.mark.parametrize("case", list(MARKS))
def test_each_change_is_marked_as_a_real_up_makes_it(plans, case):
    _, stack, change, _ = next(c for c in CASES if c[0] == case)
    after = run_config(stack, head(stack, change))
    found = {c.name: c for c in transitions.changes(plans[stack].document(), after.document())}
    for name, (action, delete_first) in MARKS[case].items():
        assert (found[name].action, found[name].delete_first) == (action, delete_first), name
