"""Alerts on stale or failed backups, for clusters that run the Prometheus Operator."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta

import pulumi
import pulumi_kubernetes as k8s

from design import alerts as design
from design.labels import MANAGED_BY


@dataclass(frozen=True)
class BackupAlertsArgs:
    jobs: Sequence[design.Watched]
    velero_schedules: Sequence[tuple[str, timedelta]]
    namespace: str
    rule_labels: Mapping[str, str]
    provider: k8s.Provider
    # What the alerts watch, so the rules arrive with it.
    watched: Sequence[pulumi.Resource] = ()


class BackupAlerts(pulumi.ComponentResource):
    def __init__(
        self, name: str, args: BackupAlertsArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("eks-config-storage:backup:BackupAlerts", name, None, opts)
        k8s.apiextensions.CustomResource(
            f"{name}-rules",
            api_version="monitoring.coreos.com/v1",
            kind="PrometheusRule",
            metadata={
                "name": "eks-config-storage-backups",
                "namespace": args.namespace,
                "labels": {**MANAGED_BY, **args.rule_labels},
            },
            spec={"groups": design.rule_groups(args.jobs, args.velero_schedules)},
            opts=pulumi.ResourceOptions(
                parent=self, provider=args.provider, depends_on=list(args.watched)
            ),
        )
        self.register_outputs({})
