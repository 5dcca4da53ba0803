"""The StorageClass catalog, the default VolumeSnapshotClass, and the demotion of EKS's gp2.

Each class waits only for its own CSI driver (and, through the provider, the API server), so
classes, drivers and everything else roll out in parallel.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components.k8s_object import KubernetesObject
from components.platform import Platform
from config.catalog import CatalogEntry
from design import storage as sc
from design.labels import MANAGED_BY
from design.storage.registry import SNAPSHOTTER, for_backing

# Kubernetes refuses updates to these (StorageClass validation: "Forbidden: updates to
# parameters are forbidden", kubernetes/kubernetes pkg/apis/storage/validation), and
# pulumi-kubernetes replaces only on parameters and provisioner (provider/pkg/provider/diff.go);
# with the name fixed, the old class must go first or the new one collides
# (pulumi/pulumi-kubernetes#3767). PVs keep what they were provisioned with either way.
CLASS_IMMUTABLE = ["parameters", "provisioner", "reclaimPolicy", "volumeBindingMode"]
SNAPSHOT_CLASS_IMMUTABLE = ["driver", "parameters", "deletionPolicy"]


@dataclass(frozen=True)
class StorageClassesArgs:
    platform: Platform
    file_systems: Mapping[str, pulumi.Input[str] | None]
    """The stack's file systems by the backend input that names them (``file_system_id``)."""
    drivers: Mapping[str, pulumi.Resource | None]
    """Each backend's CSI driver add-on, by backend name (None: not installed)."""
    snapshot_controller: pulumi.Resource
    snapshot_deletion_policy: str
    demote_gp2: bool
    # The file system's AWS Backup: what protects the volumes of a file-system backend (EFS has
    # no CSI snapshots).
    file_system_backup: bool = False


class StorageClasses(pulumi.ComponentResource):
    snapshot_class_name: pulumi.Output[str]
    classes: dict[str, k8s.storage.v1.StorageClass]
    reclaim_policies: dict[str, str]
    """Every class, retired ones included, with the reclaimPolicy it provisions PVs with."""
    snapshot_class_names: list[str]
    """Every VolumeSnapshotClass name the stack can have made contents with: the name carries
    the deletion policy, so a change of policy renames the class."""

    def __init__(
        self, name: str, args: StorageClassesArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("eks-config-storage:storage:StorageClasses", name, None, opts)
        self.classes = {}
        self.retired = {}
        self.by_backend: dict[str, list[k8s.storage.v1.StorageClass]] = {}
        """Every class by backend name, retired ones included: what a file system serves."""
        for entry in args.platform.catalog.entries:
            made = self._storage_class(name, entry, args)
            (self.retired if entry.retired else self.classes)[entry.name] = made
            self.by_backend.setdefault(for_backing(entry.spec.backing).name, []).append(made)
        self.reclaim_policies = dict(args.platform.catalog.reclaim_policies)
        self.snapshot_class_names = [
            sc.snapshot_class_name(policy, args.platform.environment)
            for policy in ("Retain", "Delete")
        ]

        snapshot_class = sc.snapshot_class_name(
            args.snapshot_deletion_policy, args.platform.environment
        )
        volume_snapshot_class = KubernetesObject(
            f"{name}-{snapshot_class}",
            sc.volume_snapshot_class_object(
                name=snapshot_class,
                deletion_policy=args.snapshot_deletion_policy,
                labels=MANAGED_BY,
            ),
            opts=pulumi.ResourceOptions(
                parent=self,
                provider=args.platform.provider,
                # The CRD comes with the snapshot controller; the driver takes the snapshots.
                depends_on=[args.snapshot_controller, args.drivers[SNAPSHOTTER.name]],
                replace_on_changes=SNAPSHOT_CLASS_IMMUTABLE,
                delete_before_replace=True,
            ),
        )
        self.snapshot_class_name = volume_snapshot_class.id.apply(lambda _: snapshot_class)

        if args.demote_gp2:
            # EKS created gp2 as the default before 1.30; two defaults break PVCs naming none.
            k8s.storage.v1.StorageClassPatch(
                f"{name}-gp2-not-default",
                metadata={
                    "name": "gp2",
                    "annotations": {
                        sc.DEFAULT_CLASS_ANNOTATION: "false",
                        "pulumi.com/patchForce": "true",
                    },
                },
                opts=pulumi.ResourceOptions(parent=self, provider=args.platform.provider),
            )
        self.register_outputs(
            {
                "classes": sorted(self.classes),
                "retired": sorted(self.retired),
                "snapshotClass": self.snapshot_class_name,
            }
        )

    def _storage_class(
        self, name: str, entry: CatalogEntry, args: StorageClassesArgs
    ) -> k8s.storage.v1.StorageClass:
        spec = entry.spec
        backend = for_backing(spec.backing)
        driver = args.drivers.get(backend.name)
        source = (
            args.platform.key_arn
            if backend.parameter_input == "key_arn"
            else args.file_systems.get(backend.parameter_input)
        )
        if source is None or driver is None:
            raise ValueError(f"{entry.name} needs {backend.needs}")
        parameters = pulumi.Output.from_input(source).apply(
            lambda value: backend.parameters(spec, value)
        )
        mount_options = list(backend.mount_options) if backend.mount_options else None
        obj = sc.storage_class_object(
            name=entry.name,
            provisioner=backend.provisioner,
            parameters={},
            reclaim_policy=args.platform.catalog.reclaim_policies[entry.name],
            default=spec.default and not entry.retired,
            labels={
                **MANAGED_BY,
                "storage.eks-config-storage.io/backing": spec.backing,
                "storage.eks-config-storage.io/access": spec.access,
                "storage.eks-config-storage.io/environment": args.platform.environment,
                **({sc.RETIRED_LABEL: "true"} if entry.retired else {}),
            },
            mount_options=mount_options,
            annotations=sc.protection_annotations(
                snapshot_policies=list(spec.protection.snapshot_policies),
                backup_schedule=spec.protection.backup_schedule,
                aws_backup=backend.file_system_backup and args.file_system_backup,
                reason=spec.protection.reason,
            ),
        )
        return k8s.storage.v1.StorageClass(
            f"{name}-{entry.name}",
            metadata=obj["metadata"],
            provisioner=obj["provisioner"],
            parameters=parameters,
            reclaim_policy=obj["reclaimPolicy"],
            volume_binding_mode=obj["volumeBindingMode"],
            allow_volume_expansion=obj["allowVolumeExpansion"],
            mount_options=obj.get("mountOptions"),
            opts=pulumi.ResourceOptions(
                parent=self,
                provider=args.platform.provider,
                depends_on=[driver],
                replace_on_changes=CLASS_IMMUTABLE,
                delete_before_replace=True,
            ),
        )
