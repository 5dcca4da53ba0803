"""Address plan of a created VPC: one public and one private subnet per availability zone.

Private subnets are 8x larger than public ones: with the VPC CNI every pod takes a VPC address,
while public subnets only hold NAT gateways and load balancer interfaces.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

MAX_ZONES = 6


@dataclass(frozen=True)
class ZoneSubnets:
    zone: str
    public_cidr: str
    private_cidr: str


def subnet_plan(vpc_cidr: str, zones: list[str]) -> list[ZoneSubnets]:
    """Split ``vpc_cidr``: private subnets take the first eighths, public ones the last eighth."""
    if not 1 <= len(zones) <= MAX_ZONES:
        raise ValueError(f"between 1 and {MAX_ZONES} zones are supported, got {len(zones)}")
    vpc = ipaddress.ip_network(vpc_cidr)
    eighths = list(vpc.subnets(prefixlen_diff=3))
    private = eighths[: len(zones)]
    public = list(eighths[-1].subnets(prefixlen_diff=3))[: len(zones)]
    return [
        ZoneSubnets(zone, str(pub), str(priv))
        for zone, pub, priv in zip(zones, public, private, strict=True)
    ]
