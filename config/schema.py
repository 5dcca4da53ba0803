"""Typed stack configuration.

Every model is frozen and rejects unknown keys, so a typo in a stack file is an error rather than a
silently ignored setting. Field names are snake_case in Python and camelCase in the stack files,
matching Pulumi's own config style (``pulumi config set --path 'network.azCount' 3``).

Rules that need more than one field, or the environment, live in ``config.rules`` so that the
structure and the policy are read separately.
"""

from __future__ import annotations

import ipaddress
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.alias_generators import to_camel

from design.apps import looks_secret
from design.images import image_pin_problem

DNS_LABEL = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
IAM_ROLE_ARN = r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+$"
IAM_PRINCIPAL_ARN = r"^arn:aws[a-z-]*:iam::\d{12}:(role|user)/[\w+=,.@/-]+$"

DnsLabel = Annotated[str, Field(pattern=DNS_LABEL, max_length=63)]
RoleArn = Annotated[str, Field(pattern=IAM_ROLE_ARN)]
PrincipalArn = Annotated[str, Field(pattern=IAM_PRINCIPAL_ARN)]


class Model(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        frozen=True,
        extra="forbid",
        str_strip_whitespace=True,
    )


class CreatedNetwork(Model):
    """A new VPC with public and private subnets in ``az_count`` availability zones."""

    vpc_cidr: str = "10.0.0.0/16"
    az_count: int = Field(default=2, ge=2, le=6)
    nat_gateways: Literal["single", "perAz"] = "single"

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


ReclaimPolicy = Literal["Retain", "Delete"]


class Efs(Model):
    """The stack's EFS file system (one per stack; every EFS class provisions on it)."""

    enabled: bool = True
    performance_mode: Literal["generalPurpose", "maxIO"] = "generalPurpose"
    throughput_mode: Literal["bursting", "elastic", "provisioned"] = "elastic"
    provisioned_throughput_mibps: int | None = Field(default=None, ge=1, le=10240)
    transition_to_ia_days: Literal[1, 7, 14, 30, 60, 90, 180, 270, 365] | None = 30
    backup: bool = False


class StorageClass(Model):
    """One entry of the StorageClass catalog; its name is derived (design.storage)."""

    backing: Literal["gp3", "io2", "st1", "sc1", "efs"]
    access: Literal["rwo", "rwx"]
    tier: Annotated[str, Field(pattern=DNS_LABEL, max_length=12)] | None = None
    default: bool = False
    reclaim_policy: ReclaimPolicy | None = None
    # EBS
    fs_type: Literal["ext4", "xfs"] = "ext4"
    iops: int | None = Field(default=None, ge=1)
    throughput_mibps: int | None = Field(default=None, ge=1)
    block_express: bool = False
    # EFS
    directory_perms: Annotated[str, Field(pattern=r"^[0-7]{3}$")] = "700"
    gid_range_start: int = Field(default=50000, ge=1, le=2147483647)
    gid_range_end: int = Field(default=7000000, ge=1, le=2147483647)
    base_path: Annotated[str, Field(pattern=r"^/[A-Za-z0-9_./-]*$")] = "/dynamic"


class RetiredClass(StorageClass):
    """A class the catalog no longer offers but PVCs may still name, kept as it was.

    Renaming a class (its tier, the EFS throughput mode, the environment) or dropping it would
    delete a StorageClass that bound PVCs still name: they could no longer be expanded ("the
    storageclass that provisions the pvc must support resize", kubernetes/kubernetes
    plugin/pkg/admission/storage/persistentvolume/resize/admission.go) and StatefulSets could not
    replace their claims. A retired class keeps its old name and settings, is never the default
    and admits no new claims, until its last PV is gone (README: retire a class).
    """

    name: Annotated[str, Field(pattern=DNS_LABEL, max_length=63)]
    default: Literal[False] = False


class Storage(Model):
    reclaim_policy: ReclaimPolicy = "Delete"
    demote_gp2: bool = True
    efs: Efs = Efs()
    classes: Annotated[list[StorageClass], Field(min_length=1)] = [
        StorageClass(backing="gp3", access="rwo", default=True)
    ]
    retired_classes: list[RetiredClass] = Field(default_factory=list)


CRON = (
    r"^(@(yearly|annually|monthly|weekly|daily|midnight|hourly)"
    r"|([0-9A-Za-z*/,-]+\s+){4}[0-9A-Za-z*/,-]+)$"
)


class SnapshotPolicy(Model):
    """A schedule and a generation limit: PVCs labelled with the policy name are snapshotted
    on the schedule and only the newest ``keep`` snapshots of each are kept."""

    name: Annotated[str, Field(pattern=DNS_LABEL, max_length=30)]
    schedule: Annotated[str, Field(pattern=CRON)]
    keep: int = Field(ge=1, le=1000)
    ready_timeout_seconds: int = Field(default=600, ge=30, le=3600)


class Snapshots(Model):
    deletion_policy: ReclaimPolicy = "Delete"
    namespace: DnsLabel = "storage-snapshots"
    job_image: Annotated[
        str,
        Field(
            pattern=r"^[a-z0-9.-]+(:[0-9]+)?(/[a-z0-9._-]+)+(:[A-Za-z0-9._-]+)?(@sha256:[0-9a-f]{64})?$"
        ),
    ] = "docker.io/alpine/k8s:1.34.1"
    policies: list[SnapshotPolicy] = Field(default_factory=list)

    @field_validator("job_image")
    @classmethod
    def _pinned(cls, value: str) -> str:
        if problem := image_pin_problem(value, production=False):
            raise ValueError(problem)
        return value


AddonVersion = Annotated[str, Field(pattern=r"^v\d+\.\d+\.\d+-eksbuild\.\d+$")]


class Addons(Model):
    """EKS add-on versions; unset means the newest version for the cluster's Kubernetes."""

    vpc_cni: AddonVersion | None = None
    kube_proxy: AddonVersion | None = None
    coredns: AddonVersion | None = None
    ebs_csi_driver: AddonVersion | None = None
    efs_csi_driver: AddonVersion | None = None
    snapshot_controller: AddonVersion | None = None


RemoteName = Annotated[
    str, Field(pattern=r"^[A-Za-z0-9_+=.@-]+(/[A-Za-z0-9_+=.@-]+)*$", max_length=400)
]
Duration = Annotated[str, Field(pattern=r"^([0-9]+(s|m|h))+$")]
Quantity = Annotated[str, Field(pattern=r"^[1-9][0-9]*(Mi|Gi|Ti)$")]
ChartVersion = Annotated[str, Field(pattern=r"^v?[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.-]+)?$")]


class HelmChart(Model):
    """An upstream chart, pinned: a release is only ever upgraded by a reviewed config change."""

    chart_version: ChartVersion
    repository: Annotated[str, Field(pattern=r"^https://[A-Za-z0-9./_-]+$")]
    namespace: DnsLabel


class ExternalSecrets(HelmChart):
    repository: Annotated[str, Field(pattern=r"^https://[A-Za-z0-9./_-]+$")] = (
        "https://charts.external-secrets.io"
    )
    namespace: DnsLabel = "external-secrets"


class SealedSecrets(HelmChart):
    repository: Annotated[str, Field(pattern=r"^https://[A-Za-z0-9./_-]+$")] = (
        "https://bitnami-labs.github.io/sealed-secrets"
    )
    # kube-system and this controller name are kubeseal's defaults.
    namespace: DnsLabel = "kube-system"


class S3Access(Model):
    bucket: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")]
    prefix: Annotated[str, Field(pattern=r"^([A-Za-z0-9!_.'()-]+/)*$")] = ""
    access: Literal["read", "readwrite"] = "read"


class AppAws(Model):
    """AWS access of an app's own role, in a form that can only render least privilege."""

    s3: list[S3Access] = Field(default_factory=list)
    secrets_manager: list[RemoteName] = Field(default_factory=list)
    parameters: list[RemoteName] = Field(default_factory=list)


class AppSecret(Model):
    """One key of the app's Secret, fetched by External Secrets from exactly one store."""

    key: Annotated[str, Field(pattern=r"^[-._a-zA-Z0-9]+$", max_length=253)]
    secrets_manager: RemoteName | None = None
    parameter: RemoteName | None = None
    property: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]+$")] | None = None


class PodSecurity(Model):
    level: Literal["restricted", "baseline"] = "restricted"
    reason: Annotated[str, Field(min_length=10, max_length=300)] | None = None


class StorageBudget(Model):
    storage_class: Annotated[str, Field(alias="class")]
    requests: Quantity
    claims: int = Field(ge=1, le=1000)


class App(Model):
    name: Annotated[str, Field(pattern=DNS_LABEL, max_length=20)]
    namespace: DnsLabel | None = None
    pod_security: PodSecurity = PodSecurity()
    config: dict[Annotated[str, Field(pattern=r"^[-._a-zA-Z0-9]+$", max_length=253)], str] = Field(
        default_factory=dict
    )
    secrets: list[AppSecret] = Field(default_factory=list)
    secret_refresh_interval: Duration = "1h"
    sealed_secrets: list[Annotated[str, Field(pattern=DNS_LABEL)]] = Field(default_factory=list)
    aws: AppAws = AppAws()
    storage: list[StorageBudget] = Field(default_factory=list)

    @property
    def namespace_name(self) -> str:
        return self.namespace or self.name

    @field_validator("config")
    @classmethod
    def _no_secrets_in_config(cls, value: dict[str, str]) -> dict[str, str]:
        leaked = sorted(key for key, setting in value.items() if looks_secret(key, setting))
        if leaked:
            raise ValueError(
                f"{', '.join(leaked)} look(s) like secrets: ConfigMaps are readable plain text; "
                "put them under `secrets:` (fetched by External Secrets) instead"
            )
        if sum(len(k) + len(v) for k, v in value.items()) > 1024 * 1024:
            raise ValueError("a ConfigMap holds at most 1 MiB")
        return value


class UpgradePolicy(Model):
    """What EKS does when the cluster's version leaves standard support: STANDARD upgrades the
    control plane automatically, EXTENDED keeps it (at extended-support pricing)."""

    support_type: Literal["STANDARD", "EXTENDED"] = "STANDARD"


class StackConfig(Model):
    """The whole stack configuration, as read from ``eks-config-storage:*`` keys."""

    # Short enough that every derived name (cluster, roles, classes) stays within its limit.
    environment: Annotated[str, Field(pattern=DNS_LABEL, max_length=20)]
    production: bool = False
    cluster_name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]*[a-z0-9]$", max_length=32)]
    kubernetes_version: Annotated[str, Field(pattern=r"^1\.(3[0-9]|[4-9][0-9])$")]
    upgrade_policy: UpgradePolicy = UpgradePolicy()
    protect: bool = False
    admin_role_arns: list[RoleArn] = Field(default_factory=list)
    preview_role_arns: list[RoleArn] = Field(default_factory=list)
    bootstrap_creator_admin: bool = False
    log_retention_days: Literal[1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731] = 90
    network: Network = Network(create=CreatedNetwork())
    endpoint: Endpoint = Endpoint()
    kms: Kms = Kms()
    node_groups: Annotated[list[NodeGroup], Field(min_length=1)]
    addons: Addons = Addons()
    storage: Storage = Storage()
    snapshots: Snapshots = Snapshots()
    external_secrets: ExternalSecrets
    sealed_secrets: SealedSecrets
    apps: list[App] = Field(default_factory=list)


def config_key(field: str) -> str:
    """The camelCase key a Python field name is written as in stack files."""
    return to_camel(field)
