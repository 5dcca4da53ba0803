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
from design.identity import IdentityMode

Duration = Annotated[str, Field(pattern=r"^([0-9]+(s|m|h))+$")]
Quantity = Annotated[str, Field(pattern=r"^[1-9][0-9]*(Mi|Gi|Ti)$")]
ChartVersion = Annotated[str, Field(pattern=r"^v?[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.-]+)?$")]


class HelmChart(Model):
    """An upstream chart, pinned: a release is only ever upgraded by a reviewed config change."""

    chart_version: ChartVersion
    """Chart version (pinned): a release is only upgraded by a reviewed config change."""
    repository: Annotated[str, Field(pattern=r"^https://[A-Za-z0-9./_-]+$")]
    """Chart repository."""
    namespace: DnsLabel
    """Namespace of the release."""


class ExternalSecrets(HelmChart):
    repository: Annotated[str, Field(pattern=r"^https://[A-Za-z0-9./_-]+$")] = (
        "https://charts.external-secrets.io"
    )
    """Chart repository."""
    namespace: DnsLabel = "external-secrets"
    """Operator namespace (its service account is `external-secrets`)."""


class SealedSecrets(HelmChart):
    # The project moved to bitnami/sealed-secrets on 2026-06-15 and its old Pages site
    # (bitnami-labs.github.io) answers 404 (bitnami/sealed-secrets#1982); the new index still
    # lists the pinned chart (tests/upstream/sealed-secrets-index,
    # tests/conformance/test_chart_hosts.py).
    repository: Annotated[str, Field(pattern=r"^https://[A-Za-z0-9./_-]+$")] = (
        "https://bitnami.github.io/sealed-secrets"
    )
    """Chart repository."""
    # kube-system and this controller name are kubeseal's defaults.
    namespace: DnsLabel = "kube-system"
    """Controller namespace (kubeseal's default)."""
    # Push the sealing key to Secrets Manager (design.escrow); it turns key renewal off.
    escrow: bool = True
    """Push the controller's sealing key to Secrets Manager
    (`<environment>/sealed-secrets/<clusterName>/generation-<n>`, the stack's key), checked hourly
    against the key the controller serves; turns key renewal off (one key per cluster)."""
    # On a rebuilt cluster: pull the escrowed key back before the controller starts.
    restore_escrowed_key: bool = False
    """On a rebuilt cluster: pull back the single key earlier versions escrowed
    (`<environment>/sealed-secrets/sealing-key`) before the controller starts
    ([backups.md](backups.md#restore-runbooks): lost cluster)."""
    escrow_generation: int = Field(default=1, ge=1, le=1000)
    """The generation the controller's key is escrowed under,
    `<environment>/sealed-secrets/<clusterName>/generation-<n>`: raise it by one when the escrow
    check reports a new key (a cluster rebuilt without restoring); earlier entries stay."""
    restore_escrowed_generations: list[Annotated[int, Field(ge=1, le=1000)]] = Field(
        default_factory=list
    )
    """On a rebuilt cluster: the escrowed generations of this cluster to pull back before the
    controller starts ([backups.md](backups.md#restore-runbooks): lost cluster)."""


class S3Access(Model):
    bucket: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")]
    """Bucket name."""
    prefix: Annotated[str, Field(pattern=r"^([A-Za-z0-9!_.'()-]+/)*$")] = ""
    """Key prefix ending in `/` (empty: the whole bucket)."""
    access: Literal["read", "readwrite"] = "read"
    """Get (and list); or also put, delete, abort uploads."""


class AppAws(Model):
    """AWS access of an app's own role, in a form that can only render least privilege."""

    s3: list[S3Access] = Field(default_factory=list)
    """S3 access of the app's role; each entry:"""
    secrets_manager: list[SecretName] = Field(default_factory=list)
    """Secrets (under `<environment>/`) the app reads itself through the AWS SDK; named as
    `apps[].secrets[].secretsManager`."""
    parameters: list[ParameterName] = Field(default_factory=list)
    """Parameters (under `/<environment>/`) the app reads itself; named as
    `apps[].secrets[].parameter`."""


class AppSecret(Model):
    """One key of the app's Secret, fetched by External Secrets from exactly one store."""

    key: Annotated[str, Field(pattern=r"^[-._a-zA-Z0-9]+$", max_length=253)]
    """Key in the Kubernetes Secret."""
    secrets_manager: SecretName | None = None
    """Secrets Manager secret `<environment>/<this>` (exactly one of the two). The program adds the
    prefix: no leading `/`, and no environment name (`dev`, `prod`, `staging`, ..., or this
    stack's) as the first segment. Letters, digits and `/_+=.@-`, no empty or `.`/`..` segments,
    at most 512 characters with the prefix."""
    parameter: ParameterName | None = None
    """Parameter Store parameter `/<environment>/<this>`, prefix added as for `secretsManager`.
    Letters, digits and `/_.-`, at most 15 levels and 1011 characters counting the prefix and the
    ARN before the name; an environment named `aws...` or `ssm...` cannot hold parameters."""
    property: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]+$")] | None = None
    """JSON property of the remote value to take."""


class PodSecurity(Model):
    level: Literal["restricted", "baseline"] = "restricted"
    """Pod Security Admission level enforced on the namespace."""
    reason: Annotated[str, Field(min_length=10, max_length=300)] | None = None
    """Required when the level is relaxed; recorded on the namespace (secret-looking text
    refused)."""

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
    """A class of this stack's catalog (other classes get zero)."""
    requests: Quantity
    """Total requested storage on that class, e.g. `50Gi`."""
    claims: int = Field(ge=1, le=1000)
    """Number of PVCs on that class."""


class App(Model):
    name: Annotated[str, Field(pattern=DNS_LABEL, max_length=20)]
    """DNS label, at most 20 characters, unique; also its ServiceAccount's name."""
    namespace: DnsLabel | None = None
    """Namespace of the app (not a platform namespace); unset: the name. Set it before renaming an
    app, or the rename moves its objects to a new namespace."""
    pod_security: PodSecurity = PodSecurity()
    """Pod Security Admission on the app's namespace."""
    config: dict[Annotated[str, Field(pattern=r"^[-._a-zA-Z0-9]+$", max_length=253)], str] = Field(
        default_factory=dict
    )
    """Non-secret settings: the app's ConfigMap `<name>-config`; values are strings (quote numbers).
    Keys that look secret (password, token, secret, key, credential, ...) and values holding
    tokens, keys, passwords in URLs or high-entropy strings are refused
    ([secrets.md](secrets.md)). The ConfigMap as sent (name, namespace, labels and data as JSON)
    may take at most 1,048,576 bytes (1 MiB); the message gives its size."""
    secrets: list[AppSecret] = Field(default_factory=list)
    """Keys of the Secret `<name>-secrets`, fetched by External Secrets; each entry:"""
    secret_refresh_interval: Duration = "1h"
    """How often External Secrets re-reads the remote values (a duration such as `1h` or `30m`)."""
    sealed_secrets: list[Annotated[str, Field(pattern=DNS_LABEL)]] = Field(default_factory=list)
    """Names of Secrets the app unseals from Git that its Role may read."""
    aws: AppAws = AppAws()
    """AWS access of the app's own role."""
    identity: IdentityMode | None = None
    """How the app's pods get its role's credentials (`irsa`, `both`, `podIdentity`); unset: the
    stack's `identity` ([identity.md](identity.md))."""
    storage: list[StorageBudget] = Field(default_factory=list)
    """Storage budget per StorageClass; each entry:"""

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
