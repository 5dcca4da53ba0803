"""The StorageClass catalog, EFS, snapshot policies, and what production storage keeps."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import timedelta

from config.catalog import class_name
from config.rules.base import Problem, repeated
from config.schedules import longest_gap
from config.schema import StackConfig, StorageClass
from design import storage as sc
from design.storage.registry import REGISTRY, for_backing


def storage_class_catalog(cfg: StackConfig) -> Iterator[Problem]:
    names: Counter[str] = Counter()
    for i, cls in enumerate(cfg.storage.classes):
        key = f"storage.classes[{i}]"
        try:
            name = class_name(cfg, cls)
        except ValueError as exc:
            yield f"{key}.access", str(exc)
            continue
        names[name] += 1
        if problem := sc.name_problem(name):
            yield key, problem
        yield from _class_settings(cfg, cls, key)
    for name, count in names.items():
        if count > 1:
            yield "storage.classes", f"{count} classes are named {name!r}: give them a tier"
    defaults = sum(cls.default for cls in cfg.storage.classes)
    if defaults != 1:
        yield "storage.classes", f"exactly one class must be the default, found {defaults}"
    yield from _retired_classes(cfg, set(names))


def _retired_classes(cfg: StackConfig, current: set[str]) -> Iterator[Problem]:
    retired = cfg.storage.retired_classes
    yield from repeated("storage.retiredClasses", "class", (r.name for r in retired))
    for i, cls in enumerate(retired):
        key = f"storage.retiredClasses[{i}]"
        if cls.name in current:
            yield f"{key}.name", f"{cls.name!r} is still in the catalog (storage.classes)"
        backend = for_backing(cls.backing)
        if backend is not None and cls.access != backend.access:
            yield f"{key}.access", sc.access_problem(backend)
        yield from _class_settings(cfg, cls, key)


def _class_settings(cfg: StackConfig, cls: StorageClass, key: str) -> Iterator[Problem]:
    backend = for_backing(cls.backing)
    if backend is None:
        return
    if problem := backend.requires(cfg):
        yield f"{key}.backing", problem
    for suffix, problem in backend.class_problems(cls):
        yield f"{key}.{suffix}", problem


def backend_settings(cfg: StackConfig) -> Iterator[Problem]:
    """Each backend's stack-level settings (the EFS file system's throughput)."""
    for backend in REGISTRY:
        yield from backend.stack_problems(cfg)


def snapshot_policies(cfg: StackConfig) -> Iterator[Problem]:
    policies = cfg.snapshots.policies
    yield from repeated("snapshots.policies", "policy name", (p.name for p in policies))
    if policies and not any(_snapshotted(cls) for cls in cfg.storage.classes):
        volumes = " or ".join(b.label for b in REGISTRY if b.snapshots)
        yield (
            "snapshots.policies",
            f"snapshots are taken of {volumes} volumes: add an {volumes} class",
        )
    for i, policy in enumerate(policies):
        if policy.max_age_seconds is None:
            continue
        gap = longest_gap(policy.schedule)
        if timedelta(seconds=policy.max_age_seconds) < gap:
            yield (
                f"snapshots.policies[{i}].maxAge",
                f"{policy.max_age} is shorter than the {_span(gap)} between runs of "
                f"'{policy.schedule}': every run would prune all generations but the newest, "
                "whatever keep says; use keep: 1 for that, or a maxAge of at least that gap",
            )


def _snapshotted(cls: StorageClass) -> bool:
    backend = for_backing(cls.backing)
    return backend is not None and backend.snapshots


def _span(gap: timedelta) -> str:
    minutes = int(gap.total_seconds() // 60)
    return f"{minutes // 60}h" if minutes % 60 == 0 else f"{minutes}m"


def production_storage(cfg: StackConfig) -> Iterator[Problem]:
    if not cfg.production:
        return
    if cfg.storage.reclaim_policy != "Retain":
        yield "storage.reclaimPolicy", "production volumes outlive their claims: use Retain"
    for i, cls in enumerate(cfg.storage.classes):
        if cls.reclaim_policy == "Delete":
            yield f"storage.classes[{i}].reclaimPolicy", "production classes must Retain"
    if cfg.snapshots.deletion_policy != "Retain":
        yield "snapshots.deletionPolicy", "production snapshots must outlive their objects"
    for backend in REGISTRY:
        yield from backend.production_problems(cfg)


def warnings(cfg: StackConfig) -> list[Problem]:
    """Settings that still work but should change: reported, never refused."""
    found = []
    for key, classes in (
        ("storage.classes", cfg.storage.classes),
        ("storage.retiredClasses", cfg.storage.retired_classes),
    ):
        for i, cls in enumerate(classes):
            if "block_express" in cls.model_fields_set:
                found.append(
                    (
                        f"{key}[{i}].blockExpress",
                        "deprecated and ignored: every io2 volume is Block Express (up to "
                        "256,000 IOPS); remove the setting",
                    )
                )
    return found
