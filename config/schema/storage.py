"""Storage: each backend's settings and class entries (each defined by its backend module), the
StorageClass catalog, snapshot schedules, CSI add-ons."""

from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import Field, TypeAdapter, create_model, field_validator

from config.schedules import CronSchedule
from config.schema.base import DNS_LABEL, DnsLabel, Model
from design import snapshots as snapshot_design
from design.images import image_pin_problem
from design.storage.registry import REGISTRY

ReclaimPolicy = Literal["Retain", "Delete"]


class Protection(Model):
    """What protects every PVC on a class, by construction (selected by storage class): snapshot
    policies (in-cluster generations) and a Velero schedule (off-cluster). In production a class
    with neither records why."""

    snapshot_policies: list[DnsLabel] = Field(default_factory=list)
    """Snapshot policies that cover every PVC on the class (its name reaches each policy's job as
    `CLASSES`, besides the label opt-in). EBS only."""
    backup_schedule: DnsLabel | None = None
    """The Velero schedule whose backups snapshot every volume on the class (off-cluster copy). EBS
    only."""
    reason: Annotated[str, Field(min_length=10, max_length=300)] | None = None
    """Why the class is not protected; in production a class with neither protection nor reason
    fails the plan."""


class ClassEntry(Model):
    """What every entry of the StorageClass catalog takes, whatever its backend; each backend
    adds its ``backing`` values and its own settings (``Backend.class_fields``)."""

    backing: str
    """Volume type, or EFS."""
    access: Literal["rwo", "rwx"]
    """EBS is `rwo` (one zone), EFS is `rwx`."""
    tier: Annotated[str, Field(pattern=DNS_LABEL, max_length=12)] | None = None
    """Optional qualifier in the name when two classes share a backing (`io2-ssd-db-prod-rwo`)."""
    default: bool = False
    """Exactly one class is the default."""
    reclaim_policy: ReclaimPolicy | None = None
    """Per-class override of `storage.reclaimPolicy` (never `Delete` in production)."""


class ClassProtection(Model):
    """The last key of every entry, after the backend's own settings."""

    protection: Protection = Protection()
    """What protects every PVC on the class."""


class RetiredEntry(ClassEntry):
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
    """The class's existing name."""
    default: Literal[False] = False
    """A retired class is never the default."""


def _entries(base: type[Model], prefix: str) -> tuple[type[Model], ...]:
    """One model per backend. Fields keep the order of the bases from last to first: the common
    head, the backend's part (its ``backing`` Literal, the union's tag, replaces the head's
    ``str`` in place), the protection."""
    return tuple(
        type(
            f"{prefix}{b.label.title()}Class",
            (ClassProtection, b.class_fields, base),
            {"__doc__": base.__doc__},
        )
        for b in REGISTRY
        if b.class_fields is not None
    )


CLASS_ENTRIES = _entries(ClassEntry, "")
RETIRED_ENTRIES = _entries(RetiredEntry, "Retired")
# Keyed on ``backing``: an entry is validated by its backend's model alone, so a setting of
# another backend is an unknown key there (config.messages names the backends that take it).
StorageClass = Annotated[Union[CLASS_ENTRIES], Field(discriminator="backing")]  # type: ignore[valid-type]  # noqa: UP007
RetiredClass = Annotated[Union[RETIRED_ENTRIES], Field(discriminator="backing")]  # type: ignore[valid-type]  # noqa: UP007
_STORAGE_CLASS: TypeAdapter = TypeAdapter(StorageClass)


class _StorageHead(Model):
    reclaim_policy: ReclaimPolicy = "Delete"
    """Reclaim policy of every class (production: `Retain`)."""
    demote_gp2: bool = True
    """Mark EKS's own `gp2` class not-default (it was the default before 1.30)."""


# Each backend's stack-level settings (EFS: ``storage.efs``, the file system), by its key.
_BackendSettings = create_model(
    "_BackendSettings",
    __base__=Model,
    **{
        key: (model, Field(default_factory=model, description=model.__doc__))
        for key, model in (b.settings for b in REGISTRY if b.settings is not None)
    },
)


class _StorageTail(Model):
    classes: Annotated[list[StorageClass], Field(min_length=1)] = Field(
        default_factory=lambda: [
            _STORAGE_CLASS.validate_python({"backing": "gp3", "access": "rwo", "default": True})
        ]
    )
    """The StorageClass catalog; each entry:"""
    retired_classes: list[RetiredClass] = Field(default_factory=list)
    """Classes no longer offered but still named by PVCs: each entry is a `storage.classes[]` entry
    as it was, plus its name. Kept unchanged, never the default, no new claims
    ([changing-a-live-stack.md](changing-a-live-stack.md#retire-a-class)). Each entry:"""


# Keys in order: the head, each backend's settings, the catalog (bases merge right to left).
class Storage(_StorageTail, _BackendSettings, _StorageHead):  # type: ignore[misc,valid-type]
    pass


class SnapshotPolicy(Model):
    """A schedule and a generation limit: PVCs labelled with the policy name are snapshotted
    on the schedule and only the newest ``keep`` snapshots of each are kept; with ``max_age``,
    older generations go too, except each PVC's newest ready one."""

    name: Annotated[str, Field(pattern=DNS_LABEL, max_length=30)]
    """PVCs labelled `snapshots.eks-config-storage.io/policy=<name>` are covered."""
    schedule: CronSchedule
    """Cron schedule in UTC, as Kubernetes reads it: five fields (minute 0-59, hour 0-23, day of
    month 1-31, month 1-12 or `JAN`-`DEC`, day of week 0-6 or `SUN`-`SAT`; `7` is refused by
    Kubernetes' parser) with `*`, `?`, ranges, steps and lists, or `@yearly`, `@annually`,
    `@monthly`, `@weekly`, `@daily`, `@midnight`, `@hourly`. Refused: a seconds field, `L`, `W`,
    `#`, `CRON_TZ=`/`TZ=` (the CronJob's `timeZone` is `Etc/UTC`), `@every` (Kubernetes accepts
    it but counts from the CronJob's creation, not the clock), a step that keeps one value
    (`*/60`), a day no listed month has (`0 0 30 2 *`)."""
    keep: int = Field(ge=1, le=1000)
    """Generations kept per PVC. No default: there is no "keep forever"."""
    max_age: str | None = None
    """Also prune generations older than this (`36h`, `14d`, `8w`: whole hours, days or weeks, up to
    `3650d`), even below `keep`; each PVC's newest ready generation always stays. At least the
    longest gap between the schedule's runs (shorter would keep only the newest, whatever `keep`
    says)."""
    ready_timeout_seconds: int = Field(default=600, ge=30, le=3600)
    """How long a new snapshot may take to become ready before the run fails."""

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
    """Of the default VolumeSnapshotClass (production: `Retain`); the reconciler brings existing
    contents to it."""
    namespace: DnsLabel = "storage-snapshots"
    """Namespace of the snapshot jobs and of the storage policy reconciler (created in every
    stack)."""
    job_image: Annotated[
        str,
        Field(
            pattern=r"^[a-z0-9.-]+(:[0-9]+)?(/[a-z0-9._-]+)+(:[A-Za-z0-9._-]+)?(@sha256:[0-9a-f]{64})?$"
        ),
    ] = "docker.io/alpine/k8s:1.34.1"
    """Image with `sh` and `kubectl` of the snapshot jobs, the reconciler and the restore drills
    (their check pods too); pinned by tag or digest, never `latest`; production needs a digest
    (`name:tag@sha256:...`, e.g. from `crane digest` or `docker buildx imagetools inspect`)."""
    policies: list[SnapshotPolicy] = Field(default_factory=list)
    """Snapshot schedules; each entry:"""

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
    """`vpc-cni` add-on version, e.g. `v1.20.4-eksbuild.1`."""
    kube_proxy: AddonVersion | None = None
    """`kube-proxy` add-on version."""
    coredns: AddonVersion | None = None
    """`coredns` add-on version."""
    ebs_csi_driver: AddonVersion | None = None
    """`aws-ebs-csi-driver` add-on version, e.g. `v1.48.0-eksbuild.1`."""
    efs_csi_driver: AddonVersion | None = None
    """`aws-efs-csi-driver` add-on version."""
    snapshot_controller: AddonVersion | None = None
    """`snapshot-controller` add-on version."""
    pod_identity_agent: AddonVersion | None = None
    """`eks-pod-identity-agent` add-on version. The agent is installed when a workload uses Pod
    Identity, or when this is set: the first step of a move ([identity.md](identity.md))."""
