"""Storage: the EFS file system, the StorageClass catalog, snapshot schedules, CSI add-ons."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator

from config.schedules import CronSchedule
from config.schema.base import DNS_LABEL, DnsLabel, Model
from design import snapshots as snapshot_design
from design.images import image_pin_problem

ReclaimPolicy = Literal["Retain", "Delete"]


class Efs(Model):
    """The stack's EFS file system (one per stack; every EFS class provisions on it)."""

    enabled: bool = True
    performance_mode: Literal["generalPurpose", "maxIO"] = "generalPurpose"
    throughput_mode: Literal["bursting", "elastic", "provisioned"] = "elastic"
    provisioned_throughput_mibps: int | None = Field(default=None, ge=1, le=10240)
    transition_to_ia_days: Literal[1, 7, 14, 30, 60, 90, 180, 270, 365] | None = 30
    backup: bool = False


class Protection(Model):
    """What protects every PVC on a class, by construction (selected by storage class): snapshot
    policies (in-cluster generations) and a Velero schedule (off-cluster). In production a class
    with neither records why."""

    snapshot_policies: list[DnsLabel] = Field(default_factory=list)
    backup_schedule: DnsLabel | None = None
    reason: Annotated[str, Field(min_length=10, max_length=300)] | None = None


class StorageClass(Model):
    """One entry of the StorageClass catalog; its name is derived (design.storage)."""

    backing: Literal["gp3", "io2", "st1", "sc1", "efs"]
    access: Literal["rwo", "rwx"]
    tier: Annotated[str, Field(pattern=DNS_LABEL, max_length=12)] | None = None
    default: bool = False
    reclaim_policy: ReclaimPolicy | None = None
    # EBS
    fs_type: Literal["ext4", "xfs"] = "ext4"
    iops: int | None = Field(default=None, ge=1)
    throughput_mibps: int | None = Field(default=None, ge=1)
    block_express: bool = False
    # EFS
    directory_perms: Annotated[str, Field(pattern=r"^[0-7]{3}$")] = "700"
    gid_range_start: int = Field(default=50000, ge=1, le=2147483647)
    gid_range_end: int = Field(default=7000000, ge=1, le=2147483647)
    base_path: Annotated[str, Field(pattern=r"^/[A-Za-z0-9_./-]*$")] = "/dynamic"
    protection: Protection = Protection()


class RetiredClass(StorageClass):
    """A class the catalog no longer offers but PVCs may still name, kept as it was.

    Renaming a class (its tier, the EFS throughput mode, the environment) or dropping it would
    delete a StorageClass that bound PVCs still name: they could no longer be expanded ("the
    storageclass that provisions the pvc must support resize", kubernetes/kubernetes
    plugin/pkg/admission/storage/persistentvolume/resize/admission.go) and StatefulSets could not
    replace their claims. A retired class keeps its old name and settings, is never the default
    and admits no new claims, until its last PV is gone (docs/changing-a-live-stack.md: retire a
    class).
    """

    name: Annotated[str, Field(pattern=DNS_LABEL, max_length=63)]
    default: Literal[False] = False


class Storage(Model):
    reclaim_policy: ReclaimPolicy = "Delete"
    demote_gp2: bool = True
    efs: Efs = Efs()
    classes: Annotated[list[StorageClass], Field(min_length=1)] = Field(
        default_factory=lambda: [StorageClass(backing="gp3", access="rwo", default=True)]
    )
    retired_classes: list[RetiredClass] = Field(default_factory=list)


class SnapshotPolicy(Model):
    """A schedule and a generation limit: PVCs labelled with the policy name are snapshotted
    on the schedule and only the newest ``keep`` snapshots of each are kept; with ``max_age``,
    older generations go too, except each PVC's newest ready one."""

    name: Annotated[str, Field(pattern=DNS_LABEL, max_length=30)]
    schedule: CronSchedule
    keep: int = Field(ge=1, le=1000)
    max_age: str | None = None
    ready_timeout_seconds: int = Field(default=600, ge=30, le=3600)

    @field_validator("max_age")
    @classmethod
    def _age(cls, value: str | None) -> str | None:
        if value is not None:
            snapshot_design.max_age_seconds(value)
        return value

    @property
    def max_age_seconds(self) -> int | None:
        return None if self.max_age is None else snapshot_design.max_age_seconds(self.max_age)


class Snapshots(Model):
    deletion_policy: ReclaimPolicy = "Delete"
    namespace: DnsLabel = "storage-snapshots"
    job_image: Annotated[
        str,
        Field(
            pattern=r"^[a-z0-9.-]+(:[0-9]+)?(/[a-z0-9._-]+)+(:[A-Za-z0-9._-]+)?(@sha256:[0-9a-f]{64})?$"
        ),
    ] = "docker.io/alpine/k8s:1.34.1"
    policies: list[SnapshotPolicy] = Field(default_factory=list)

    @field_validator("job_image")
    @classmethod
    def _pinned(cls, value: str) -> str:
        if problem := image_pin_problem(value, production=False):
            raise ValueError(problem)
        return value


AddonVersion = Annotated[str, Field(pattern=r"^v\d+\.\d+\.\d+-eksbuild\.\d+$")]


class Addons(Model):
    """EKS add-on versions; unset means the newest version for the cluster's Kubernetes."""

    vpc_cni: AddonVersion | None = None
    kube_proxy: AddonVersion | None = None
    coredns: AddonVersion | None = None
    ebs_csi_driver: AddonVersion | None = None
    efs_csi_driver: AddonVersion | None = None
    snapshot_controller: AddonVersion | None = None
