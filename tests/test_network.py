"""The network: created per config (zones, NAT layout, load balancer tags) or adopted."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from design.network import subnet_plan
from tests.test_config import broken
from tools.offline import Plan, ProgramError, run_config

SUBNET = "aws:ec2/subnet:Subnet"


def subnets(plan: Plan, kind: str) -> list:
    return [s for s in plan.of_type(SUBNET) if f"-{kind}-" in s.name]


@pytest.mark.parametrize(("stack", "zones", "nats"), [("dev", 2, 1), ("prod", 3, 3)])
def test_zones_and_nat_gateways_per_stack(plans, stack, zones, nats):
    plan = plans[stack]
    assert len(subnets(plan, "private")) == zones
    assert len(subnets(plan, "public")) == zones
    assert len({s.inputs["availabilityZone"] for s in subnets(plan, "private")}) == zones
    assert len(plan.of_type("aws:ec2/natGateway:NatGateway")) == nats
    assert len(plan.of_type("aws:ec2/eip:Eip")) == nats


def test_private_zones_route_through_their_own_nat_in_prod(plans):
    plan = plans["prod"]
    nat_by_zone = {
        n.name.removeprefix("network-nat-"): n.outputs["id"]
        for n in plan.of_type("aws:ec2/natGateway:NatGateway")
    }
    for table in plan.of_type("aws:ec2/routeTable:RouteTable"):
        if table.name.startswith("network-private-"):
            zone = table.name.removeprefix("network-private-")
            assert table.inputs["routes"] == [
                {"cidrBlock": "0.0.0.0/0", "natGatewayId": nat_by_zone[zone]}
            ]


def test_load_balancer_subnet_tags(plan):
    cluster_tag = f"kubernetes.io/cluster/{plan.exports['clusterName']}"
    for subnet in subnets(plan, "public"):
        assert subnet.inputs["tags"]["kubernetes.io/role/elb"] == "1"
        assert subnet.inputs["tags"][cluster_tag] == "shared"
        assert subnet.inputs["mapPublicIpOnLaunch"] is False
    for subnet in subnets(plan, "private"):
        assert subnet.inputs["tags"]["kubernetes.io/role/internal-elb"] == "1"
        assert subnet.inputs["tags"][cluster_tag] == "shared"


def test_default_security_group_is_emptied(plan):
    sg = plan.one("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup")
    assert not sg.inputs.get("ingress") and not sg.inputs.get("egress")


def test_existing_vpc_is_adopted_with_one_subnet_per_zone(dev_values):
    ids = ["subnet-0000000000000000a", "subnet-0000000000000000b", "subnet-0000000000000000c"]
    values = broken(
        dev_values,
        "network",
        {"existing": {"vpcId": "vpc-0123456789abcdef0", "privateSubnetIds": ids}},
    )
    zones = {ids[0]: "eu-west-1a", ids[1]: "eu-west-1b", ids[2]: "eu-west-1a"}
    plan = run_config("dev", values, subnet_zones=zones)
    assert not plan.of_type("aws:ec2/vpc:Vpc")
    assert not plan.of_type(SUBNET)
    assert plan.exports["vpcId"] == "vpc-0123456789abcdef0"
    eks = plan.one("aws:eks/cluster:Cluster")
    assert eks.inputs["vpcConfig"]["subnetIds"] == ids[:2]


def test_existing_subnets_in_a_single_zone_are_refused(dev_values):
    ids = ["subnet-0000000000000000a", "subnet-0000000000000000b"]
    values = broken(
        dev_values,
        "network",
        {"existing": {"vpcId": "vpc-0123456789abcdef0", "privateSubnetIds": ids}},
    )
    with pytest.raises(ProgramError, match="at least two availability zones"):
        run_config("dev", values, subnet_zones=dict.fromkeys(ids, "eu-west-1a"))


@given(prefix=st.integers(16, 20), zones=st.integers(1, 6))
def test_subnet_plan_fits_the_vpc_without_overlap(prefix, zones):
    vpc = ipaddress.ip_network(f"10.0.0.0/{prefix}")
    plan = subnet_plan(str(vpc), [f"z{i}" for i in range(zones)])
    nets = [ipaddress.ip_network(c) for z in plan for c in (z.public_cidr, z.private_cidr)]
    assert all(n.subnet_of(vpc) for n in nets)
    for i, a in enumerate(nets):
        for b in nets[i + 1 :]:
            assert not a.overlaps(b)
    for z in plan:
        private, public = (ipaddress.ip_network(c) for c in (z.private_cidr, z.public_cidr))
        assert private.num_addresses == 8 * public.num_addresses
