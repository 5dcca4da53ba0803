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

from design import snapshots as snapshot_design
from design.apps import looks_secret

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


class Endpoint(Model):
    """The Kubernetes API endpoint. The private endpoint is always on."""

    public_access: bool = False
    public_access_cidrs: list[str] = Field(default_factory=list)

    @field_validator("public_access_cidrs")
    @classmethod
    def _cidrs(cls, value: list[str]) -> list[str]:
        problems = []
        for cidr in value:
            try:
                net = ipaddress.ip_network(cidr, strict=True)
            except ValueError as exc:
                problems.append(f"{cidr!r} is not a CIDR ({exc})")
                continue
            if net.prefixlen == 0:
                problems.append(f"{cidr} opens the API server to the whole internet")
        if problems:
            raise ValueError("; ".join(problems))
        return value


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


class Storage(Model):
    reclaim_policy: ReclaimPolicy = "Delete"
    demote_gp2: bool = True
    efs: Efs = Efs()
    classes: Annotated[list[StorageClass], Field(min_length=1)] = [
        StorageClass(backing="gp3", access="rwo", default=True)
    ]


CRON = (
    r"^(@(yearly|annually|monthly|weekly|daily|midnight|hourly)"
    r"|([0-9A-Za-z*/,-]+\s+){4}[0-9A-Za-z*/,-]+)$"
)


class SnapshotPolicy(Model):
    """A schedule and a generation limit: PVCs labelled with the policy name are snapshotted
    on the schedule and only the newest ``keep`` snapshots of each are kept; with ``max_age``,
    older generations go too, except each PVC's newest ready one."""

    name: Annotated[str, Field(pattern=DNS_LABEL, max_length=30)]
    schedule: Annotated[str, Field(pattern=CRON)]
    keep: int = Field(ge=1, le=1000)
    max_age: str | None = None
    ready_timeout_seconds: int = Field(default=600, ge=30, le=3600)

    @field_validator("max_age")
    @classmethod
    def _age(cls, value: str | None) -> str | None:
        if value is not None:
            snapshot_design.max_age_seconds(value)
        return value

    @property
    def max_age_seconds(self) -> int | None:
        return None if self.max_age is None else snapshot_design.max_age_seconds(self.max_age)


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
        tail = value.rsplit("/", 1)[-1]
        if "@sha256:" not in value and (":" not in tail or tail.endswith(":latest")):
            raise ValueError("pin the image by a version tag or a digest, never :latest")
        return value


AddonVersion = Annotated[str, Field(pattern=r"^v\d+\.\d+\.\d+-eksbuild\.\d+$")]


class Addons(Model):
    """EKS add-on versions; unset means the newest version for the cluster's Kubernetes."""

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


class StackConfig(Model):
    """The whole stack configuration, as read from ``eks-config-storage:*`` keys."""

    # Short enough that every derived name (cluster, roles, classes) stays within its limit.
    environment: Annotated[str, Field(pattern=DNS_LABEL, max_length=20)]
    production: bool = False
    cluster_name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]*[a-z0-9]$", max_length=32)]
    kubernetes_version: Annotated[str, Field(pattern=r"^1\.(3[0-9]|[4-9][0-9])$")] = "1.34"
    protect: bool = False
    admin_role_arns: list[RoleArn] = Field(default_factory=list)
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
