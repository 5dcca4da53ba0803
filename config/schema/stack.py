"""The whole stack configuration."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field
from pydantic.alias_generators import to_camel

from config.schema.apps import App, ExternalSecrets, SealedSecrets
from config.schema.base import DNS_LABEL, Model, RoleArn
from config.schema.cluster import CreatedNetwork, Endpoint, Kms, Network, NodeGroup
from config.schema.storage import Addons, Snapshots, Storage


class StackConfig(Model):
    """The whole stack configuration, as read from ``eks-config-storage:*`` keys."""

    # Short enough that every derived name (cluster, roles, classes) stays within its limit.
    environment: Annotated[str, Field(pattern=DNS_LABEL, max_length=20)]
    production: bool = False
    cluster_name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]*[a-z0-9]$", max_length=32)]
    kubernetes_version: Annotated[str, Field(pattern=r"^1\.(3[0-9]|[4-9][0-9])$")] = "1.34"
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
