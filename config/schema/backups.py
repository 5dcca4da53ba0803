"""Backups and restores: Velero off the cluster, restore drills, and alerting on stale backups."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, field_validator

from config.schedules import CronSchedule
from config.schema.apps import ChartVersion, HelmChart
from config.schema.base import DNS_LABEL, DnsLabel, Model, PrincipalArn
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
    """Named by classes' `protection.backupSchedule`, and by PVC label
    `backups.eks-config-storage.io/schedule`."""
    schedule: CronSchedule
    """Cron schedule (UTC), as CronJobs read it (see `snapshots.policies[].schedule`)."""
    ttl: Hours
    """How long each backup lives, `1h` to `8760h`: Velero deletes it and its snapshots after
    that."""

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
    """Velero with a backup bucket of this stack ([backups.md](backups.md))."""
    chart_version: ChartVersion = "12.1.0"
    """Velero chart version (pinned)."""
    repository: Annotated[str, Field(pattern=r"^https://[A-Za-z0-9./_-]+$")] = (
        "https://vmware-tanzu.github.io/helm-charts"
    )
    """Chart repository."""
    namespace: DnsLabel = "velero"
    """Velero's namespace."""
    # The AWS plugin serves the bucket (the object store); volumes are CSI snapshots.
    plugin_image: Image = "docker.io/velero/velero-plugin-for-aws:v1.14.2"
    """The AWS object-store plugin; production needs a digest (`name:tag@sha256:...`)."""
    # Earlier versions of a backup object stay this long after being overwritten or deleted.
    noncurrent_version_days: int = Field(default=30, ge=1, le=365)
    """How long the bucket keeps a backup object's earlier versions."""
    break_glass_readers: list[PrincipalArn] = Field(default_factory=list)
    """IAM roles or users, besides Velero's role, that may read backup objects (they hold every
    Secret of the namespaces backed up): the bucket policy denies object reads to everyone
    else, administrators included."""
    schedules: list[BackupSchedule] = Field(default_factory=list)
    """Velero schedules, each over every namespace except Kubernetes' own (`kube-*`), Velero's, the
    sealing key's (escrowed on its own) and the drills' scratch namespace; each entry:"""

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
    """Drill name (its CronJob is `drill-<name>`, which records the last successful drill in
    annotation `restore.eks-config-storage.io/last-drill`)."""
    policy: DnsLabel
    """The snapshot policy whose newest ready generation (any namespace) is restored, into the
    source PVC's class."""
    schedule: CronSchedule
    """Cron schedule (UTC)."""
    timeout_seconds: int = Field(default=1800, ge=300, le=14400)
    """From the first object made to the check's success; the Job may run ten minutes more to clean
    up."""


class Monitoring(Model):
    """Alerting for clusters that run the Prometheus Operator (and kube-state-metrics)."""

    prometheus_rules: bool = False
    """Create PrometheusRules that alert on stale or failed backups, rotations and drills (clusters
    with the Prometheus Operator)."""
    # Where the operator looks for rules, and the labels its ruleSelector (and, for Velero's
    # ServiceMonitor, its serviceMonitorSelector) matches (for kube-prometheus-stack, release:
    # <its release name>, for both).
    namespace: DnsLabel = "monitoring"
    """Namespace of the PrometheusRule (one the operator watches)."""
    rule_labels: dict[str, str] = Field(default_factory=dict)
    """Labels the operator's `ruleSelector` matches, e.g. `release: kube-prometheus-stack`; also
    given to Velero's ServiceMonitor (`serviceMonitorSelector`)."""
    reason: str = ""
    """Without `prometheusRules`: what alerts on failed backups instead (required in
    production)."""
