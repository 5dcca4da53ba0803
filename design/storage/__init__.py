"""StorageClass catalog logic: SLA names (rule R5) and CSI parameters, as plain functions.

A class name reads ``<backing>-<media or throughput mode>[-<tier>]-<environment>-<access>``:

    gp3-ssd-prod-rwo      gp3 EBS (SSD), production, ReadWriteOnce
    io2-ssd-db-prod-rwo   io2 EBS (SSD), tier "db", production
    st1-hdd-dev-rwo       throughput-optimised HDD
    efs-burst-dev-rwx     EFS in bursting throughput mode, dev, ReadWriteMany

so an operator sees speed, redundancy and sharing at a glance, the way a DBA reads a tablespace
name. The optional tier tells two classes of the same backing apart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from design.storage import ebs, efs
from design.storage.backend import Backend
from design.storage.registry import SNAPSHOTTER, by_provisioner, for_backing

DEFAULT_CLASS_ANNOTATION = "storageclass.kubernetes.io/is-default-class"
DEFAULT_SNAPSHOT_CLASS_ANNOTATION = "snapshot.storage.kubernetes.io/is-default-class"
RETIRED_LABEL = "storage.eks-config-storage.io/retired"
ACCESS_MODES = {"rwo": "ReadWriteOnce", "rwx": "ReadWriteMany"}

# Each backend's own vocabulary, under the names callers knew before backends had modules.
EBS_MEDIA = ebs.MEDIA
EFS_THROUGHPUT_LABELS = efs.THROUGHPUT_LABELS
efs_access_point_limit = efs.access_point_limit

NAME_MAX = 63
_DNS_1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


@dataclass(frozen=True)
class ClassSpec:
    """What a class name is made of; see the module docstring for the format."""

    backing: str
    access: str
    environment: str
    efs_throughput_mode: str | None = None
    tier: str | None = None


def storage_class_name(spec: ClassSpec) -> str:
    """The class's SLA name. Raises ValueError for a backing/access pair that cannot exist."""
    backend = for_backing(spec.backing)
    if backend is None:
        raise ValueError(f"unknown backing {spec.backing!r}")
    if spec.access != backend.access:
        raise ValueError(access_problem(backend) + backend.access_reason)
    parts = [spec.backing, backend.media(spec), spec.tier, spec.environment, spec.access]
    return "-".join(p for p in parts if p)


def access_problem(backend: Backend) -> str:
    mode = ACCESS_MODES[backend.access]
    return f"{backend.label} classes are {mode} ({backend.access})"


def name_problem(name: str) -> str | None:
    """Why ``name`` cannot be a StorageClass name of this catalog, or None."""
    if len(name) > NAME_MAX:
        return f"{name!r} is longer than {NAME_MAX} characters"
    if not _DNS_1123_LABEL.match(name):
        return f"{name!r} is not a DNS-1123 label"
    return None


PROTECTION = "protection.eks-config-storage.io"


def protection_annotations(
    *,
    snapshot_policies: list[str],
    backup_schedule: str | None,
    aws_backup: bool,
    reason: str | None,
) -> dict[str, str]:
    """What protects the class's volumes, readable on the class itself (``kubectl describe
    storageclass``) and by the rules: snapshot policies, a Velero schedule, AWS Backup (EFS),
    or the recorded reason for none."""
    found = {}
    if snapshot_policies:
        found[f"{PROTECTION}/snapshot-policies"] = ",".join(snapshot_policies)
    if backup_schedule:
        found[f"{PROTECTION}/backup-schedule"] = backup_schedule
    if aws_backup:
        found[f"{PROTECTION}/aws-backup"] = "true"
    if reason:
        found[f"{PROTECTION}/unprotected-reason"] = reason
    return found


def storage_class_object(
    *,
    name: str,
    provisioner: str,
    parameters: dict[str, str],
    reclaim_policy: str,
    default: bool,
    labels: dict[str, str],
    mount_options: list[str] | None = None,
    annotations: dict[str, str] | None = None,
) -> dict:
    """The StorageClass every catalog entry becomes: late binding (R4), expandable (R6) where the
    driver can expand (its backend's ``expandable``)."""
    metadata: dict = {"name": name, "labels": labels}
    merged = {**(annotations or {}), **({DEFAULT_CLASS_ANNOTATION: "true"} if default else {})}
    if merged:
        metadata["annotations"] = merged
    obj = {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": metadata,
        "provisioner": provisioner,
        "parameters": parameters,
        "reclaimPolicy": reclaim_policy,
        # AZ-bound volumes must be created where the pod lands, or the pod stays Pending.
        "volumeBindingMode": "WaitForFirstConsumer",
        "allowVolumeExpansion": expandable(provisioner),
    }
    if mount_options:
        obj["mountOptions"] = mount_options
    return obj


def expandable(provisioner: str) -> bool:
    backend = by_provisioner(provisioner)
    return backend is not None and backend.expandable


def snapshot_class_name(deletion_policy: str, environment: str) -> str:
    """``ebs-retain-prod``: what is snapshotted and whether snapshots outlive their objects."""
    return f"{SNAPSHOTTER.name}-{deletion_policy.lower()}-{environment}"


def volume_snapshot_class_object(*, name: str, deletion_policy: str, labels: dict) -> dict:
    return {
        "apiVersion": "snapshot.storage.k8s.io/v1",
        "kind": "VolumeSnapshotClass",
        "metadata": {
            "name": name,
            "labels": labels,
            "annotations": {DEFAULT_SNAPSHOT_CLASS_ANNOTATION: "true"},
        },
        "driver": SNAPSHOTTER.provisioner,
        "deletionPolicy": deletion_policy,
    }
