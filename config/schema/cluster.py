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
    """The new VPC's IPv4 CIDR, /16 to /20."""
    az_count: int = Field(default=2, ge=2, le=6)
    """Availability zones (dev 2, prod 3)."""
    nat_gateways: Literal["single", "perAz"] = "single"
    """One NAT gateway, or one per zone (prod)."""
    # Set once an earlier `up` has created the VPC and it is connected (peering, Transit Gateway,
    # VPN) to the network the deploy runners are in: a private-only endpoint is reachable then.
    connected_to_runners: bool = False
    """The VPC already exists (an earlier `up` created it) and is connected to the deploy runners'
    network: a private-only endpoint is then allowed with `network.create`. Never set it for a
    first `up`: no runner can reach a VPC before it exists."""

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
    """Adopt this VPC instead of creating one. It must have DNS support and DNS hostnames on (the
    private endpoint resolves through a private hosted zone EKS associates with it); the program
    reads both and refuses the VPC otherwise."""
    private_subnet_ids: Annotated[
        list[Annotated[str, Field(pattern=r"^subnet-[0-9a-f]{8,17}$")]], Field(min_length=2)
    ]
    """Private subnets to use (at least 2 zones; one per zone is used, and a second subnet in a zone
    already used is left out with a warning). Offline, the n-th listed subnet is in the region's
    n-th zone."""

    @field_validator("private_subnet_ids")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("subnet IDs must be unique")
        return value


class Network(Model):
    """Exactly one of ``create`` or ``existing``."""

    create: CreatedNetwork | None = None
    """Create a new VPC with public and private subnets (the default)."""
    existing: ExistingNetwork | None = None
    """Use a VPC someone else owns."""


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
    """Public API endpoint as well as the private one (never in production)."""
    public_access_cidrs: list[str] = Field(default_factory=list)
    """CIDRs allowed to the public endpoint; required with it; never `/0`."""
    private_access_cidrs: list[str] = Field(default_factory=list)
    """Private IPv4 networks (in the VPC or connected to it) admitted to the private endpoint: each
    becomes an HTTPS (443) ingress rule on the cluster security group. Never `/0`, never a public
    range."""
    private_access_security_group_ids: list[SecurityGroupId] = Field(default_factory=list)
    """Security groups (of runners, bastions) admitted to the private endpoint on 443."""

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
    """Key deletion window in days (production: 30)."""
    admin_arns: list[PrincipalArn] = Field(default_factory=list)
    """Roles and users that administer the key (they cannot use it)."""


class NodeGroup(Model):
    name: Annotated[str, Field(pattern=DNS_LABEL, max_length=20)]
    """DNS label, at most 20 characters, unique."""
    instance_types: Annotated[
        list[Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]*\.[a-z0-9]+$")]], Field(min_length=1)
    ]
    """At least one instance type, each once, all of the AMI's architecture: Graviton types (a `g`
    after the generation: `m7g`, `c6gn`, `t4g`, `r8g`, `x2gd`) with the Arm AMI, any other with
    the x86 AMI. Refused: GPU and accelerator families (`g`, `gr`, `p`, `inf`, `trn`, `dl`: no
    driver on a STANDARD AMI), `g5g` and `mac` (no EKS AMI), `a1` (AL2023 needs Graviton2), a
    group mixing architectures. Names this check cannot read are left to EKS."""
    ami_type: Literal["AL2023_x86_64_STANDARD", "AL2023_ARM_64_STANDARD"] = "AL2023_x86_64_STANDARD"
    """The EKS AMI (x86 or Arm)."""
    capacity_type: Literal["ON_DEMAND", "SPOT"] = "ON_DEMAND"
    """On-demand or Spot. EKS takes a Spot group with one type; production asks for two or more (one
    type is one capacity pool)."""
    min_size: int = Field(ge=0, le=1000)
    """Smallest number of nodes; `minSize <= desiredSize <= maxSize`."""
    max_size: int = Field(ge=1, le=1000)
    """Largest number of nodes."""
    desired_size: int = Field(ge=0, le=1000)
    """Nodes to start with."""
    disk_size_gib: int = Field(default=50, ge=20, le=16384)
    """Root volume size in GiB (gp3, encrypted with the stack's key)."""
    labels: dict[str, str] = Field(default_factory=dict)
    """Kubernetes node labels (secret-looking values refused)."""
    # An EKS AMI release such as 1.35.3-20261115; unset follows EKS's recommended release for
    # the cluster's version, so a new AMI shows as a node group update in the preview.
    release_version: Annotated[str, Field(pattern=r"^1\.\d+\.\d+-\d{8}$")] | None = None
    """AMI release to pin (e.g. `1.35.3-20261115`); unset follows EKS's recommended AL2023 release
    for the version, so a new AMI shows as a node group update in the preview."""

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
