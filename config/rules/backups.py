"""Rules of backups and restores: protection names what exists, drills restore real policies."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from config.rules.base import Problem, repeated
from config.schedules import longest_gap
from config.schema import StackConfig
from design.storage.registry import for_backing


def protection(cfg: StackConfig) -> Iterator[Problem]:
    policies = {p.name for p in cfg.snapshots.policies}
    schedules = {s.name for s in cfg.backups.schedules} if cfg.backups.enabled else set()
    for key, classes in (
        ("storage.classes", cfg.storage.classes),
        ("storage.retiredClasses", cfg.storage.retired_classes),
    ):
        for i, cls in enumerate(classes):
            where = f"{key}[{i}].protection"
            guard = cls.protection
            backend = for_backing(cls.backing)
            unprotectable = backend is not None and not backend.snapshots
            if unprotectable and (guard.snapshot_policies or guard.backup_schedule):
                yield where, backend.unsnapshottable
                continue
            for j, name in enumerate(guard.snapshot_policies):
                if name not in policies:
                    yield f"{where}.snapshotPolicies[{j}]", f"no snapshot policy {name!r}"
            if guard.backup_schedule and guard.backup_schedule not in schedules:
                yield (
                    f"{where}.backupSchedule",
                    f"no backup schedule {guard.backup_schedule!r} (backups.schedules, with "
                    "backups.enabled)",
                )


# Production floors: what a protected stack may cut its history to at least (day2 review A25,
# N13, N14, N44: each cut deletes audit logs or snapshot generations for good).
PRODUCTION_LOG_RETENTION_DAYS = 90
PRODUCTION_SNAPSHOT_HISTORY = timedelta(days=7)


def backups(cfg: StackConfig) -> Iterator[Problem]:
    yield from repeated("backups.schedules", "schedule", (s.name for s in cfg.backups.schedules))
    if cfg.backups.schedules and not cfg.backups.enabled:
        yield "backups.schedules", "schedules need backups.enabled"
    yield from production_backups(cfg)


def production_backups(cfg: StackConfig) -> Iterator[Problem]:
    """Production keeps enough history, and says who is told when backups fail."""
    if not cfg.production:
        return
    if not cfg.monitoring.prometheus_rules and not cfg.monitoring.reason:
        yield (
            "monitoring",
            "production backups must not fail silently: set monitoring.prometheusRules, or "
            "monitoring.reason to say what alerts instead",
        )
    if cfg.log_retention_days < PRODUCTION_LOG_RETENTION_DAYS:
        yield (
            "logRetentionDays",
            f"production keeps its audit log at least {PRODUCTION_LOG_RETENTION_DAYS} days",
        )
    if cfg.snapshots.policies:
        history = max(
            longest_gap(p.schedule) * p.keep
            if p.max_age_seconds is None
            else min(longest_gap(p.schedule) * p.keep, timedelta(seconds=p.max_age_seconds))
            for p in cfg.snapshots.policies
        )
        if history < PRODUCTION_SNAPSHOT_HISTORY:
            yield (
                "snapshots.policies",
                f"production keeps at least {PRODUCTION_SNAPSHOT_HISTORY.days} days of "
                "in-cluster generations in some policy (keep x interval, capped by maxAge)",
            )


def restore_drills(cfg: StackConfig) -> Iterator[Problem]:
    policies = {p.name for p in cfg.snapshots.policies}
    yield from repeated("restoreDrills", "drill", (d.name for d in cfg.restore_drills))
    for i, drill in enumerate(cfg.restore_drills):
        if drill.policy not in policies:
            yield f"restoreDrills[{i}].policy", f"no snapshot policy {drill.policy!r}"
