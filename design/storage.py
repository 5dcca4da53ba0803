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

EBS_PROVISIONER = "ebs.csi.aws.com"
EFS_PROVISIONER = "efs.csi.aws.com"
DEFAULT_CLASS_ANNOTATION = "storageclass.kubernetes.io/is-default-class"
DEFAULT_SNAPSHOT_CLASS_ANNOTATION = "snapshot.storage.kubernetes.io/is-default-class"
EFS_MOUNT_OPTIONS = ["tls", "iam"]
EFS_CLUSTER_TAG = "efs.csi.aws.com/cluster"
RETIRED_LABEL = "storage.eks-config-storage.io/retired"

# Drivers that can grow a volume. The EFS CSI controller advertises only CREATE_DELETE_VOLUME
# (kubernetes-sigs/aws-efs-csi-driver@v3.4.1:pkg/driver/controller.go, controllerCaps; #668):
# an EFS PVC's size is nominal, a resize would be accepted and never carried out.
EXPANDABLE = frozenset({EBS_PROVISIONER})

EBS_MEDIA = {"gp3": "ssd", "io2": "ssd", "st1": "hdd", "sc1": "hdd"}
EFS_THROUGHPUT_LABELS = {"bursting": "burst", "elastic": "elastic", "provisioned": "prov"}
ACCESS_MODES = {"rwo": "ReadWriteOnce", "rwx": "ReadWriteMany"}

# Per-volume IOPS limits (AWS EBS volume types, 2025: gp3 up to 80,000 IOPS and 2,000 MiB/s).
GP3_IOPS = (3000, 80000)
GP3_THROUGHPUT_MIBPS = (125, 2000)
GP3_MIBPS_PER_IOPS = 0.25
# All io2 volumes are Block Express now, up to 256,000 IOPS; the driver ignores its old
# blockExpress parameter (kubernetes-sigs/aws-ebs-csi-driver@v1.48.0:pkg/driver/constants.go,
# DeprecatedBlockExpressKey: "now deprecated as all io2 volumes now support up to 256,000 IOPS").
IO2_IOPS = (100, 256000)

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
    if spec.backing == "efs":
        if spec.access != "rwx":
            raise ValueError("EFS classes are ReadWriteMany (rwx)")
        if spec.efs_throughput_mode not in EFS_THROUGHPUT_LABELS:
            raise ValueError(f"unknown EFS throughput mode {spec.efs_throughput_mode!r}")
        media = EFS_THROUGHPUT_LABELS[spec.efs_throughput_mode]
    elif spec.backing in EBS_MEDIA:
        if spec.access != "rwo":
            raise ValueError("EBS classes are ReadWriteOnce (rwo): a volume lives in one zone")
        media = EBS_MEDIA[spec.backing]
    else:
        raise ValueError(f"unknown backing {spec.backing!r}")
    parts = [spec.backing, media, spec.tier, spec.environment, spec.access]
    return "-".join(p for p in parts if p)


def name_problem(name: str) -> str | None:
    """Why ``name`` cannot be a StorageClass name of this catalog, or None."""
    if len(name) > NAME_MAX:
        return f"{name!r} is longer than {NAME_MAX} characters"
    if not _DNS_1123_LABEL.match(name):
        return f"{name!r} is not a DNS-1123 label"
    return None


def ebs_parameters(
    *,
    backing: str,
    key_arn: str,
    fs_type: str,
    iops: int | None = None,
    throughput_mibps: int | None = None,
) -> dict[str, str]:
    """EBS CSI StorageClass parameters; values are strings, as the API requires."""
    params = {
        "type": backing,
        "encrypted": "true",
        "kmsKeyId": key_arn,
        "csi.storage.k8s.io/fstype": fs_type,
    }
    if iops is not None:
        params["iops"] = str(iops)
    if throughput_mibps is not None:
        params["throughput"] = str(throughput_mibps)
    return params


def efs_parameters(
    *, file_system_id: str, directory_perms: str, gid_range: tuple[int, int], base_path: str
) -> dict[str, str]:
    """EFS CSI dynamic provisioning: one access point per volume on the stack's file system."""
    return {
        "provisioningMode": "efs-ap",
        "fileSystemId": file_system_id,
        "directoryPerms": directory_perms,
        "gidRangeStart": str(gid_range[0]),
        "gidRangeEnd": str(gid_range[1]),
        "basePath": base_path,
    }


def ebs_iops_problem(backing: str, iops: int | None, throughput_mibps: int | None) -> str | None:
    """Why these performance settings are impossible for the volume type, or None."""
    if backing == "gp3":
        return _gp3_problem(iops, throughput_mibps)
    if backing == "io2":
        return _io2_problem(iops)
    if iops is not None or throughput_mibps is not None:
        return f"{backing} volumes take no iops/throughput settings"
    return None


def _gp3_problem(iops: int | None, throughput_mibps: int | None) -> str | None:
    if iops is not None and not GP3_IOPS[0] <= iops <= GP3_IOPS[1]:
        return f"gp3 iops must be {GP3_IOPS[0]}..{GP3_IOPS[1]}, got {iops}"
    if throughput_mibps is None:
        return None
    low, high = GP3_THROUGHPUT_MIBPS
    if not low <= throughput_mibps <= high:
        return f"gp3 throughput must be {low}..{high} MiB/s, got {throughput_mibps}"
    effective_iops = iops if iops is not None else GP3_IOPS[0]
    if throughput_mibps > effective_iops * GP3_MIBPS_PER_IOPS:
        needed = int(throughput_mibps / GP3_MIBPS_PER_IOPS)
        return f"gp3 throughput {throughput_mibps} MiB/s needs at least {needed} iops"
    return None


def _io2_problem(iops: int | None) -> str | None:
    if iops is None:
        return "io2 needs iops (provisioned IOPS is what io2 is for)"
    low, high = IO2_IOPS
    if not low <= iops <= high:
        return f"io2 iops must be {low}..{high}, got {iops}"
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
    driver can expand (``EXPANDABLE``)."""
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
        "allowVolumeExpansion": provisioner in EXPANDABLE,
    }
    if mount_options:
        obj["mountOptions"] = mount_options
    return obj


def snapshot_class_name(deletion_policy: str, environment: str) -> str:
    """``ebs-retain-prod``: what is snapshotted and whether snapshots outlive their objects."""
    return f"ebs-{deletion_policy.lower()}-{environment}"


def volume_snapshot_class_object(*, name: str, deletion_policy: str, labels: dict) -> dict:
    return {
        "apiVersion": "snapshot.storage.k8s.io/v1",
        "kind": "VolumeSnapshotClass",
        "metadata": {
            "name": name,
            "labels": labels,
            "annotations": {DEFAULT_SNAPSHOT_CLASS_ANNOTATION: "true"},
        },
        "driver": EBS_PROVISIONER,
        "deletionPolicy": deletion_policy,
    }


# EFS access points: one per dynamically provisioned PV, kept with a Retained PV. EFS allows
# 10,000 per file system ("A file system can have a maximum of 10,000 access points",
# docs.aws.amazon.com/efs/latest/ug/create-access-point.html); the driver stopped at 1,000 before
# v3.2.0 (kubernetes-sigs/aws-efs-csi-driver#1780; v3.4.1:pkg/driver/controller.go
# AccessPointPerFsLimit), and each takes one GID of the class's range.
EFS_ACCESS_POINT_QUOTA = 10000
EFS_DRIVER_LIMIT_BEFORE_3_2 = 1000


def efs_access_point_limit(driver_version: str, gid_range: tuple[int, int]) -> int:
    """How many volumes (live or retained) an EFS class can hold on its file system."""
    numbers = driver_version.removeprefix("v").split("-")[0].split(".")
    major, minor = (int(numbers[0]), int(numbers[1])) if len(numbers) >= 2 else (0, 0)
    driver = EFS_ACCESS_POINT_QUOTA if (major, minor) >= (3, 2) else EFS_DRIVER_LIMIT_BEFORE_3_2
    return min(driver, EFS_ACCESS_POINT_QUOTA, gid_range[1] - gid_range[0] + 1)
