"""Reach: the deployer can get to the API server in every stack, by construction.

pulumi-kubernetes fails every object of a cluster it cannot connect to ("configured Kubernetes
cluster is unreachable", pulumi/pulumi-kubernetes@v4.32.0:provider/pkg/provider/provider.go), and
EKS's cluster security group admits only itself (awsdocs/amazon-eks-user-guide:
latest/ug/networking/sec-group-reqs.adoc). So a private endpoint needs 443 rules from the
networks that deploy, a stack nothing can reach is refused, and every runner group in
.github/runners.yml must be admitted by the stacks it serves.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from config import ConfigError, load_stack_config
from tests.support.plan_helpers import rejected
from tests.support.stack_sets import pipeline_stacks
from tests.support.stack_values import MINIMAL, broken
from tools.offline import Plan, run_config, stack_config
from tools.report import reach_lines

RUNNERS = yaml.safe_load(
    (Path(__file__).resolve().parents[2] / ".github" / "runners.yml").read_text()
)["groups"]
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"


def api_rules(plan: Plan) -> list:
    group = plan.one("aws:eks/cluster:Cluster").outputs["vpcConfig"]["clusterSecurityGroupId"]
    return [r for r in plan.of_type(INGRESS) if r.inputs["securityGroupId"] == group]


def admitted(plan: Plan) -> tuple[list, list]:
    """(public CIDRs, private sources) the plan lets reach the API server."""
    vpc = plan.one("aws:eks/cluster:Cluster").inputs["vpcConfig"]
    public = vpc["publicAccessCidrs"] if vpc["endpointPublicAccess"] else []
    private = [
        r.inputs.get("cidrIpv4") or r.inputs["referencedSecurityGroupId"] for r in api_rules(plan)
    ]
    return public, private


def test_private_sources_become_https_rules_on_the_cluster_security_group(plan):
    endpoint = stack_config(plan.stack)["eks-config-storage:endpoint"]
    expected = endpoint.get("privateAccessCidrs", [])
    rules = api_rules(plan)
    assert sorted(r.inputs["cidrIpv4"] for r in rules) == sorted(expected)
    for rule in rules:
        assert (rule.inputs["ipProtocol"], rule.inputs["fromPort"], rule.inputs["toPort"]) == (
            "tcp",
            443,
            443,
        )
        assert "referencedSecurityGroupId" not in rule.inputs


def test_kubernetes_provider_waits_for_the_way_in(plans):
    plan = plans["prod"]
    provider = plan.one("pulumi:providers:kubernetes")
    assert api_rules(plan)
    for rule in api_rules(plan):
        assert plan.depends_on(provider, rule), rule.name


def test_security_groups_can_be_admitted_too(dev_values):
    values = broken(dev_values, "endpoint.privateAccessSecurityGroupIds", ["sg-0123456789abcdef0"])
    (rule,) = api_rules(run_config("dev", values))
    assert rule.inputs["referencedSecurityGroupId"] == "sg-0123456789abcdef0"
    assert "cidrIpv4" not in rule.inputs
    assert rule.name == "cluster-api-from-sg-0123456789abcdef0"


PRIVATE_ONLY = {"publicAccess": False}


@pytest.mark.parametrize(
    ("stack", "endpoint", "named", "says"),
    [
        ("prod", PRIVATE_ONLY, "endpoint", "nothing can reach the API server"),
        ("dev", PRIVATE_ONLY, "endpoint", "nothing can reach the API server"),
        (
            "dev",
            {**PRIVATE_ONLY, "privateAccessCidrs": ["10.40.0.0/16"]},
            "endpoint",
            "network.create makes the VPC in this same up",
        ),
        (
            "prod",
            {**PRIVATE_ONLY, "privateAccessCidrs": ["52.94.0.0/16"]},
            "endpoint.privateAccessCidrs",
            "not a private IPv4 range",
        ),
        (
            "prod",
            {**PRIVATE_ONLY, "privateAccessCidrs": ["0.0.0.0/0"]},
            "endpoint.privateAccessCidrs",
            "whole internet",
        ),
        (
            "prod",
            {**PRIVATE_ONLY, "privateAccessCidrs": ["10.60.96.1/24"]},
            "endpoint.privateAccessCidrs",
            "not a CIDR",
        ),
        (
            "prod",
            {**PRIVATE_ONLY, "privateAccessSecurityGroupIds": ["sg-xyz"]},
            "endpoint.privateAccessSecurityGroupIds[0]",
            "pattern",
        ),
    ],
)
def test_an_endpoint_nothing_can_reach_is_refused_with_the_reason(stack, endpoint, named, says):
    line = rejected(stack, broken(stack_config(stack), "endpoint", endpoint), named)
    assert says in line


def test_a_created_vpc_already_connected_to_the_runners_may_keep_a_private_endpoint():
    """A stack whose earlier up created its VPC, since peered or attached to the runners'
    network, is not stuck: it says so and plans, in production too."""
    values = stack_config("prod")
    del values["eks-config-storage:network"]["existing"]
    values["eks-config-storage:network"]["create"] = {"azCount": 3, "natGateways": "perAz"}
    line = rejected("prod", values, "endpoint")
    assert "network.create.connectedToRunners: true" in line
    values["eks-config-storage:network"]["create"]["connectedToRunners"] = True
    plan = run_config("prod", values)
    assert admitted(plan) == ([], ["10.60.96.0/24", "10.8.0.0/16"])


@given(
    st.tuples(st.integers(0, 255), st.integers(0, 255), st.integers(0, 255), st.integers(0, 255)),
    st.integers(0, 32),
)
def test_private_access_accepts_exactly_private_ipv4_networks(octets, prefix):
    cidr = f"{'.'.join(map(str, octets))}/{prefix}"
    values = {**MINIMAL, "endpoint": {**MINIMAL["endpoint"], "privateAccessCidrs": [cidr]}}
    try:
        net = ipaddress.ip_network(cidr, strict=True)
    except ValueError:
        net = None
    ok = (
        net is not None
        and net.prefixlen > 0
        and (net.is_private or net.subnet_of(ipaddress.ip_network("100.64.0.0/10")))
    )
    try:
        cfg = load_stack_config(values, "dev")
    except ConfigError as exc:
        assert not ok
        assert exc.problems[0][0] == "endpoint.privateAccessCidrs"
    else:
        assert ok
        assert cfg.endpoint.private_access_cidrs == [cidr]


def test_the_plan_states_from_where_the_api_server_is_reachable(plans):
    assert reach_lines(plans["prod"]) == [
        "  public endpoint   off",
        "  private endpoint  the cluster security group's members; "
        "on 443 from 10.60.96.0/24, 10.8.0.0/16",
    ]
    assert reach_lines(plans["dev"]) == [
        "  public endpoint   203.0.113.0/24, 198.51.100.10/32, 198.51.100.20/32",
        "  private endpoint  the cluster security group's members; nothing else admitted",
    ]


# -- runner groups against the stacks they serve ------------------------------------------------


@pytest.mark.parametrize(
    ("group", "stack"),
    [(group, stack) for group, spec in RUNNERS.items() for stack in spec["reaches"]],
)
def test_every_runner_group_is_admitted_by_the_stacks_it_serves(plans, group, stack):
    public, private = admitted(plans[stack])
    for path, address in RUNNERS[group]["reaches"][stack].items():
        network = ipaddress.ip_network(address)
        allowed = public if path == "public" else [s for s in private if not s.startswith("sg-")]
        assert any(network.subnet_of(ipaddress.ip_network(cidr)) for cidr in allowed), (
            f"{group} reaches {stack} from {address} over the {path} endpoint, "
            f"which admits only {allowed}"
        )


@pytest.mark.parametrize("stack", pipeline_stacks())  # local stacks: tests/support/stack_sets.py
def test_every_stack_has_a_deploy_group_and_previews_only_outside_production(plans, stack):
    serving = {g: spec for g, spec in RUNNERS.items() if stack in spec["reaches"]}
    assert any(spec["purpose"] == "deploy" for spec in serving.values()), stack
    values = stack_config(stack)
    previews = [g for g, spec in serving.items() if spec["purpose"] == "preview"]
    if values.get("eks-config-storage:production"):
        assert not previews, "pull-request code never gets production credentials"
    for group in previews:
        assert values.get("eks-config-storage:previewRoleArns"), group


def test_deploy_groups_serve_only_the_deploy_workflow_on_main():
    for group, spec in RUNNERS.items():
        if spec["purpose"] == "deploy":
            assert spec["workflows"] == [".github/workflows/deploy.yml@refs/heads/main"], group
        else:
            assert all("deploy.yml" not in w for w in spec["workflows"]), group
