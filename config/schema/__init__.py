"""Typed stack configuration.

Every model is frozen and rejects unknown keys, so a typo in a stack file is an error rather than a
silently ignored setting. Field names are snake_case in Python and camelCase in the stack files,
matching Pulumi's own config style (``pulumi config set --path 'network.azCount' 3``).

Models live by concern (``cluster``, ``storage``, ``apps``) and are assembled in ``stack``. Rules
that need more than one field, or the environment, live in ``config.rules`` so that the structure
and the policy are read separately.
"""

from config.schema.apps import (
    App,
    AppAws,
    AppSecret,
    ExternalSecrets,
    HelmChart,
    PodSecurity,
    S3Access,
    SealedSecrets,
    StorageBudget,
)
from config.schema.backups import Backups, BackupSchedule, Monitoring, RestoreDrill
from config.schema.base import DNS_LABEL, DnsLabel, Model, PrincipalArn, RoleArn
from config.schema.cluster import CreatedNetwork, Endpoint, ExistingNetwork, Kms, Network, NodeGroup
from config.schema.iam import Iam
from config.schema.stack import Acknowledge, StackConfig, UpgradePolicy, config_key
from config.schema.storage import (
    Addons,
    Protection,
    ReclaimPolicy,
    RetiredClass,
    SnapshotPolicy,
    Snapshots,
    Storage,
    StorageClass,
)

__all__ = [
    "DNS_LABEL",
    "Acknowledge",
    "Addons",
    "App",
    "AppAws",
    "AppSecret",
    "BackupSchedule",
    "Backups",
    "CreatedNetwork",
    "DnsLabel",
    "Endpoint",
    "ExistingNetwork",
    "ExternalSecrets",
    "HelmChart",
    "Iam",
    "Kms",
    "Model",
    "Monitoring",
    "Network",
    "NodeGroup",
    "PodSecurity",
    "PrincipalArn",
    "Protection",
    "ReclaimPolicy",
    "RestoreDrill",
    "RetiredClass",
    "RoleArn",
    "S3Access",
    "SealedSecrets",
    "SnapshotPolicy",
    "Snapshots",
    "StackConfig",
    "Storage",
    "StorageBudget",
    "StorageClass",
    "UpgradePolicy",
    "config_key",
]
