"""The whole stack configuration."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field
from pydantic.alias_generators import to_camel

from config.schema.apps import App, ExternalSecrets, SealedSecrets
from config.schema.backups import Backups, Monitoring, RestoreDrill
from config.schema.base import DNS_LABEL, Model, RoleArn
from config.schema.cluster import CreatedNetwork, Endpoint, Kms, Network, NodeGroup
from config.schema.iam import Iam
from config.schema.storage import Addons, Snapshots, Storage
from design.identity import IdentityMode


class UpgradePolicy(Model):
    """What EKS does when the cluster's version leaves standard support: STANDARD upgrades the
    control plane automatically, EXTENDED keeps it (at extended-support pricing)."""

    support_type: Literal["STANDARD", "EXTENDED"] = "STANDARD"
    """At the end of standard support EKS upgrades a `STANDARD` cluster itself; `EXTENDED` keeps the
    version, at extended-support pricing."""


TransitionSetting = Literal[
    "environment",
    "clusterName",
    "externalSecrets.namespace",
    "network",
    "zones",
    "network.create.vpcCidr",
    "kubernetesVersion",
    "protect",
    "region",
    # Helm-installed controllers' namespaces, like externalSecrets.namespace.
    "backups.namespace",
    "sealedSecrets.namespace",
    # A removed or renamed Velero schedule, in any stack.
    "backups.schedules",
    # Changes to protection in protected stacks.
    "backups.enabled",
    "snapshots.retention",
    "storage.protection",
    "logRetentionDays",
    # A move between IRSA and Pod Identity that leaves a workload without credentials.
    "identity",
]


class Acknowledge(Model):
    """Transitions a reviewer accepted for the change at hand (``tools.plan --diff`` names the
    key to use). Keep it only in the pull request that makes the change: the next plan lists
    acknowledgements that match nothing."""

    reason: Annotated[str, Field(min_length=10, max_length=500)]
    """Why (10-500 characters), for the record."""
    deletes: list[str] = Field(default_factory=list)
    """Logical resource names, as `tools.plan --diff` prints them, whose deletion is accepted."""
    replacements: list[str] = Field(default_factory=list)
    """Logical resource names, as `tools.plan --diff` prints them, whose replacement is accepted."""
    snapshot_policies: list[Annotated[str, Field(pattern=DNS_LABEL)]] = Field(default_factory=list)
    """Removed or renamed snapshot policies whose labelled PVCs were relabelled."""
    settings: list[TransitionSetting] = Field(default_factory=list)
    """Create-only settings changed on purpose (`kubernetesVersion`: a rollback). `protect`:
    resources lose `protect` or `retainOnDelete` (every later change deletes them for real);
    `region`: every regional resource is replaced; `externalSecrets.namespace`,
    `backups.namespace`, `sealedSecrets.namespace`: the controller is uninstalled before it is
    installed again; `backups.schedules`: a Velero schedule is removed or renamed while PVCs may
    carry its label; in a protected stack, `backups.enabled` (turned off),
    `storage.protection` (a class's protection narrowed), `snapshots.retention` (`keep` or
    `maxAge` cut), `logRetentionDays` (cut)."""


class StackConfig(Model):
    """The whole stack configuration, as read from ``eks-config-storage:*`` keys."""

    # Short enough that every derived name (cluster, roles, classes) stays within its limit.
    environment: Annotated[str, Field(pattern=DNS_LABEL, max_length=20)]
    """Environment name used in names and labels (DNS label, at most 20 characters)."""
    production: bool = False
    """Production rules apply: private endpoint, `protect`, `Retain`, image digests, 30-day key
    window."""
    cluster_name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]*[a-z0-9]$", max_length=32)]
    """EKS cluster name, prefix of IAM role names (at most 32 characters)."""
    kubernetes_version: Annotated[str, Field(pattern=r"^1\.(3[0-9]|[4-9][0-9])$")]
    """Kubernetes minor version of the control plane and nodes; a version of the EKS calendar
    (`design/eks_versions.py`) not past extended support. Quote it (`"1.30"`: YAML reads 1.30 as
    the number 1.3). Upgrade one minor at a time."""
    upgrade_policy: UpgradePolicy = UpgradePolicy()
    """What EKS does when the version leaves standard support."""
    protect: bool = False
    """Protect the key (and retain it on delete), the cluster and every stateful resource."""
    admin_role_arns: list[RoleArn] = Field(default_factory=list)
    """IAM roles given cluster-admin through EKS access entries. Include the role that deploys."""
    preview_role_arns: list[RoleArn] = Field(default_factory=list)
    """IAM roles given read-only access (`AmazonEKSViewPolicy`, cluster scope) to preview changes;
    never also admins."""
    bootstrap_creator_admin: bool = False
    """Also give the cluster creator implicit admin (off: access is explicit). EKS reads it only at
    creation: changing it later replaces the cluster."""
    log_retention_days: Literal[1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731] = 90
    """Retention of the control-plane log group, in days (a CloudWatch retention value)."""
    network: Network = Network(create=CreatedNetwork())
    """The VPC: exactly one of `create` or `existing`."""
    endpoint: Endpoint = Endpoint()
    """The Kubernetes API endpoint and who reaches it."""
    kms: Kms = Kms()
    """The stack's envelope key (etcd secrets, volumes, backups, escrow)."""
    iam: Iam = Iam()
    """IAM settings of the roles the program creates: their permissions boundary."""
    identity: IdentityMode = "irsa"
    """How workloads get AWS credentials: `irsa` (IAM roles for service accounts), `podIdentity`
    (EKS Pod Identity: the agent add-on, one association per service account) or `both`, the
    step of a move between them. The CSI drivers, External Secrets, Velero and every app without
    its own `identity` follow it ([identity.md](identity.md))."""
    node_groups: Annotated[list[NodeGroup], Field(min_length=1)]
    """Managed node groups (at least one); each entry:"""
    addons: Addons = Addons()
    """EKS add-on versions; unset means EKS's default for the cluster's version."""
    storage: Storage = Storage()
    """The EFS file system and the StorageClass catalog."""
    snapshots: Snapshots = Snapshots()
    """CSI snapshots as code: the VolumeSnapshotClass, the schedules and their jobs."""
    external_secrets: ExternalSecrets
    """The External Secrets Operator (required: its chart version)."""
    sealed_secrets: SealedSecrets
    """The Sealed Secrets controller (required: its chart version)."""
    apps: list[App] = Field(default_factory=list)
    """Application slices; each entry:"""
    backups: Backups = Backups()
    """Velero and its backup bucket ([backups.md](backups.md))."""
    restore_drills: list[RestoreDrill] = Field(default_factory=list)
    """Scheduled restore drills ([backups.md](backups.md#restore-drills)), in namespace
    `restore-drills`; each entry:"""
    monitoring: Monitoring = Monitoring()
    """Alerting for clusters that run the Prometheus Operator."""
    acknowledge: Acknowledge | None = None
    """Transitions a reviewer accepts in this change
    ([changing-a-live-stack.md](changing-a-live-stack.md)); remove it once applied."""


def config_key(field: str) -> str:
    """The camelCase key a Python field name is written as in stack files."""
    return to_camel(field)
