"""The catalog: every view derived from a validated stack config, computed once, in one place.

The config rules, the program's components, the offline plan and the policy pack all read these
views; none derives its own. Class names come from ``design.storage`` (each backend's naming).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta

from config.schedules import longest_gap
from config.schema import StackConfig, StorageClass
from design import drills, escrow, reconciler
from design import storage as sc
from design.alerts import Watched
from design.apps import FOREIGN_CLASSES
from design.labels import snapshot_cronjob_name
from design.snapshots import classes_by_policy as _covered


@dataclass(frozen=True)
class CatalogEntry:
    """A config entry with its derived SLA name (or, retired, the name it had)."""

    name: str
    spec: StorageClass
    retired: bool = False


def class_name(cfg: StackConfig, cls: StorageClass) -> str:
    """The SLA name a catalog entry gets (raises ValueError for impossible combinations)."""
    return sc.storage_class_name(
        sc.ClassSpec(
            backing=cls.backing,
            access=cls.access,
            environment=cfg.environment,
            efs_throughput_mode=cfg.storage.efs.throughput_mode,
            tier=cls.tier,
        )
    )


def storage_catalog(cfg: StackConfig) -> list[tuple[str, StorageClass]]:
    """Every catalog entry with its SLA name (for a config that passed validation)."""
    return [(class_name(cfg, cls), cls) for cls in cfg.storage.classes]


def protected_classes(cfg: StackConfig) -> list[tuple[str, StorageClass]]:
    """Every class that may hold volumes: the catalog and the retired classes, by name."""
    catalog = storage_catalog(cfg)
    return [*catalog, *((r.name, r) for r in cfg.storage.retired_classes)]


def classes_by_schedule(cfg: StackConfig) -> dict[str, list[str]]:
    """The classes each Velero schedule snapshots (``protection.backupSchedule``)."""
    found: dict[str, list[str]] = {}
    for name, cls in protected_classes(cfg):
        if cls.protection.backup_schedule:
            found.setdefault(cls.protection.backup_schedule, []).append(name)
    return found


def classes_by_policy(cfg: StackConfig) -> dict[str, list[str]]:
    """The classes each snapshot policy covers by construction (``protection.snapshotPolicies``):
    policy -> sorted class names, retired classes included."""
    return _covered(
        (name, cls.protection.snapshot_policies) for name, cls in protected_classes(cfg)
    )


def known_classes(cfg: StackConfig) -> list[str]:
    """Every class a volume of this cluster can be on: the platform's and EKS's own gp2."""
    return sorted({name for name, _ in protected_classes(cfg)} | set(FOREIGN_CLASSES))


def reclaim_policies(cfg: StackConfig) -> dict[str, str]:
    """Every class, retired ones included, with the reclaimPolicy it provisions PVs with."""
    default = cfg.storage.reclaim_policy
    return {name: cls.reclaim_policy or default for name, cls in protected_classes(cfg)}


def watched_jobs(cfg: StackConfig) -> list[Watched]:
    """The scheduled jobs whose last success should be recent, with their longest gap."""
    jobs = [
        Watched(
            "snapshot policy",
            policy.name,
            cfg.snapshots.namespace,
            snapshot_cronjob_name(policy.name),
            longest_gap(policy.schedule),
        )
        for policy in cfg.snapshots.policies
    ]
    # A stopped reconciler leaves new PVs on a reclaimPolicy nobody chose: watched like a backup.
    jobs.append(
        Watched(
            "storage policy reconciler",
            reconciler.CRONJOB_NAME,
            cfg.snapshots.namespace,
            reconciler.CRONJOB_NAME,
            longest_gap(reconciler.SCHEDULE),
        )
    )
    # A drill that stops running proves nothing: its last success is watched too.
    jobs += [
        Watched(
            "restore drill",
            drill.name,
            drills.NAMESPACE,
            drills.cronjob_name(drill.name),
            longest_gap(drill.schedule),
        )
        for drill in cfg.restore_drills
    ]
    # A check that stops, or fails, means a sealing key nobody could restore.
    if cfg.sealed_secrets.escrow:
        jobs.append(
            Watched(
                "sealing-key escrow",
                "check",
                cfg.sealed_secrets.namespace,
                escrow.CHECK,
                longest_gap(escrow.CHECK_SCHEDULE),
            )
        )
    return jobs


def velero_schedules(cfg: StackConfig) -> list[tuple[str, timedelta]]:
    if not cfg.backups.enabled:
        return []
    return [(s.name, longest_gap(s.schedule)) for s in cfg.backups.schedules]


@dataclass(frozen=True)
class Catalog:
    """The views of one validated stack config, built once by ``Catalog.of``."""

    entries: Sequence[CatalogEntry]
    """Every class the stack keeps: the catalog, then the retired classes."""
    by_snapshot_policy: Mapping[str, Sequence[str]]
    by_backup_schedule: Mapping[str, Sequence[str]]
    known: Sequence[str]
    reclaim_policies: Mapping[str, str]
    watched_jobs: Sequence[Watched]
    velero_schedules: Sequence[tuple[str, timedelta]]

    @classmethod
    def of(cls, cfg: StackConfig) -> Catalog:
        return cls(
            entries=(
                *(CatalogEntry(name, spec) for name, spec in storage_catalog(cfg)),
                *(CatalogEntry(r.name, r, retired=True) for r in cfg.storage.retired_classes),
            ),
            by_snapshot_policy=classes_by_policy(cfg),
            by_backup_schedule=classes_by_schedule(cfg),
            known=known_classes(cfg),
            reclaim_policies=reclaim_policies(cfg),
            watched_jobs=watched_jobs(cfg),
            velero_schedules=velero_schedules(cfg),
        )
