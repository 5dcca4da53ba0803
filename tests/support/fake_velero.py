"""Velero's CSI backups, as the stand-in cluster's state sees them (velero-io/velero@v1.18.1).

A controller, not a kubectl form: the tests call ``backup`` and ``expire`` on the state dict of
fake_kubectl.py between runs of the scripts, as Velero's nightly Schedule would act on the
cluster. What it models, with the upstream lines it follows:

- Resource filters: a backup lists each resource its filters include
  (pkg/backup/item_collector.go:430, ``ResourceIncludesExcludes.ShouldInclude``), in the
  namespaces it includes.
- The exclusion label: an item labelled ``velero.io/exclude-from-backup=true`` is skipped before
  any action runs (pkg/apis/velero/v1/labels_annotations.go:103,
  pkg/backup/item_backupper.go:116-120).
- Volume policies: a PVC is snapshotted when the first policy that matches it says
  ``snapshot`` (internal/resourcepolicies/resource_policies.go:164-178); Velero's CSI PVC action
  then makes its own VolumeSnapshot, labelled with the PVC's labels and
  ``velero.io/backup-name`` (pkg/backup/actions/csi/pvc_action.go:243-247).
- Adoption: the VolumeSnapshot action applies to every VolumeSnapshot the backup includes,
  whoever made it (pkg/backup/actions/csi/volumesnapshot_action.go:60); it labels the bound
  content with the backup's name (:162-185) and returns an async operation on both objects
  (:232-241).
- Finalizing: the action runs again and, for each such snapshot that is bound, patches its
  content to Retain, deletes the content, then the snapshot
  (volumesnapshot_action.go:87-93; pkg/util/csi/volume_snapshot.go:552-588,
  DeleteReadyVolumeSnapshot). The physical snapshot now lives as long as the backup.
- Expiry: deleting the backup recreates each content labelled with its name with
  deletionPolicy Delete and deletes it, so the physical snapshot goes
  (internal/delete/actions/csi/volumesnapshotcontent_action.go:75, 93).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

EXCLUDE_LABEL = "velero.io/exclude-from-backup"
BACKUP_NAME_LABEL = "velero.io/backup-name"
SNAPSHOTS = "volumesnapshots.snapshot.storage.k8s.io"


@dataclass
class Backup:
    name: str
    expires: int  # seconds since the epoch
    # Physical snapshots the backup owns, with the namespace/PVC each was taken of.
    handles: dict[str, str] = field(default_factory=dict)
    adopted: list[str] = field(default_factory=list)  # ns/name of snapshots Velero took over


@dataclass(frozen=True)
class Schedule:
    """What of a Velero Schedule's template the model reads."""

    excluded_namespaces: Sequence[str] = ()
    excluded_resources: Sequence[str] = ()  # excludedNamespaceScopedResources
    snapshot_classes: Sequence[str] = ()  # volume policy: snapshot these classes
    ttl_seconds: int = 30 * 86400


def _labels(obj: dict) -> dict:
    return obj.get("labels") or {}


def _included(schedule: Schedule, namespace: str) -> bool:
    return namespace not in schedule.excluded_namespaces


def _new_content(state: dict, snap: dict, policy: str) -> str:
    serial = state.get("serial", 0) + 1
    state["serial"] = serial
    content = {
        "name": f"snapcontent-{serial:04d}",
        "deletionPolicy": policy,
        "snapshotHandle": f"snap-{serial:04d}",
        "volumeSnapshotRef": {"namespace": snap["namespace"], "name": snap["name"]},
        "volumeSnapshotClassName": snap["volumeSnapshotClassName"],
        "volumeHandle": f"vol-{snap['namespace']}-{snap['pvc']}",
    }
    state["contents"].append(content)
    state["physical"].append(content["snapshotHandle"])
    return content["name"]


def backup(state: dict, name: str, schedule: Schedule, *, now: int, snapshot_class: str) -> Backup:
    """One backup of ``schedule`` run to completion (Completed, then finalized) at ``now``."""
    record = Backup(name=name, expires=now + schedule.ttl_seconds)
    policy = state["classes"][snapshot_class]
    # Velero's own snapshots of the PVCs its volume policy selects.
    for pvc in state["pvcs"]:
        if not _included(schedule, pvc["namespace"]) or _labels(pvc).get(EXCLUDE_LABEL) == "true":
            continue
        if pvc.get("storageClassName") not in schedule.snapshot_classes:
            continue
        snap = {
            "namespace": pvc["namespace"],
            "name": f"velero-{pvc['name']}-{name}",
            "labels": {**_labels(pvc), BACKUP_NAME_LABEL: name},
            "annotations": {},
            "pvc": pvc["name"],
            "volumeSnapshotClassName": snapshot_class,
            "readyToUse": True,
        }
        snap["boundVolumeSnapshotContentName"] = _new_content(state, snap, policy)
        state["snapshots"].append(snap)
    # Every VolumeSnapshot the filters include, Velero's own and anyone else's.
    items = [
        s
        for s in state["snapshots"]
        if SNAPSHOTS not in schedule.excluded_resources
        and _included(schedule, s["namespace"])
        and _labels(s).get(EXCLUDE_LABEL) != "true"
    ]
    contents = {c["name"]: c for c in state["contents"]}
    for snap in items:
        content = contents.get(snap.get("boundVolumeSnapshotContentName") or "")
        if content is not None:
            content.setdefault("labels", {})[BACKUP_NAME_LABEL] = name
    for snap in items:
        content = contents.get(snap.get("boundVolumeSnapshotContentName") or "")
        if content is None:
            continue  # "is not ready. This is not expected." and left alone
        content["deletionPolicy"] = "Retain"
        state["contents"].remove(content)
        state["snapshots"].remove(snap)
        record.handles[content["snapshotHandle"]] = f"{snap['namespace']}/{snap['pvc']}"
        if BACKUP_NAME_LABEL not in _labels(snap):
            record.adopted.append(f"{snap['namespace']}/{snap['name']}")
    return record


def expire(state: dict, backups: Iterable[Backup], *, now: int) -> list[Backup]:
    """Delete the backups whose TTL has run out, with their physical snapshots; the rest."""
    kept = []
    for record in backups:
        if record.expires > now:
            kept.append(record)
            continue
        for handle in record.handles:
            if handle in state["physical"]:
                state["physical"].remove(handle)
    return kept
