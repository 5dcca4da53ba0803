"""Backups cannot fail silently: alerts on a stale last success and on failed runs, as Prometheus
Operator rules (prometheus-operator/prometheus-operator@v0.93.0 PrometheusRule CRD).

Sources of the series: Velero's ``velero_backup_last_successful_timestamp`` and
``velero_backup_failure_total``, labelled by ``schedule`` (velero-io/velero@v1.18.1:
pkg/metrics/metrics.go); kube-state-metrics' ``kube_cronjob_status_last_successful_time``,
``kube_job_failed`` and ``kube_job_created`` for the snapshot rotators, the reconciler, the
restore drills and the sealing-key escrow keeper (kubernetes/kube-state-metrics
docs/metrics/workload/job-metrics.md and cronjob-metrics.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

# A run may be late by its own interval once (a skipped or slow run) before anyone is paged.
STALE_FACTOR = 2
SLACK = timedelta(minutes=30)


@dataclass(frozen=True)
class Watched:
    """A scheduled job whose last success should be recent."""

    kind: str  # "snapshot policy", "restore drill", ...
    name: str
    namespace: str
    cron_job: str
    longest_gap: timedelta


def stale_after(gap: timedelta) -> int:
    return int((gap * STALE_FACTOR + SLACK).total_seconds())


def _duration(seconds: int) -> str:
    return f"{seconds // 60}m"


def failed_last_run(job: Watched) -> str:
    """The CronJob's newest Job carries the Failed condition. ``kube_job_failed`` is the Job's
    Failed condition (label ``condition``, true/false/unknown; kube-state-metrics
    internal/store/job.go), so a Job whose retry succeeded never matches, unlike
    ``kube_job_status_failed``, "the number of pods which reached Phase Failed". Only the newest
    Job (largest ``kube_job_created``) counts, so the alert resolves when the next run starts
    instead of firing while failedJobsHistoryLimit keeps the failed Job."""
    jobs = f'namespace="{job.namespace}", job_name=~"{job.cron_job}-[0-9]+"'
    newest = (
        f"kube_job_created{{{jobs}}} == on(namespace) group_left() "
        f"max by (namespace) (kube_job_created{{{jobs}}})"
    )
    return (
        f'kube_job_failed{{{jobs}, condition="true"}} == 1 and on(namespace, job_name) ({newest})'
    )


def cron_job_rules(job: Watched) -> list[dict]:
    selector = f'namespace="{job.namespace}", cronjob="{job.cron_job}"'
    limit = stale_after(job.longest_gap)
    labels = {"severity": "critical", "component": "backups"}
    return [
        {
            "alert": "BackupJobStale",
            "expr": f"time() - kube_cronjob_status_last_successful_time{{{selector}}} > {limit}",
            "for": "10m",
            "labels": labels,
            "annotations": {
                "summary": f"{job.kind} {job.name} has not succeeded for over {_duration(limit)}",
                "description": f"CronJob {job.namespace}/{job.cron_job}: kubectl get jobs -n "
                f"{job.namespace} --sort-by=.status.startTime",
            },
        },
        {
            "alert": "BackupJobNeverSucceeded",
            "expr": f"absent(kube_cronjob_status_last_successful_time{{{selector}}})",
            "for": _duration(limit),
            "labels": labels,
            "annotations": {
                "summary": f"{job.kind} {job.name} has never succeeded",
                "description": f"CronJob {job.namespace}/{job.cron_job} has no successful run",
            },
        },
        {
            "alert": "BackupJobFailed",
            "expr": failed_last_run(job),
            "labels": labels,
            "annotations": {
                "summary": f"the last run of {job.kind} {job.name} failed",
                "description": f"kubectl logs -n {job.namespace} job/{{{{ $labels.job_name }}}}",
            },
        },
    ]


def velero_rules(schedule: str, longest_gap: timedelta) -> list[dict]:
    limit = stale_after(longest_gap)
    window = _duration(int(longest_gap.total_seconds()) + 600)
    labels = {"severity": "critical", "component": "backups"}
    return [
        {
            "alert": "VeleroBackupStale",
            "expr": f'time() - velero_backup_last_successful_timestamp{{schedule="{schedule}"}} '
            f"> {limit}",
            "for": "10m",
            "labels": labels,
            "annotations": {
                "summary": f"Velero schedule {schedule} has no successful backup for over "
                f"{_duration(limit)}",
                "description": f"velero backup get --selector velero.io/schedule-name={schedule}",
            },
        },
        {
            # Velero sets this gauge only on a success and keeps it in memory
            # (pkg/metrics/metrics.go: InitSchedule leaves it out), so a schedule that never
            # succeeded, since its creation or Velero's restart, or a Velero nobody scrapes,
            # shows up as its absence.
            "alert": "VeleroBackupNeverSucceeded",
            "expr": f'absent(velero_backup_last_successful_timestamp{{schedule="{schedule}"}})',
            "for": _duration(limit),
            "labels": labels,
            "annotations": {
                "summary": f"Velero schedule {schedule} has no successful backup on record",
                "description": "kubectl get backups.velero.io -n <velero namespace> -l "
                f"velero.io/schedule-name={schedule} --sort-by=.status.completionTimestamp",
            },
        },
        {
            "alert": "VeleroBackupFailed",
            "expr": f'increase(velero_backup_failure_total{{schedule="{schedule}"}}[{window}]) > 0',
            "labels": labels,
            "annotations": {
                "summary": f"a backup of Velero schedule {schedule} failed",
                "description": "velero backup describe <backup> --details",
            },
        },
    ]


def rule_groups(jobs: Sequence[Watched], velero: Sequence[tuple[str, timedelta]]) -> list[dict]:
    groups = []
    if jobs:
        groups.append(
            {
                "name": "eks-config-storage.backup-jobs",
                "rules": [rule for job in jobs for rule in cron_job_rules(job)],
            }
        )
    if velero:
        groups.append(
            {
                "name": "eks-config-storage.velero",
                "rules": [rule for name, gap in velero for rule in velero_rules(name, gap)],
            }
        )
    return groups
