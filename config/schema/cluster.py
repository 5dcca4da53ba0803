"""The cluster's network, API endpoint, envelope key and managed node groups."""

from __future__ import annotations

import ipaddress
from typing import Annotated, Literal

from pydantic import Field, field_validator

from config.schema.base import DNS_LABEL, Model, PrincipalArn
from design import secret_values


class CreatedNetwork(Model):
    """A new VPC with public and private subnets in ``az_count`` availability zones."""

    vpc_cidr: str = "10.0.0.0/16"
    az_count: int = Field(default=2, ge=2, le=6)
    nat_gateways: Literal["single", "perAz"] = "single"
    # Set once an earlier `up` has created the VPC and it is connected (peering, Transit Gateway,
    # VPN) to the network the deploy runners are in: a private-only endpoint is reachable then.
    connected_to_runners: bool = False

    @field_validator("vpc_cidr")
    @classmethod
    def _cidr(cls, value: str) -> str:
        net = ipaddress.ip_network(value, strict=True)
        if net.version != 4 or not 16 <= net.prefixlen <= 20:
            raise ValueError("must be an IPv4 CIDR between /16 and /20")
        return value


class ExistingNetwork(Model):
    """A VPC someone else owns; the cluster and its storage use the given private subnets."""

    vpc_id: Annotated[str, Field(pattern=r"^vpc-[0-9a-f]{8,17}$")]
    private_subnet_ids: Annotated[
        list[Annotated[str, Field(pattern=r"^subnet-[0-9a-f]{8,17}$")]], Field(min_length=2)
    ]

    @field_validator("private_subnet_ids")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("subnet IDs must be unique")
        return value


class Network(Model):
    """Exactly one of ``create`` or ``existing``."""

    create: CreatedNetwork | None = None
    existing: ExistingNetwork | None = None


SHARED_SPACE = ipaddress.ip_network("100.64.0.0/10")  # RFC 6598, common as a secondary VPC range


def _cidr_problems(value: list[str], *, private: bool) -> list[str]:
    problems = []
    for cidr in value:
        try:
            net = ipaddress.ip_network(cidr, strict=True)
        except ValueError as exc:
            problems.append(f"{cidr!r} is not a CIDR ({exc})")
            continue
        if net.prefixlen == 0:
            problems.append(f"{cidr} opens the API server to the whole internet")
        elif private and (net.version != 4 or not (net.is_private or net.subnet_of(SHARED_SPACE))):
            # The private endpoint's interfaces live in the VPC: traffic reaches them from the
            # VPC or a connected network, with private source addresses.
            problems.append(f"{cidr} is not a private IPv4 range; list it under publicAccessCidrs")
    return problems


SecurityGroupId = Annotated[str, Field(pattern=r"^sg-[0-9a-f]{8,17}$")]


class Endpoint(Model):
    """The Kubernetes API endpoint and who reaches it.

    The private endpoint is always on, but EKS's cluster security group admits only itself
    (awsdocs/amazon-eks-user-guide: latest/ug/networking/sec-group-reqs.adoc), so anything
    outside the cluster (a deploy runner, a VPN) needs an HTTPS rule from its network:
    ``privateAccessCidrs`` and ``privateAccessSecurityGroupIds`` become 443 ingress rules on that
    group.
    """

    public_access: bool = False
    public_access_cidrs: list[str] = Field(default_factory=list)
    private_access_cidrs: list[str] = Field(default_factory=list)
    private_access_security_group_ids: list[SecurityGroupId] = Field(default_factory=list)

    @field_validator("public_access_cidrs")
    @classmethod
    def _public_cidrs(cls, value: list[str]) -> list[str]:
        if problems := _cidr_problems(value, private=False):
            raise ValueError("; ".join(problems))
        return value

    @field_validator("private_access_cidrs")
    @classmethod
    def _private_cidrs(cls, value: list[str]) -> list[str]:
        if problems := _cidr_problems(value, private=True):
            raise ValueError("; ".join(problems))
        return value

    @property
    def private_sources(self) -> list[str]:
        return [*self.private_access_cidrs, *self.private_access_security_group_ids]


class Kms(Model):
    deletion_window_days: int = Field(default=30, ge=7, le=30)
    admin_arns: list[PrincipalArn] = Field(default_factory=list)


class NodeGroup(Model):
    name: Annotated[str, Field(pattern=DNS_LABEL, max_length=20)]
    instance_types: Annotated[
        list[Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]*\.[a-z0-9]+$")]], Field(min_length=1)
    ]
    ami_type: Literal["AL2023_x86_64_STANDARD", "AL2023_ARM_64_STANDARD"] = "AL2023_x86_64_STANDARD"
    capacity_type: Literal["ON_DEMAND", "SPOT"] = "ON_DEMAND"
    min_size: int = Field(ge=0, le=1000)
    max_size: int = Field(ge=1, le=1000)
    desired_size: int = Field(ge=0, le=1000)
    disk_size_gib: int = Field(default=50, ge=20, le=16384)
    labels: dict[str, str] = Field(default_factory=dict)
    # An EKS AMI release such as 1.35.3-20261115; unset follows EKS's recommended release for
    # the cluster's version, so a new AMI shows as a node group update in the preview.
    release_version: Annotated[str, Field(pattern=r"^1\.\d+\.\d+-\d{8}$")] | None = None

    @field_validator("labels")
    @classmethod
    def _no_secret_in_labels(cls, value: dict[str, str]) -> dict[str, str]:
        leaked = [
            f"{key} ({', '.join(found)})"
            for key, label in sorted(value.items())
            if (found := secret_values.findings(label))
        ]
        if leaked:
            raise ValueError(
                f"secret-looking label values {', '.join(leaked)}: node labels are readable by "
                "anyone who can list nodes"
            )
        return value
