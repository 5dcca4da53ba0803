"""Rules of backups and restores: protection names what exists, drills restore real policies."""

from __future__ import annotations

from collections.abc import Iterator

from config.rules.base import Problem, repeated
from config.schema import StackConfig


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
            if cls.backing == "efs" and (guard.snapshot_policies or guard.backup_schedule):
                yield (
                    where,
                    "EFS volumes cannot be snapshotted (the EFS CSI driver has no snapshots): "
                    "the file system's AWS Backup (storage.efs.backup) protects them",
                )
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


def backups(cfg: StackConfig) -> Iterator[Problem]:
    yield from repeated("backups.schedules", "schedule", (s.name for s in cfg.backups.schedules))
    if cfg.backups.schedules and not cfg.backups.enabled:
        yield "backups.schedules", "schedules need backups.enabled"


def restore_drills(cfg: StackConfig) -> Iterator[Problem]:
    policies = {p.name for p in cfg.snapshots.policies}
    yield from repeated("restoreDrills", "drill", (d.name for d in cfg.restore_drills))
    for i, drill in enumerate(cfg.restore_drills):
        if drill.policy not in policies:
            yield f"restoreDrills[{i}].policy", f"no snapshot policy {drill.policy!r}"
