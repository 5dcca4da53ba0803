"""The network: created per config (zones, NAT layout, load balancer tags) or adopted."""

from __future__ import annotations

import ipaddress
import logging

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from design.network import subnet_plan
from tests.support.stack_values import broken
from tools.offline import Plan, ProgramError, run_config, stack_config
from tools.offline.mocks import AwsMocks

SUBNET = "aws:ec2/subnet:Subnet"


def subnets(plan: Plan, kind: str) -> list:
    return [s for s in plan.of_type(SUBNET) if f"-{kind}-" in s.name]


def created_per_az(dev_values) -> Plan:
    """dev's stack with prod's old network: three zones, a NAT gateway each."""
    network = {"create": {"vpcCidr": "10.50.0.0/16", "azCount": 3, "natGateways": "perAz"}}
    return run_config("dev", broken(dev_values, "network", network))


@pytest.fixture(scope="module")
def per_az() -> Plan:
    return created_per_az(stack_config("dev"))


@pytest.mark.parametrize(("zones", "nats"), [(2, 1), (3, 3)])
def test_zones_and_nat_gateways_per_setting(plans, per_az, zones, nats):
    plan = plans["dev"] if zones == 2 else per_az
    assert len(subnets(plan, "private")) == zones
    assert len(subnets(plan, "public")) == zones
    assert len({s.inputs["availabilityZone"] for s in subnets(plan, "private")}) == zones
    assert len(plan.of_type("aws:ec2/natGateway:NatGateway")) == nats
    assert len(plan.of_type("aws:ec2/eip:Eip")) == nats


def test_private_zones_route_through_their_own_nat_per_az(per_az):
    plan = per_az
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


@pytest.mark.parametrize("layout", ["dev", "per-az"])
def test_load_balancer_subnet_tags(plans, per_az, layout):
    plan = plans["dev"] if layout == "dev" else per_az
    assert subnets(plan, "public") and subnets(plan, "private")
    cluster_tag = f"kubernetes.io/cluster/{plan.exports['clusterName']}"
    for subnet in subnets(plan, "public"):
        assert subnet.inputs["tags"]["kubernetes.io/role/elb"] == "1"
        assert subnet.inputs["tags"][cluster_tag] == "shared"
        assert subnet.inputs["mapPublicIpOnLaunch"] is False
    for subnet in subnets(plan, "private"):
        assert subnet.inputs["tags"]["kubernetes.io/role/internal-elb"] == "1"
        assert subnet.inputs["tags"][cluster_tag] == "shared"


def test_default_security_group_is_emptied(plans):
    sg = plans["dev"].one("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup")
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


@pytest.mark.parametrize("off", [["enableDnsSupport"], ["enableDnsSupport", "enableDnsHostnames"]])
def test_an_adopted_vpc_without_dns_is_refused_before_the_cluster(dev_values, monkeypatch, off):
    """EKS's private endpoint resolves through a private hosted zone: the VPC needs DNS support
    and hostnames (awsdocs/amazon-eks-user-guide: latest/ug/clusters/cluster-endpoint.adoc)."""
    answer = AwsMocks._call_getVpc

    def without_dns(self, args):
        return {**answer(self, args), **dict.fromkeys(off, False)}

    monkeypatch.setattr(AwsMocks, "_call_getVpc", without_dns)
    values = broken(
        dev_values,
        "network",
        {"existing": {"vpcId": "vpc-0123456789abcdef0", "privateSubnetIds": SUBNETS}},
    )
    with pytest.raises(ProgramError, match=f"vpc-0123456789abcdef0 has {' and '.join(off)} off"):
        run_config("dev", values)


SUBNETS = ["subnet-0000000000000000a", "subnet-0000000000000000b"]


def test_a_second_subnet_in_a_used_zone_is_left_out_with_a_warning(dev_values, caplog):
    ids = ["subnet-0000000000000000a", "subnet-0000000000000000b", "subnet-0000000000000000c"]
    values = broken(
        dev_values,
        "network",
        {"existing": {"vpcId": "vpc-0123456789abcdef0", "privateSubnetIds": ids}},
    )
    zones = {ids[0]: "eu-west-1a", ids[1]: "eu-west-1a", ids[2]: "eu-west-1b"}
    with caplog.at_level(logging.WARNING):
        plan = run_config("dev", values, subnet_zones=zones)
    assert plan.exports["privateSubnetIds"] == {"eu-west-1a": ids[0], "eu-west-1b": ids[2]}
    assert (
        f"network.existing.privateSubnetIds: {ids[1]} is not used, an earlier subnet of the "
        "list is in eu-west-1a (one subnet per zone is used)"
    ) in caplog.messages


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


SUBNET_IDS = st.lists(
    st.text("0123456789abcdef", min_size=17, max_size=17).map(lambda h: f"subnet-{h}"),
    min_size=2,
    max_size=6,
    unique=True,
)


@settings(max_examples=12)
@given(ids=SUBNET_IDS)
def test_adopted_subnets_plan_the_same_whatever_their_ids(ids):
    """Offline, the n-th adopted subnet is in the region's n-th zone (one subnet per zone, as
    documented), so any valid IDs give the same plan shape: every subnet used, never a CI
    failure or a missing mount target that depends on what the IDs happen to be."""
    values = broken(
        stack_config("prod"),
        "network.existing",
        {"vpcId": "vpc-0a1b2c3d4e5f60718", "privateSubnetIds": ids},
    )
    plan = run_config("prod", values)
    zones = [f"eu-west-1{z}" for z in "abcdef"][: len(ids)]
    assert plan.exports["privateSubnetIds"] == dict(zip(zones, ids, strict=True))
    assert plan.one("aws:eks/cluster:Cluster").inputs["vpcConfig"]["subnetIds"] == ids
    targets = plan.of_type("aws:efs/mountTarget:MountTarget")
    assert sorted(t.inputs["subnetId"] for t in targets) == sorted(ids)
