"""Mock AWS and Kubernetes answers, and a monitor that records every registration.

Identifiers are derived from the resource's type and name, so two runs of the same program give
the same plan and a diff between plans shows only real changes.
"""

from __future__ import annotations

import hashlib
from typing import Any

import pulumi
from google.protobuf import json_format, struct_pb2
from pulumi.runtime.mocks import MockCallArgs, MockMonitor, MockResourceArgs
from pulumi.runtime.proto import resource_pb2

from tools.offline.target import Target

SIG = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
RESOURCE_SIG = "5cf8f73096256a8f31e491e813e4eb8e"
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
SECRET_MARK = "[secret]"

# EKS's default add-on versions per Kubernetes version, as offline stand-ins. kube-proxy and
# CoreDNS follow the EKS docs (latest/ug/networking/managing-kube-proxy.adoc and
# managing-coredns.adoc); the others keep one version across these minors, as EKS mostly does.
# Varying by version matters: a Kubernetes bump shows its add-on upgrades in the diff.
ADDON_VERSIONS = {
    "vpc-cni": {"*": "v1.20.4-eksbuild.2"},
    "kube-proxy": {
        "1.33": "v1.33.10-eksbuild.13",
        "1.34": "v1.34.6-eksbuild.13",
        "1.35": "v1.35.3-eksbuild.13",
        "1.36": "v1.36.0-eksbuild.14",
    },
    "coredns": {"*": "v1.13.2-eksbuild.4", "1.36": "v1.13.2-eksbuild.6"},
    "aws-ebs-csi-driver": {"*": "v1.48.0-eksbuild.1"},
    "aws-efs-csi-driver": {"*": "v3.4.1-eksbuild.1"},
    "snapshot-controller": {"*": "v8.3.0-eksbuild.1"},
    "eks-pod-identity-agent": {"*": "v1.3.9-eksbuild.3"},
}
AMI_RELEASE_DATE = "20261115"


def addon_version(addon: str, kubernetes_version: str) -> str:
    by_version = ADDON_VERSIONS[addon]
    return by_version.get(kubernetes_version, by_version.get("*", ""))


def digest(*parts: str) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()


class UnknownInvokeError(Exception):
    """The program called a provider function these mocks do not answer."""


class AwsMocks(pulumi.runtime.Mocks):
    def __init__(self, target: Target, subnet_zones: dict[str, str] | None = None):
        self.target = target
        self.region = target.region
        self.account_id = target.account_id
        self.partition = target.partition
        self.ebs_encryption_by_default = True
        self.zones = target.zones
        self.subnet_zones = dict(subnet_zones or {})
        self.mapped_subnets = frozenset(self.subnet_zones)

    # -- invokes -------------------------------------------------------------------------------
    def call(self, args: MockCallArgs):
        handler = getattr(self, "_call_" + args.token.rsplit(":", 1)[-1], None)
        if handler is None:
            raise UnknownInvokeError(f"no mock for invoke {args.token}; add one to {__name__}")
        return handler(args.args)

    def _call_getCallerIdentity(self, _):
        return {
            "accountId": self.account_id,
            "arn": self.target.caller_arn(),
            "userId": "AROAOFFLINEPLAN:offline-plan",
            "id": self.account_id,
        }

    def _call_getPartition(self, _):
        return {
            "partition": self.partition,
            "dnsSuffix": self.target.dns_suffix,
            "id": self.partition,
        }

    def _call_getRegion(self, _):
        return {
            "name": self.region,
            "region": self.region,
            "endpoint": f"ec2.{self.region}.{self.target.dns_suffix}",
            "description": self.region,
            "id": self.region,
        }

    def _call_getAvailabilityZones(self, _):
        return {
            "names": self.zones,
            "zoneIds": [f"az{i + 1}" for i in range(len(self.zones))],
            "state": "available",
            "id": self.region,
        }

    def _call_getSubnet(self, args):
        subnet_id = args["id"]
        if subnet_id not in self.subnet_zones:
            # Offline there is no VPC to ask: the n-th subnet the stack lists is in the region's
            # n-th zone (a, b, c, ...), the one-subnet-per-zone layout `network.existing`
            # documents. The answer depends only on that order, never on the ID, so any valid
            # IDs plan the same.
            seen = len(self.subnet_zones.keys() - self.mapped_subnets)
            self.subnet_zones[subnet_id] = self.zones[seen % len(self.zones)]
        zone = self.subnet_zones[subnet_id]
        return {"id": subnet_id, "availabilityZone": zone, "vpcId": "vpc-0offline0000000001"}

    def _call_getVpc(self, args):
        # An adopted VPC as EKS needs it (DNS support and hostnames on).
        return {
            "id": args["id"],
            "cidrBlock": "10.60.0.0/16",
            "enableDnsSupport": True,
            "enableDnsHostnames": True,
            "state": "available",
        }

    def _call_getAddonVersion(self, args):
        return {
            "addonName": args["addonName"],
            "kubernetesVersion": args["kubernetesVersion"],
            "version": addon_version(args["addonName"], args["kubernetesVersion"]),
            "id": args["addonName"],
        }

    def _call_getEncryptionByDefault(self, _):
        return {"enabled": self.ebs_encryption_by_default, "id": self.region}

    def _call_getParameter(self, args):
        """EKS's public AMI release parameters, answered as a release of that version."""
        name = args["name"]
        parts = name.split("/")
        if parts[:4] != ["", "aws", "service", "eks"] or not name.endswith("/release_version"):
            raise UnknownInvokeError(f"no offline answer for SSM parameter {name}")
        value = f"{parts[5]}.0-{AMI_RELEASE_DATE}"
        return {"name": name, "value": value, "type": "String", "id": name, "arn": name}

    # -- resources -----------------------------------------------------------------------------
    def new_resource(self, args: MockResourceArgs):
        if not args.custom and not args.typ.startswith("pulumi:providers:"):
            return "", {}
        inputs = dict(args.inputs)
        h = digest(args.typ, args.name)
        handler = _RESOURCES.get(args.typ)
        rid, computed = (
            handler(self, args.name, inputs, h) if handler else (f"{args.name}-{h[:8]}", {})
        )
        state = {**inputs, **computed}
        if args.typ.startswith("aws:") and "arn" not in state:
            service = args.typ.split(":")[1].split("/")[0]
            state["arn"] = self.arn(service, f"{args.name}/{rid}")
        if args.typ.startswith("kubernetes:"):
            state = _kubernetes_state(inputs, args.name, h)
            rid = _kubernetes_id(state)
        return rid, state

    def arn(self, service: str, resource: str, regional: bool = True) -> str:
        region = self.region if regional else ""
        return f"arn:{self.partition}:{service}:{region}:{self.account_id}:{resource}"


def _hex(h: str, n: int = 17) -> str:
    return h[:n]


def _kms_key(m: AwsMocks, name, inputs, h):
    key_id = f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"
    return key_id, {"keyId": key_id, "arn": m.arn("kms", f"key/{key_id}")}


def _iam_role(m: AwsMocks, name, inputs, h):
    role = inputs.get("name") or f"{name}-{h[:7]}"
    return role, {
        "name": role,
        "arn": m.arn("iam", f"role/{role}", regional=False),
        "uniqueId": f"AROA{h[:17].upper()}",
    }


def _oidc_provider(m: AwsMocks, name, inputs, h):
    host = str(inputs.get("url", "")).removeprefix("https://")
    arn = m.arn("iam", f"oidc-provider/{host}", regional=False)
    return arn, {"arn": arn}


def _eks_cluster(m: AwsMocks, name, inputs, h):
    cluster = inputs.get("name") or name
    oidc_id = h[:32].upper()
    return cluster, {
        "name": cluster,
        "arn": m.arn("eks", f"cluster/{cluster}"),
        "endpoint": f"https://{oidc_id}.gr7.{m.region}.eks.{m.target.dns_suffix}",
        "certificateAuthority": {"data": "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk9GRkxJTkUK"},
        "identities": [
            {
                "oidcs": [
                    {"issuer": f"https://oidc.eks.{m.region}.{m.target.dns_suffix}/id/{oidc_id}"}
                ]
            }
        ],
        "vpcConfig": {
            **(inputs.get("vpcConfig") or {}),
            "clusterSecurityGroupId": f"sg-{_hex(h)}",
            "vpcId": "vpc-0offline0000000001",
        },
        "status": "ACTIVE",
        "platformVersion": "eks.1",
    }


def _prefixed(prefix: str, **extra):
    def handler(m: AwsMocks, name, inputs, h):
        rid = f"{prefix}-{_hex(h)}"
        return rid, {"id": rid, **{k: v(rid, h) if callable(v) else v for k, v in extra.items()}}

    return handler


def _efs(m: AwsMocks, name, inputs, h):
    fs_id = f"fs-{_hex(h)}"
    return fs_id, {
        "id": fs_id,
        "arn": m.arn("elasticfilesystem", f"file-system/{fs_id}"),
        "dnsName": f"{fs_id}.efs.{m.region}.{m.target.dns_suffix}",
    }


def _s3_bucket(m: AwsMocks, name, inputs, h):
    """A bucket's ID is its name; its ARN has neither region nor account."""
    bucket = inputs.get("bucket") or f"{name}-{h[:8]}"
    return bucket, {"id": bucket, "bucket": bucket, "arn": f"arn:{m.partition}:s3:::{bucket}"}


_RESOURCES = {
    "aws:s3/bucket:Bucket": _s3_bucket,
    "aws:kms/key:Key": _kms_key,
    "aws:iam/role:Role": _iam_role,
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider": _oidc_provider,
    "aws:eks/cluster:Cluster": _eks_cluster,
    "aws:efs/fileSystem:FileSystem": _efs,
    "aws:ec2/vpc:Vpc": _prefixed("vpc"),
    "aws:ec2/subnet:Subnet": _prefixed("subnet"),
    "aws:ec2/securityGroup:SecurityGroup": _prefixed("sg"),
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": _prefixed("sg"),
    "aws:ec2/internetGateway:InternetGateway": _prefixed("igw"),
    "aws:ec2/natGateway:NatGateway": _prefixed("nat"),
    "aws:ec2/eip:Eip": _prefixed("eipalloc"),
    "aws:ec2/routeTable:RouteTable": _prefixed("rtb"),
    "aws:ec2/launchTemplate:LaunchTemplate": _prefixed("lt", latestVersion=1),
    "aws:efs/mountTarget:MountTarget": _prefixed("fsmt"),
    "aws:efs/accessPoint:AccessPoint": _prefixed("fsap"),
}


def _kubernetes_state(inputs: dict, name: str, h: str) -> dict:
    metadata = dict(inputs.get("metadata") or {})
    # Pulumi auto-names objects without a name: the logical name plus a random suffix.
    metadata.setdefault("name", f"{name}-{h[:8]}")
    return {**inputs, "metadata": metadata}


def _kubernetes_id(state: dict) -> str:
    meta = state["metadata"]
    return f"{meta['namespace']}/{meta['name']}" if meta.get("namespace") else meta["name"]


# -- recording ---------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    """Wire form to plain data for the record: secrets masked, references as URNs."""
    if isinstance(value, dict):
        return _plain_object(value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if value == UNKNOWN:
        return "[unknown]"
    # Protobuf carries every number as a float.
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _plain_object(value: dict) -> Any:
    sig = value.get(SIG)
    if sig == SECRET_SIG:
        return SECRET_MARK
    if sig == RESOURCE_SIG:
        return value.get("urn")
    return {k: _plain(v) for k, v in value.items()}


class RecordingMonitor(MockMonitor):
    """Keeps each raw registration: the options mocks' ``MockResourceArgs`` do not carry.

    Registrations and invokes are answered from the request's own wire form instead of the base
    class's deserialise / re-serialise round trip, which runs an event loop per call: the runner
    answers RPCs inline on the program's own loop, where that would re-enter it. Input values
    keep their wire form in the outputs, so secrets stay secret, as the engine keeps them.
    """

    def __init__(self, mocks: AwsMocks):
        super().__init__(mocks)
        self.registrations: list[dict[str, Any]] = []

    def Invoke(self, request):
        if request.tok == "pulumi:pulumi:getResource":
            return super().Invoke(request)
        args = _revealed(json_format.MessageToDict(request.args))
        answer = self.mocks.call(
            MockCallArgs(token=request.tok, args=args, provider=request.provider)
        )
        returned = struct_pb2.Struct()
        returned.update(answer)
        return resource_pb2.ResourceInvokeResponse(**{"return": returned})

    def RegisterResource(self, request):
        urn = self.make_urn(request.parent, request.type, request.name)
        if request.type == "pulumi:pulumi:Stack":
            return resource_pb2.RegisterResourceResponse(urn=urn)
        wire = json_format.MessageToDict(request.object, preserving_proto_field_name=True)
        inputs = _plain(wire)
        resource_id, state = self.mocks.new_resource(
            MockResourceArgs(
                typ=request.type,
                name=request.name,
                inputs=_revealed(wire),
                provider=request.provider,
                resource_id=request.importId,
                custom=request.custom,
            )
        )
        self.resources[urn] = MockMonitor.ResourceRegistration(urn, resource_id, state)
        outputs = {
            k: wire[k] if k in wire and v == _revealed(wire[k]) else v for k, v in state.items()
        }
        response_object = struct_pb2.Struct()
        response_object.update(outputs)
        self.registrations.append(
            {
                "urn": urn,
                "type": request.type,
                "name": request.name,
                "parent": request.parent,
                "custom": request.custom,
                "provider": request.provider,
                "options": {
                    "protect": request.protect,
                    "retainOnDelete": request.retainOnDelete,
                    "deleteBeforeReplace": request.deleteBeforeReplace,
                    "replaceOnChanges": list(request.replaceOnChanges),
                    "ignoreChanges": list(request.ignoreChanges),
                    "dependencies": sorted(set(request.dependencies)),
                    "aliases": [json_format.MessageToDict(alias) for alias in request.aliases],
                },
                "inputs": inputs,
                "outputs": state,
            }
        )
        return resource_pb2.RegisterResourceResponse(
            urn=urn, id=resource_id or "", object=response_object
        )


def _revealed(value: Any) -> Any:
    """Wire form to the values a provider would see: secrets unwrapped, references as URNs."""
    if isinstance(value, dict):
        sig = value.get(SIG)
        if sig == SECRET_SIG:
            return _revealed(value.get("value"))
        if sig == RESOURCE_SIG:
            return value.get("urn")
        return {k: _revealed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_revealed(v) for v in value]
    return int(value) if isinstance(value, float) and value.is_integer() else value
