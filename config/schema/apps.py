"""Secrets operators and application slices."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, ValidationInfo, field_validator

from config.remote_names import ParameterName, SecretName
from config.schema.base import DNS_LABEL, DnsLabel, Model
from design import secret_values
from design.apps import (
    CONFIG_MAP_MAX_BYTES,
    config_map_manifest,
    config_map_name,
    secret_reason,
    serialized_size,
)

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
    # The project moved to bitnami/sealed-secrets on 2026-06-15 and its old Pages site
    # (bitnami-labs.github.io) answers 404 (bitnami/sealed-secrets#1982); the new index still
    # lists the pinned chart (tests/upstream/sealed-secrets-index, tests/test_chart_hosts.py).
    repository: Annotated[str, Field(pattern=r"^https://[A-Za-z0-9./_-]+$")] = (
        "https://bitnami.github.io/sealed-secrets"
    )
    # kube-system and this controller name are kubeseal's defaults.
    namespace: DnsLabel = "kube-system"
    # Push the sealing key to Secrets Manager (design.escrow); it turns key renewal off.
    escrow: bool = True
    # On a rebuilt cluster: pull the escrowed key back before the controller starts.
    restore_escrowed_key: bool = False


class S3Access(Model):
    bucket: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")]
    prefix: Annotated[str, Field(pattern=r"^([A-Za-z0-9!_.'()-]+/)*$")] = ""
    access: Literal["read", "readwrite"] = "read"


class AppAws(Model):
    """AWS access of an app's own role, in a form that can only render least privilege."""

    s3: list[S3Access] = Field(default_factory=list)
    secrets_manager: list[SecretName] = Field(default_factory=list)
    parameters: list[ParameterName] = Field(default_factory=list)


class AppSecret(Model):
    """One key of the app's Secret, fetched by External Secrets from exactly one store."""

    key: Annotated[str, Field(pattern=r"^[-._a-zA-Z0-9]+$", max_length=253)]
    secrets_manager: SecretName | None = None
    parameter: ParameterName | None = None
    property: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]+$")] | None = None


class PodSecurity(Model):
    level: Literal["restricted", "baseline"] = "restricted"
    reason: Annotated[str, Field(min_length=10, max_length=300)] | None = None

    @field_validator("reason")
    @classmethod
    def _no_secret_in_reason(cls, value: str | None) -> str | None:
        if value and (found := secret_values.findings(value)):
            raise ValueError(
                f"holds what looks like a secret ({', '.join(found)}): the reason is recorded "
                "as an annotation of the namespace, readable by anyone who can read it"
            )
        return value


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
        leaked = [
            f"{key} ({reason})"
            for key, setting in sorted(value.items())
            if (reason := secret_reason(key, setting))
        ]
        if leaked:
            raise ValueError(
                f"secret-looking settings {', '.join(leaked)}: ConfigMaps are readable plain "
                "text; put them under `secrets:` (fetched by External Secrets) instead"
            )
        return value

    @field_validator("config")
    @classmethod
    def _fits_in_a_config_map(cls, value: dict[str, str], info: ValidationInfo) -> dict[str, str]:
        """The whole object counts (name, namespace, labels, data as JSON), not only the values
        Kubernetes sums: it is what the API server receives and etcd stores."""
        name = info.data.get("name")
        if name is None:  # already reported under apps[].name
            return value
        manifest = config_map_manifest(name, info.data.get("namespace") or name, value)
        size = serialized_size(manifest)
        if size > CONFIG_MAP_MAX_BYTES:
            raise ValueError(
                f"ConfigMap {config_map_name(name)} would be {size:,} bytes; Kubernetes holds at "
                f"most {CONFIG_MAP_MAX_BYTES:,} bytes (1 MiB) in one: keep large content (files, "
                "bundles) in the image, a volume or S3"
            )
        return value
