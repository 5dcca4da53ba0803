"""EFS: one file system per stack, one access point per volume, shared across zones (rwx)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Annotated, Any, Literal

from pydantic import Field

from design.storage.backend import Backend, Finding, SchemaPart
from design.type_facts import TypeFacts

PROVISIONER = "efs.csi.aws.com"
THROUGHPUT_LABELS = {"bursting": "burst", "elastic": "elastic", "provisioned": "prov"}
MOUNT_OPTIONS = ["tls", "iam"]
CLUSTER_TAG = "efs.csi.aws.com/cluster"
# The managed EFS add-on associates only its controller's account: the node's
# (efs-csi-node-sa), which the `iam` mount option authenticates as, gets a standalone association
# (kubernetes-sigs/aws-efs-csi-driver#1759, open: "one can manually add a pod identity
# association for the node component service account").
ADDON_ACCOUNTS = ["efs-csi-controller-sa"]

# EFS access points: one per dynamically provisioned PV, kept with a Retained PV. EFS allows
# 10,000 per file system ("A file system can have a maximum of 10,000 access points",
# docs.aws.amazon.com/efs/latest/ug/create-access-point.html); the driver stopped at 1,000 before
# v3.2.0 (kubernetes-sigs/aws-efs-csi-driver#1780; v3.4.1:pkg/driver/controller.go
# AccessPointPerFsLimit), and each takes one GID of the class's range.
ACCESS_POINT_QUOTA = 10000
DRIVER_LIMIT_BEFORE_3_2 = 1000


def parameters(
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


def access_point_limit(driver_version: str, gid_range: tuple[int, int]) -> int:
    """How many volumes (live or retained) an EFS class can hold on its file system."""
    numbers = driver_version.removeprefix("v").split("-")[0].split(".")
    major, minor = (int(numbers[0]), int(numbers[1])) if len(numbers) >= 2 else (0, 0)
    driver = ACCESS_POINT_QUOTA if (major, minor) >= (3, 2) else DRIVER_LIMIT_BEFORE_3_2
    return min(driver, ACCESS_POINT_QUOTA, gid_range[1] - gid_range[0] + 1)


class FileSystem(SchemaPart):
    """The stack's EFS file system (one per stack; every EFS class provisions on it)."""

    enabled: bool = True
    """Create the EFS file system, its mount targets and the EFS CSI driver."""
    performance_mode: Literal["generalPurpose", "maxIO"] = "generalPurpose"
    """EFS performance mode (replaces the file system when changed)."""
    throughput_mode: Literal["bursting", "elastic", "provisioned"] = "elastic"
    """EFS throughput mode; shown in EFS class names."""
    provisioned_throughput_mibps: int | None = Field(default=None, ge=1, le=10240)
    """MiB/s; required with `provisioned`, refused otherwise."""
    transition_to_ia_days: Literal[1, 7, 14, 30, 60, 90, 180, 270, 365] | None = 30
    """Move files not read for this many days to Infrequent Access."""
    backup: bool = False
    """AWS Backup policy of the file system (production: `true`)."""


class ClassFields(SchemaPart):
    """An EFS class's own settings: its access points on the stack's file system."""

    backing: Literal["efs"]
    """Volume type, or EFS."""
    directory_perms: Annotated[str, Field(pattern=r"^[0-7]{3}$")] = "700"
    """EFS only: permissions of each access point's directory."""
    gid_range_start: int = Field(default=50000, ge=1, le=2147483647)
    """EFS only: first POSIX group ID given to access points."""
    gid_range_end: int = Field(default=7000000, ge=1, le=2147483647)
    """EFS only: last POSIX group ID given to access points."""
    base_path: Annotated[str, Field(pattern=r"^/[A-Za-z0-9_./-]*$")] = "/dynamic"
    """EFS only: where access point directories are created."""


def _media(spec: Any) -> str:
    if spec.efs_throughput_mode not in THROUGHPUT_LABELS:
        raise ValueError(f"unknown EFS throughput mode {spec.efs_throughput_mode!r}")
    return THROUGHPUT_LABELS[spec.efs_throughput_mode]


def _class_problems(cls: Any) -> Iterator[Finding]:
    if cls.gid_range_start >= cls.gid_range_end:
        yield "gidRangeStart", "must be below gidRangeEnd"


def _stack_problems(cfg: Any) -> Iterator[Finding]:
    efs = cfg.storage.efs
    provisioned = efs.throughput_mode == "provisioned"
    if provisioned and efs.provisioned_throughput_mibps is None:
        yield "storage.efs.provisionedThroughputMibps", "required in provisioned throughput mode"
    if not provisioned and efs.provisioned_throughput_mibps is not None:
        yield "storage.efs.provisionedThroughputMibps", "only used in provisioned throughput mode"


def _production_problems(cfg: Any) -> Iterator[Finding]:
    if cfg.storage.efs.enabled and not cfg.storage.efs.backup:
        yield "storage.efs.backup", "production file systems are backed up"


def _encryption(_params: Mapping[str, Any], mount_options: list) -> Iterator[str]:
    missing = set(MOUNT_OPTIONS) - set(mount_options)
    if missing:
        yield f"EFS classes must mount with {sorted(missing)}"


BACKEND = Backend(
    name="efs",
    label="EFS",
    backings=("efs",),
    provisioner=PROVISIONER,
    access="rwx",
    access_reason="",
    # The EFS CSI controller advertises only CREATE_DELETE_VOLUME
    # (kubernetes-sigs/aws-efs-csi-driver@v3.4.1:pkg/driver/controller.go, controllerCaps; #668):
    # an EFS PVC's size is nominal, a resize would be accepted and never carried out.
    expandable=False,
    zonal=False,
    parameter_input="file_system_id",
    needs="the stack's EFS file system and driver",
    media=_media,
    parameters=lambda spec, file_system_id: parameters(
        file_system_id=file_system_id,
        directory_perms=spec.directory_perms,
        gid_range=(spec.gid_range_start, spec.gid_range_end),
        base_path=spec.base_path,
    ),
    name_candidates=lambda _params: [("efs", "rwx", mode) for mode in THROUGHPUT_LABELS],
    encryption_problems=_encryption,
    class_problems=_class_problems,
    class_fields=ClassFields,
    settings=("efs", FileSystem),
    mount_options=tuple(MOUNT_OPTIONS),
    unsnapshottable=(
        "EFS volumes cannot be snapshotted (the EFS CSI driver has no snapshots): "
        "the file system's AWS Backup (storage.efs.backup) protects them"
    ),
    file_system_backup=True,
    requires=lambda cfg: (
        None if cfg.storage.efs.enabled else "an EFS class needs storage.efs.enabled"
    ),
    stack_problems=_stack_problems,
    production_problems=_production_problems,
    volume_limit=lambda driver, params: access_point_limit(
        driver, (int(params["gidRangeStart"]), int(params["gidRangeEnd"]))
    ),
    addon="aws-efs-csi-driver",
    addon_version=lambda versions: versions.efs_csi_driver,
    addon_accounts=tuple(ADDON_ACCOUNTS),
    infrastructure="components.efs",
    # The file system and its data path: without mount targets its data is unreachable, without
    # the backup policy unprotected. Mount targets always go first (tools.transitions.semantics).
    resource_types={
        "aws:efs/backupPolicy:BackupPolicy": TypeFacts(
            force_new=frozenset({"fileSystemId"}),
            protected=True,
            loses_data=True,
        ),
        "aws:efs/fileSystem:FileSystem": TypeFacts(
            force_new=frozenset(
                {
                    "availabilityZoneName",
                    "creationToken",
                    "encrypted",
                    "kmsKeyId",
                    "performanceMode",
                }
            ),
            autonamed="creationToken",
            protected=True,
            loses_data=True,
        ),
        "aws:efs/fileSystemPolicy:FileSystemPolicy": TypeFacts(
            force_new=frozenset({"fileSystemId"}),
            document=("policy", "file-system-policy"),
        ),
        "aws:efs/mountTarget:MountTarget": TypeFacts(
            force_new=frozenset({"fileSystemId", "ipAddress", "subnetId"}),
            delete_first=True,
            protected=True,
            loses_data=True,
        ),
    },
)
