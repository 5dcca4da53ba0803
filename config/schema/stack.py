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


class UpgradePolicy(Model):
    """What EKS does when the cluster's version leaves standard support: STANDARD upgrades the
    control plane automatically, EXTENDED keeps it (at extended-support pricing)."""

    support_type: Literal["STANDARD", "EXTENDED"] = "STANDARD"


TransitionSetting = Literal[
    "environment",
    "clusterName",
    "externalSecrets.namespace",
    "network",
    "zones",
    "network.create.vpcCidr",
    "kubernetesVersion",
]


class Acknowledge(Model):
    """Transitions a reviewer accepted for the change at hand (``tools.plan --diff`` names the
    key to use). Keep it only in the pull request that makes the change: the next plan lists
    acknowledgements that match nothing."""

    reason: Annotated[str, Field(min_length=10, max_length=500)]
    deletes: list[str] = Field(default_factory=list)
    replacements: list[str] = Field(default_factory=list)
    snapshot_policies: list[Annotated[str, Field(pattern=DNS_LABEL)]] = Field(default_factory=list)
    settings: list[TransitionSetting] = Field(default_factory=list)


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
    iam: Iam = Iam()
    node_groups: Annotated[list[NodeGroup], Field(min_length=1)]
    addons: Addons = Addons()
    storage: Storage = Storage()
    snapshots: Snapshots = Snapshots()
    external_secrets: ExternalSecrets
    sealed_secrets: SealedSecrets
    apps: list[App] = Field(default_factory=list)
    backups: Backups = Backups()
    restore_drills: list[RestoreDrill] = Field(default_factory=list)
    monitoring: Monitoring = Monitoring()
    acknowledge: Acknowledge | None = None


def config_key(field: str) -> str:
    """The camelCase key a Python field name is written as in stack files."""
    return to_camel(field)
