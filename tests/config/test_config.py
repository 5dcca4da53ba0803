"""Config is typed and validated before anything is registered; every problem is named by key."""

from __future__ import annotations

import ipaddress
import json

import pulumi
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pulumi.runtime import settings

from config import (
    PROJECT,
    ConfigError,
    StackConfig,
    load_stack_config,
    pulumi_source,
    top_level_keys,
    unknown_key_problems,
)
from tests.support.plan_helpers import aws_of, rejected
from tests.support.stack_values import MINIMAL, NS, broken
from tools.offline import ProgramError, run_config, stack_config
from tools.offline.runner import typed_config
from tools.offline.stackfiles import encode, merged_config

# The dev stack's own account: an admin role it reuses as a preview role is of that account.
DEV_ACCOUNT = aws_of("dev").account_id

BAD_CONFIGS = [
    # (stack, key to break, bad value, key path expected in the message)
    ("dev", "network.create.azCount", 1, "network.create.azCount"),
    ("dev", "network.create.vpcCidr", "10.0.0.0/8", "network.create.vpcCidr"),
    ("dev", "network.create.natGateways", "none", "network.create.natGateways"),
    ("dev", "endpoint.publicAccessCidrs", ["0.0.0.0/0"], "endpoint.publicAccessCidrs"),
    ("dev", "endpoint.publicAccessCidrs", [], "endpoint.publicAccessCidrs"),
    ("dev", "kms.deletionWindowDays", 3, "kms.deletionWindowDays"),
    ("dev", "kms.deletionWindowDays", 31, "kms.deletionWindowDays"),
    ("dev", "kubernetesVersion", "1.29", "kubernetesVersion"),
    ("dev", "nodeGroups.0.minSize", 5, "nodeGroups[0]"),
    ("dev", "nodeGroups.0.instanceTypes", [], "nodeGroups[0].instanceTypes"),
    ("dev", "adminRoleArns", ["arn:aws:iam::123:user/x"], "adminRoleArns[0]"),
    ("dev", "adminRoleArns", [], "adminRoleArns"),
    (
        "dev",
        "previewRoleArns",
        [f"arn:aws:iam::{DEV_ACCOUNT}:role/platform-admin"],
        "previewRoleArns",
    ),
    (
        "dev",
        "adminRoleArns",
        [f"arn:aws:iam::{DEV_ACCOUNT}:role/a/deploy", f"arn:aws:iam::{DEV_ACCOUNT}:role/b/deploy"],
        "adminRoleArns",
    ),
    ("dev", "clusterName", "Eks_Dev", "clusterName"),
    ("dev", "environment", "Dev!", "environment"),
    ("dev", "logRetentionDays", 42, "logRetentionDays"),
    (
        "dev",
        "network.existing",
        {"vpcId": "vpc-0123456789abcdef0", "privateSubnetIds": ["subnet-0123456789abcdef0"] * 2},
        "network.existing.privateSubnetIds",
    ),
    (
        "dev",
        "network.existing",
        {"vpcId": "vpc-0123456789abcdef0", "privateSubnetIds": ["subnet-0a", "subnet-0b"]},
        "network.existing.privateSubnetIds[0]",
    ),
    (
        "dev",
        "network.existing",
        {
            "vpcId": "vpc-0123456789abcdef0",
            "privateSubnetIds": ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"],
        },
        "network",
    ),
    ("dev", "nodeGroups.0.surprise", True, "nodeGroups[0].surprise"),
    ("dev", "production", True, "endpoint.publicAccess"),
    ("dev", "nodeGroups.0.amiType", "AL2023_ARM_64_STANDARD", "nodeGroups[0].instanceTypes[0]"),
    ("dev", "nodeGroups.0.instanceTypes", ["t3.large", "t4g.large"], "nodeGroups[0].instanceTypes"),
    (
        "dev",
        "snapshots.policies",
        [{"name": "daily", "schedule": "0 0 3 * * *", "keep": 3}],
        "snapshots.policies[0].schedule",
    ),
    (
        "dev",
        "nodeGroups.0.labels",
        {"token": "sk_" + "live_" + "4eC39HqLyjWDarjtT1zdp7dc"},
        "nodeGroups[0].labels",
    ),
    ("prod", "protect", False, "protect"),
    ("prod", "kms.deletionWindowDays", 7, "kms.deletionWindowDays"),
    ("prod", "snapshots.jobImage", "docker.io/alpine/k8s:1.34.1", "snapshots.jobImage"),
    (
        "prod",
        "endpoint",
        {"publicAccess": True, "publicAccessCidrs": ["198.51.100.0/24"]},
        "endpoint.publicAccess",
    ),
]


@pytest.mark.parametrize(("stack", "key", "value", "named"), BAD_CONFIGS)
def test_bad_config_is_rejected_by_key_before_any_resource(stack, key, value, named):
    rejected(stack, broken(stack_config(stack), key, value), named)


def test_every_problem_is_listed_in_one_error():
    values = stack_config("dev")
    for key, value in [
        ("network.create.azCount", 9),
        ("kms.deletionWindowDays", 1),
        ("logRetentionDays", 2),
        ("nodeGroups.0.diskSizeGib", 1),
    ]:
        values = broken(values, key, value)
    with pytest.raises(ProgramError) as failure:
        run_config("dev", values)
    message = str(failure.value)
    assert "4 problems" in message
    for key in (
        "network.create.azCount",
        "kms.deletionWindowDays",
        "logRetentionDays",
        "nodeGroups[0].diskSizeGib",
    ):
        assert f"{NS}:{key}:" in message


def test_unknown_key_is_rejected_before_the_program_runs():
    values = {**stack_config("dev"), f"{NS}:kubernetesVersoin": "1.34"}
    with pytest.raises(
        ProgramError, match=r"kubernetesVersoin: unknown key .*did you mean 'kubernetesVersion'"
    ) as failure:
        run_config("dev", values)
    assert failure.value.registered == 0


def load_through_the_sdk(monkeypatch, values: dict) -> StackConfig:
    """What a real run does: the CLI puts the whole config in PULUMI_CONFIG, the exec script
    loads it into the SDK, and the program reads it (no offline runner involved)."""
    encoded, _ = encode(merged_config(values))
    monkeypatch.setenv("PULUMI_CONFIG", json.dumps(encoded))
    monkeypatch.delenv("PULUMI_CONFIG_SECRET_KEYS", raising=False)
    settings.reset_options(project=PROJECT, stack="dev")
    pulumi.runtime.set_all_config(pulumi.runtime.get_config_env(), [])
    return pulumi_source.load()


def test_a_typo_is_refused_under_the_real_cli_with_the_closest_key(monkeypatch):
    policies = stack_config("dev")[f"{NS}:snapshots"]
    values = {**stack_config("dev"), f"{NS}:snapshot": policies, f"{NS}:NodeGroup": []}
    with pytest.raises(pulumi.RunError) as failure:
        load_through_the_sdk(monkeypatch, values)
    message = str(failure.value)
    assert "2 problems" in message
    assert (
        f"{NS}:snapshot: unknown key (not part of the stack config schema); "
        "did you mean 'snapshots'?" in message
    )
    assert f"{NS}:NodeGroup: unknown key" in message and "did you mean 'nodeGroups'" in message


def test_other_namespaces_stay_allowed_under_the_real_cli(monkeypatch):
    values = {**stack_config("dev"), "aws:profile": "platform", "kubernetes:context": "x"}
    assert load_through_the_sdk(monkeypatch, values).environment == "dev"


@given(key=st.from_regex(r"[a-zA-Z][a-zA-Z0-9]{0,20}", fullmatch=True))
def test_any_key_outside_the_schema_is_refused_by_name(key):
    problems = dict(unknown_key_problems([key]))
    if key in top_level_keys():
        assert problems == {}
    else:
        assert problems[key].startswith("unknown key")


def test_environment_and_cluster_name_default_from_the_stack_name(dev_values):
    """A new stack file works without code changes: names derive from the stack (its apps name
    the classes of their own environment, as a staging stack file would)."""
    staging = json.loads(json.dumps(dev_values).replace("-dev-rw", "-staging-rw"))
    plan = run_config("staging", staging)
    assert plan.exports["environment"] == "staging"
    assert plan.exports["clusterName"] == "eks-staging"
    assert plan.exports["storageClasses"] == ["efs-burst-staging-rwx", "gp3-ssd-staging-rwo"]


def test_real_stacks_validate():
    for stack in ("dev", "prod"):
        assert typed_config(stack, stack_config(stack)).environment == stack


def test_loader_is_pure_and_reports_structure_and_rules():
    with pytest.raises(ConfigError) as failure:
        load_stack_config({**MINIMAL, "nodeGroups": [], "sealedSecrets": None}, "dev")
    assert failure.value.problems == [
        ("nodeGroups", "List should have at least 1 item after validation, not 0"),
        ("sealedSecrets", "should be a mapping (indented keys below it); got None"),
    ]


groups = st.fixed_dictionaries(
    {
        "name": st.from_regex(r"[a-z][a-z0-9]{0,10}", fullmatch=True),
        "instanceTypes": st.just(["m6i.large"]),
        "minSize": st.integers(0, 20),
        "maxSize": st.integers(1, 20),
        "desiredSize": st.integers(0, 20),
    }
)


@given(group=groups)
def test_node_group_sizes_are_accepted_exactly_when_ordered(group):
    values = {**MINIMAL, "nodeGroups": [group]}
    ordered = group["minSize"] <= group["desiredSize"] <= group["maxSize"]
    try:
        load_stack_config(values, "dev")
    except ConfigError as exc:
        assert not ordered
        assert (
            exc.problems == [("nodeGroups[0]", exc.problems[0][1])]
            and "minSize <= desiredSize <= maxSize" in exc.problems[0][1]
        )
    else:
        assert ordered


@given(
    cidr=st.builds(
        lambda a, b, c, d, p: f"{a}.{b}.{c}.{d}/{p}",
        st.integers(0, 255),
        st.integers(0, 255),
        st.integers(0, 255),
        st.integers(0, 255),
        st.integers(0, 32),
    )
)
def test_public_cidrs_are_real_networks_and_never_the_whole_internet(cidr):
    values = {
        **MINIMAL,
        "endpoint": {"publicAccess": True, "publicAccessCidrs": [cidr]},
    }
    try:
        net = ipaddress.ip_network(cidr, strict=True)
    except ValueError:
        net = None
    try:
        cfg = load_stack_config(values, "dev")
    except ConfigError as exc:
        assert net is None or net.prefixlen == 0
        assert exc.problems[0][0] == "endpoint.publicAccessCidrs"
    else:
        assert net is not None and net.prefixlen > 0
        assert cfg.endpoint.public_access_cidrs == [cidr]
