"""Backups and restores: Velero off the cluster, restore drills, and alerting on stale backups."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, field_validator

from config.schedules import CronSchedule
from config.schema.apps import ChartVersion, HelmChart
from config.schema.base import DNS_LABEL, DnsLabel, Model
from design.images import image_pin_problem

Image = Annotated[
    str,
    Field(
        pattern=r"^[a-z0-9.-]+(:[0-9]+)?(/[a-z0-9._-]+)+(:[A-Za-z0-9._-]+)?(@sha256:[0-9a-f]{64})?$"
    ),
]
# Velero takes a Go duration; whole hours keep TTLs readable and comparable.
Hours = Annotated[str, Field(pattern=r"^[1-9][0-9]{0,4}h$")]
TTL_HOURS = (1, 8760)  # an hour to a year: never "keep forever"


class BackupSchedule(Model):
    """A Velero schedule: every app namespace's objects, and the volumes of the classes that
    name it, every ``schedule``; each backup expires after ``ttl`` (its generation limit)."""

    name: Annotated[str, Field(pattern=DNS_LABEL, max_length=40)]
    schedule: CronSchedule
    ttl: Hours

    @field_validator("ttl")
    @classmethod
    def _bounded(cls, value: str) -> str:
        hours = int(value[:-1])
        if not TTL_HOURS[0] <= hours <= TTL_HOURS[1]:
            raise ValueError(f"a backup lives {TTL_HOURS[0]}h to {TTL_HOURS[1]}h, got {value}")
        return value

    @property
    def ttl_hours(self) -> int:
        return int(self.ttl[:-1])


class Backups(HelmChart):
    """Velero, with its backups in an S3 bucket of this stack encrypted with the stack's key."""

    enabled: bool = False
    chart_version: ChartVersion = "12.1.0"
    repository: Annotated[str, Field(pattern=r"^https://[A-Za-z0-9./_-]+$")] = (
        "https://vmware-tanzu.github.io/helm-charts"
    )
    namespace: DnsLabel = "velero"
    # The AWS plugin serves the bucket (the object store); volumes are CSI snapshots.
    plugin_image: Image = "docker.io/velero/velero-plugin-for-aws:v1.14.2"
    # Earlier versions of a backup object stay this long after being overwritten or deleted.
    noncurrent_version_days: int = Field(default=30, ge=1, le=365)
    schedules: list[BackupSchedule] = Field(default_factory=list)

    @field_validator("plugin_image")
    @classmethod
    def _pinned(cls, value: str) -> str:
        if problem := image_pin_problem(value, production=False):
            raise ValueError(problem)
        return value


class RestoreDrill(Model):
    """Restore the newest ready generation of a snapshot policy into a scratch namespace, check
    it, time it, clean up: an untested backup is no backup (velero-io/velero#1688)."""

    name: Annotated[str, Field(pattern=DNS_LABEL, max_length=30)]
    policy: DnsLabel
    schedule: CronSchedule
    timeout_seconds: int = Field(default=1800, ge=300, le=14400)


class Monitoring(Model):
    """Alerting for clusters that run the Prometheus Operator (and kube-state-metrics)."""

    prometheus_rules: bool = False
    # Where the operator looks for rules, and the labels its ruleSelector (and, for Velero's
    # ServiceMonitor, its serviceMonitorSelector) matches (for kube-prometheus-stack, release:
    # <its release name>, for both).
    namespace: DnsLabel = "monitoring"
    rule_labels: dict[str, str] = Field(default_factory=dict)
