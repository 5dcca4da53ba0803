"""Restores as reviewable manifests: a PVC from a snapshot (in its namespace or, through a
pre-bound VolumeSnapshotContent, in another), and a Velero Restore of a namespace.

Pure functions over the objects ``kubectl get -o json`` lists, so ``tools.restore`` can render
them for review and the tests can validate them against the upstream schemas.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from design.labels import POLICY_LABEL

SNAPSHOT_API = "snapshot.storage.k8s.io/v1"
VELERO_API = "velero.io/v1"
PVC_ANNOTATION = "snapshots.eks-config-storage.io/pvc"
# On every VolumeSnapshot Velero made or restored (velero-io/velero@v1.18.1:
# pkg/backup/actions/csi/pvc_action.go:247): such a snapshot copies the PVC's labels, the policy
# label included, but is no generation of the policy.
VELERO_BACKUP_LABEL = "velero.io/backup-name"
RESTORED_FROM = "restore.eks-config-storage.io/from"
SCHEDULE_LABEL = (
    "velero.io/schedule-name"  # velero-io/velero pkg/apis/velero/v1/labels_annotations.go
)
NAME_MAX = 253


class RestoreError(ValueError):
    """The listing has nothing that can be restored as asked."""


@dataclass(frozen=True)
class Snapshot:
    namespace: str
    name: str
    pvc: str
    policy: str | None
    created: str
    ready: bool
    restore_size: str | None
    content: str | None
    class_name: str | None

    @classmethod
    def of(cls, item: dict) -> Snapshot:
        meta, spec, status = item["metadata"], item.get("spec") or {}, item.get("status") or {}
        return cls(
            namespace=meta["namespace"],
            name=meta["name"],
            pvc=(spec.get("source") or {}).get("persistentVolumeClaimName")
            or (meta.get("annotations") or {}).get(PVC_ANNOTATION, ""),
            policy=None
            if VELERO_BACKUP_LABEL in (meta.get("labels") or {})
            else (meta.get("labels") or {}).get(POLICY_LABEL),
            created=meta.get("creationTimestamp", ""),
            ready=status.get("readyToUse") is True,
            restore_size=status.get("restoreSize"),
            content=status.get("boundVolumeSnapshotContentName"),
            class_name=spec.get("volumeSnapshotClassName"),
        )


def snapshots(listing: dict) -> list[Snapshot]:
    return [Snapshot.of(item) for item in listing.get("items", [])]


def newest_ready(found: Sequence[Snapshot], *, namespace: str, pvc: str, policy: str) -> Snapshot:
    """The newest ready snapshot a policy made of one PVC (RFC 3339 UTC times sort as text)."""
    candidates = [
        s
        for s in found
        if s.namespace == namespace and s.pvc == pvc and s.policy == policy and s.ready
    ]
    if not candidates:
        raise RestoreError(f"no ready snapshot of {namespace}/{pvc} by policy {policy}")
    return max(candidates, key=lambda s: (s.created, s.name))


def named(found: Sequence[Snapshot], namespace: str, name: str) -> Snapshot:
    for snapshot in found:
        if (snapshot.namespace, snapshot.name) == (namespace, name):
            if not snapshot.ready:
                raise RestoreError(f"snapshot {namespace}/{name} is not ready to use")
            return snapshot
    raise RestoreError(f"no snapshot {namespace}/{name}")


def _dns(name: str) -> str:
    cut = re.sub(r"[^a-z0-9.-]", "-", name.lower())[:NAME_MAX].strip(".-")
    return cut or "restored"


def pvc_from_snapshot(
    snapshot: Snapshot,
    *,
    name: str,
    namespace: str,
    storage_class: str,
    size: str | None = None,
    source_name: str | None = None,
) -> dict:
    """A claim provisioned from a snapshot in its own namespace. On a late-binding class the
    volume is created in the zone the first pod lands in, so a restore works after a lost zone."""
    request = size or snapshot.restore_size
    if not request:
        raise RestoreError(f"snapshot {snapshot.name} reports no restoreSize: give --size")
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "annotations": {RESTORED_FROM: f"volumesnapshot/{snapshot.namespace}/{snapshot.name}"},
        },
        "spec": {
            "storageClassName": storage_class,
            "accessModes": ["ReadWriteOnce"],
            "resources": {"requests": {"storage": request}},
            "dataSource": {
                "apiGroup": "snapshot.storage.k8s.io",
                "kind": "VolumeSnapshot",
                "name": source_name or snapshot.name,
            },
        },
    }


def prebound_copy(snapshot: Snapshot, contents: dict, namespace: str) -> list[dict]:
    """A VolumeSnapshotContent bound in advance to a new VolumeSnapshot in ``namespace``, both
    naming the same physical snapshot: how a snapshot crosses namespaces
    (kubernetes/website: content/en/docs/concepts/storage/volume-snapshots.md, "Pre-provisioned
    volume snapshot"). The copy's content must ``Retain``: deleting it must never delete the
    physical snapshot the original still uses."""
    by_name = {c["metadata"]["name"]: c for c in contents.get("items", [])}
    original = by_name.get(snapshot.content or "")
    handle = ((original or {}).get("status") or {}).get("snapshotHandle")
    if not handle:
        raise RestoreError(f"no bound content with a snapshot handle for {snapshot.name}")
    copy_name = _dns(f"{snapshot.name}-in-{namespace}")
    content_name = _dns(f"restore-{namespace}-{snapshot.name}")
    content = {
        "apiVersion": SNAPSHOT_API,
        "kind": "VolumeSnapshotContent",
        "metadata": {
            "name": content_name,
            "annotations": {RESTORED_FROM: f"volumesnapshotcontent/{snapshot.content}"},
        },
        "spec": {
            "deletionPolicy": "Retain",
            "driver": original["spec"]["driver"],
            "source": {"snapshotHandle": handle},
            "volumeSnapshotRef": {"name": copy_name, "namespace": namespace},
        },
    }
    if snapshot.class_name:
        content["spec"]["volumeSnapshotClassName"] = snapshot.class_name
    volume_snapshot = {
        "apiVersion": SNAPSHOT_API,
        "kind": "VolumeSnapshot",
        "metadata": {"name": copy_name, "namespace": namespace},
        "spec": {"source": {"volumeSnapshotContentName": content_name}},
    }
    if snapshot.class_name:
        volume_snapshot["spec"]["volumeSnapshotClassName"] = snapshot.class_name
    return [content, volume_snapshot]


def newest_backup(listing: dict, schedule: str) -> str:
    """The newest Completed backup a Velero schedule made."""
    done = [
        item
        for item in listing.get("items", [])
        if (item["metadata"].get("labels") or {}).get(SCHEDULE_LABEL) == schedule
        and (item.get("status") or {}).get("phase") == "Completed"
    ]
    if not done:
        raise RestoreError(f"no completed backup of schedule {schedule}")
    newest = max(
        done,
        key=lambda b: (b["status"].get("completionTimestamp", ""), b["metadata"]["name"]),
    )
    return newest["metadata"]["name"]


def velero_restore(
    *,
    name: str,
    velero_namespace: str,
    namespace: str,
    backup: str | None,
    schedule: str,
    into: str | None = None,
) -> dict:
    """A Velero Restore of one namespace, from a named backup or (none given) from the newest
    successful backup of the schedule, which Velero picks itself (``spec.scheduleName``)."""
    spec: dict = {
        "includedNamespaces": [namespace],
        "restorePVs": True,
        # Never overwrite what still exists: a restore adds what is missing.
        "existingResourcePolicy": "none",
    }
    if backup:
        spec["backupName"] = backup
    else:
        spec["scheduleName"] = schedule
    if into and into != namespace:
        spec["namespaceMapping"] = {namespace: into}
    return {
        "apiVersion": VELERO_API,
        "kind": "Restore",
        "metadata": {"name": _dns(name), "namespace": velero_namespace},
        "spec": spec,
    }
