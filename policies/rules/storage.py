"""R4-R6 and F3: how volumes bind, are named and grow, and never live on a node."""

from __future__ import annotations

from collections.abc import Iterator

from design import storage as sc
from design.storage.registry import by_provisioner

from .base import (
    STORAGE_CLASS,
    ResourceRule,
    Settings,
    StackRule,
    Subject,
    as_list,
    get,
    kind,
    pod_spec,
)


def _zonal(s: Subject) -> bool:
    backend = by_provisioner(s.props.get("provisioner"))
    return backend is not None and backend.zonal


def storage_class_binds_late(s: Subject, _: Settings) -> Iterator[str]:
    """R4: an AZ-bound volume is created where its pod lands."""
    if (
        s.type == STORAGE_CLASS
        and _zonal(s)
        and s.props.get("volumeBindingMode") != "WaitForFirstConsumer"
    ):
        yield "EBS classes must bind WaitForFirstConsumer (volumes are zonal)"


def storage_class_binds_late_everywhere(s: Subject, _: Settings) -> Iterator[str]:
    """R4, uniform semantics: every class of the catalog binds the same way."""
    if (
        s.type == STORAGE_CLASS
        and not _zonal(s)
        and s.props.get("volumeBindingMode") != "WaitForFirstConsumer"
    ):
        yield "classes of this catalog bind WaitForFirstConsumer"


def storage_class_sla_name(s: Subject, settings: Settings) -> Iterator[str]:
    """R5: the name is what ``design.storage.storage_class_name`` derives. A retired class keeps
    the name it was derived with (its tier, throughput mode or environment may have changed)."""
    if s.type != STORAGE_CLASS:
        return
    name = str(get(s.props, "metadata", "name"))
    if problem := sc.name_problem(name):
        yield problem
        return
    if (get(s.props, "metadata", "labels") or {}).get(sc.RETIRED_LABEL) == "true":
        return
    provisioner = s.props.get("provisioner")
    params = s.props.get("parameters") or {}
    backend = by_provisioner(provisioner)
    if backend is None:
        yield f"provisioner {provisioner!r} is not part of the catalog"
        return
    candidates = backend.name_candidates(params)
    for backing, access, mode in candidates:
        for tier in (None, *name.split("-")[2:-2]):
            spec = sc.ClassSpec(backing, access, settings.environment, mode, tier)
            try:
                if sc.storage_class_name(spec) == name:
                    return
            except ValueError:
                continue
    yield (
        f"{name!r} does not follow <backing>-<media>[-<tier>]-{settings.environment}-<access> "
        "for its provisioner and type"
    )


def storage_class_expandable(s: Subject, _: Settings) -> Iterator[str]:
    """R6: volumes grow online where the driver can grow them, and a class never promises an
    expansion its driver cannot make (EFS: its backend is not ``expandable``)."""
    if s.type != STORAGE_CLASS:
        return
    can_expand = sc.expandable(s.props.get("provisioner"))
    if can_expand and s.props.get("allowVolumeExpansion") is not True:
        yield "allowVolumeExpansion must be true"
    if not can_expand and s.props.get("allowVolumeExpansion") is True:
        driver = s.props.get("provisioner")
        yield f"{driver} cannot expand volumes: allowVolumeExpansion must be false"


def no_host_path(s: Subject, _: Settings) -> Iterator[str]:
    """F3: data never tied to a node."""
    if kind(s) == "PersistentVolume" and get(s.props, "spec", "hostPath"):
        yield "hostPath PersistentVolume ties data to one node"
    pod = pod_spec(s)
    for volume in as_list(pod.get("volumes")) if pod else []:
        if "hostPath" in volume:
            yield f"volume {volume.get('name')!r} is a hostPath: data would be tied to a node"


RESOURCE_RULES: tuple[ResourceRule, ...] = (
    ResourceRule(
        "ebs-classes-wait-for-first-consumer",
        "R4",
        "EBS classes bind WaitForFirstConsumer",
        "mandatory",
        storage_class_binds_late,
    ),
    ResourceRule(
        "classes-wait-for-first-consumer",
        "R4",
        "Every other class binds WaitForFirstConsumer too (uniform semantics)",
        "advisory",
        storage_class_binds_late_everywhere,
    ),
    ResourceRule(
        "storage-class-sla-name",
        "R5",
        "Class names follow the SLA naming function",
        "mandatory",
        storage_class_sla_name,
    ),
    ResourceRule(
        "storage-class-expandable",
        "R6",
        "Every class allows volume expansion",
        "mandatory",
        storage_class_expandable,
    ),
    ResourceRule(
        "no-host-path", "F3", "No hostPath volumes in any workload", "mandatory", no_host_path
    ),
)

STACK_RULES: tuple[StackRule, ...] = ()
