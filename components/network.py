"""The VPC the cluster and its storage live in: created here, or adopted from config."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from config.schema import CreatedNetwork, ExistingNetwork
from design.network import subnet_plan


@dataclass(frozen=True)
class NetworkArgs:
    cluster_name: str
    create: CreatedNetwork | None = None
    existing: ExistingNetwork | None = None


class Network(pulumi.ComponentResource):
    """Exposes ``private_subnets``: availability zone -> one private subnet ID in that zone."""

    vpc_id: pulumi.Output[str]
    private_subnets: dict[str, pulumi.Output[str]]
    public_subnet_ids: list[pulumi.Output[str]]

    def __init__(self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("eks-config-storage:network:Network", name, None, opts)
        self.public_subnet_ids = []
        if args.existing is not None:
            self._adopt(args.existing)
        elif args.create is not None:
            self._create(name, args.cluster_name, args.create)
        else:
            raise ValueError("NetworkArgs needs 'create' or 'existing'")
        self.register_outputs(
            {
                "vpcId": self.vpc_id,
                "privateSubnetIds": list(self.private_subnets.values()),
                "publicSubnetIds": self.public_subnet_ids,
            }
        )

    @property
    def private_subnet_ids(self) -> list[pulumi.Output[str]]:
        return list(self.private_subnets.values())

    def _adopt(self, existing: ExistingNetwork) -> None:
        # The private endpoint resolves through a private hosted zone that EKS associates with
        # the VPC: "your VPC must have enableDnsHostnames and enableDnsSupport set to true"
        # (awsdocs/amazon-eks-user-guide: latest/ug/clusters/cluster-endpoint.adoc).
        vpc = aws.ec2.get_vpc(id=existing.vpc_id)
        off = [
            name
            for name, on in (
                ("enableDnsSupport", vpc.enable_dns_support),
                ("enableDnsHostnames", vpc.enable_dns_hostnames),
            )
            if not on
        ]
        if off:
            raise ValueError(
                f"network.existing.vpcId: {existing.vpc_id} has {' and '.join(off)} off; the "
                "cluster's private endpoint resolves only in a VPC with both on (ask its owner "
                "to turn them on: aws ec2 modify-vpc-attribute)"
            )
        self.vpc_id = pulumi.Output.from_input(existing.vpc_id)
        self.private_subnets = {}
        for subnet_id in existing.private_subnet_ids:
            # Resolved now, not as an Output: the zones decide how many mount targets exist.
            zone = aws.ec2.get_subnet(id=subnet_id).availability_zone
            if zone in self.private_subnets:
                pulumi.log.warn(
                    f"network.existing.privateSubnetIds: {subnet_id} is not used, an earlier "
                    f"subnet of the list is in {zone} (one subnet per zone is used)",
                    resource=self,
                )
                continue
            self.private_subnets[zone] = pulumi.Output.from_input(subnet_id)
        if len(self.private_subnets) < 2:
            raise ValueError(
                "network.existing.privateSubnetIds must span at least two availability zones"
            )

    def _create(self, name: str, cluster: str, spec: CreatedNetwork) -> None:
        child = pulumi.ResourceOptions(parent=self)
        zones = aws.get_availability_zones(
            state="available",
            filters=[{"name": "opt-in-status", "values": ["opt-in-not-required"]}],
        ).names
        if len(zones) < spec.az_count:
            raise ValueError(
                f"network.create.azCount is {spec.az_count} but the region offers {len(zones)}"
            )
        plan = subnet_plan(spec.vpc_cidr, sorted(zones)[: spec.az_count])
        cluster_tag = {f"kubernetes.io/cluster/{cluster}": "shared"}

        vpc = aws.ec2.Vpc(
            f"{name}-vpc",
            cidr_block=spec.vpc_cidr,
            enable_dns_hostnames=True,
            enable_dns_support=True,
            tags={"Name": cluster},
            opts=child,
        )
        # Nothing should use the default security group; with no rules it allows nothing.
        aws.ec2.DefaultSecurityGroup(f"{name}-default-sg", vpc_id=vpc.id, opts=child)
        igw = aws.ec2.InternetGateway(
            f"{name}-igw", vpc_id=vpc.id, tags={"Name": cluster}, opts=child
        )
        public_rt = aws.ec2.RouteTable(
            f"{name}-public",
            vpc_id=vpc.id,
            routes=[{"cidr_block": "0.0.0.0/0", "gateway_id": igw.id}],
            tags={"Name": f"{cluster}-public"},
            opts=child,
        )

        nat_ids: list[pulumi.Output[str]] = []
        self.private_subnets = {}
        for zone in plan:
            public = aws.ec2.Subnet(
                f"{name}-public-{zone.zone}",
                vpc_id=vpc.id,
                cidr_block=zone.public_cidr,
                availability_zone=zone.zone,
                map_public_ip_on_launch=False,
                tags={
                    "Name": f"{cluster}-public-{zone.zone}",
                    "kubernetes.io/role/elb": "1",
                    **cluster_tag,
                },
                opts=child,
            )
            aws.ec2.RouteTableAssociation(
                f"{name}-public-{zone.zone}",
                subnet_id=public.id,
                route_table_id=public_rt.id,
                opts=child,
            )
            self.public_subnet_ids.append(public.id)
            if spec.nat_gateways == "perAz" or not nat_ids:
                eip = aws.ec2.Eip(
                    f"{name}-nat-{zone.zone}",
                    domain="vpc",
                    tags={"Name": f"{cluster}-nat-{zone.zone}"},
                    opts=child,
                )
                nat = aws.ec2.NatGateway(
                    f"{name}-nat-{zone.zone}",
                    subnet_id=public.id,
                    allocation_id=eip.id,
                    tags={"Name": f"{cluster}-nat-{zone.zone}"},
                    opts=pulumi.ResourceOptions(parent=self, depends_on=[igw]),
                )
                nat_ids.append(nat.id)

            private = aws.ec2.Subnet(
                f"{name}-private-{zone.zone}",
                vpc_id=vpc.id,
                cidr_block=zone.private_cidr,
                availability_zone=zone.zone,
                tags={
                    "Name": f"{cluster}-private-{zone.zone}",
                    "kubernetes.io/role/internal-elb": "1",
                    **cluster_tag,
                },
                opts=child,
            )
            private_rt = aws.ec2.RouteTable(
                f"{name}-private-{zone.zone}",
                vpc_id=vpc.id,
                routes=[{"cidr_block": "0.0.0.0/0", "nat_gateway_id": nat_ids[-1]}],
                tags={"Name": f"{cluster}-private-{zone.zone}"},
                opts=child,
            )
            aws.ec2.RouteTableAssociation(
                f"{name}-private-{zone.zone}",
                subnet_id=private.id,
                route_table_id=private_rt.id,
                opts=child,
            )
            self.private_subnets[zone.zone] = private.id
        self.vpc_id = vpc.id
