"""What a storage backend is, as one record: everything the program, the config rules, the
policies, the plan report and the transition guard need to know about it. Each backend module
(``ebs.py``, ``efs.py``) builds one; ``registry.py`` lists them, and nothing outside branches on a
backend's name."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from design.schema_base import ConfigModel
from design.type_facts import TypeFacts

# (key path suffix, message): a backend's own problems, placed under the entry's key.
Finding = tuple[str, str]


class SchemaPart(ConfigModel):
    """A backend's part of the stack config schema, read as every config model is."""


@dataclass(frozen=True)
class Backend:
    name: str
    """Short name: the VolumeSnapshotClass prefix and the key of the driver it provisions with."""
    label: str
    """As messages spell it (``EBS``)."""
    backings: tuple[str, ...]
    """The ``storage.classes[].backing`` values this backend serves."""
    provisioner: str
    """The CSI driver's name: the class's ``provisioner``."""
    access: str
    """The one access mode its volumes have (``rwo``/``rwx``)."""
    access_reason: str
    """Appended to the access problem when a class name is derived."""
    expandable: bool
    """The driver can grow a volume (``allowVolumeExpansion``)."""
    zonal: bool
    """Volumes live in one zone: binding late is mandatory, not only uniform."""
    parameter_input: str
    """The stack value the class parameters are built from (``key_arn``, ``file_system_id``)."""
    needs: str
    """What a class of this backend needs from the stack, for the error without it."""
    media: Callable[[Any], str]
    """The name's second part for a ``ClassSpec``; ValueError when it cannot exist."""
    parameters: Callable[[Any, str], dict[str, str]]
    """The class's CSI parameters from its spec and the ``parameter_input`` value."""
    name_candidates: Callable[[Mapping[str, Any]], list[tuple[str, str, str | None]]]
    """(backing, access, throughput mode) a live class with these parameters may be named by."""
    encryption_problems: Callable[[Mapping[str, Any], list], Iterator[str]]
    """Why a class (its parameters and mount options) does not encrypt its volumes."""
    class_problems: Callable[[Any], Iterator[Finding]]
    """The backend's own checks of one class entry."""
    class_fields: type[SchemaPart] | None = None
    """Its ``storage.classes[]`` entry's own part: ``backing`` (a Literal of ``backings``, the
    union's tag) and the fields only it takes; ``config.schema.storage`` adds the common ones."""
    settings: tuple[str, type[SchemaPart]] | None = None
    """Its stack-level settings under ``storage`` (key, model), if any."""
    mount_options: tuple[str, ...] | None = None
    snapshots: bool = False
    """Its volumes can be CSI-snapshotted (the default VolumeSnapshotClass's driver)."""
    unsnapshottable: str = ""
    """Without snapshots: why a class may not name snapshot policies or a backup schedule."""
    file_system_backup: bool = False
    """Its volumes are protected by the stack file system's AWS Backup."""
    requires: Callable[[Any], str | None] = lambda cfg: None
    """Why the stack cannot hold a class of this backend (``cfg``), or None."""
    stack_problems: Callable[[Any], Iterator[Finding]] = lambda cfg: iter(())
    """Checks of the backend's stack-level settings."""
    production_problems: Callable[[Any], Iterator[Finding]] = lambda cfg: iter(())
    """What production needs of the backend's stack-level settings."""
    volume_limit: Callable[[str, Mapping[str, Any]], int] | None = None
    """How many volumes one class can hold, from the driver version and the class parameters."""
    addon: str = ""
    """The EKS add-on of its CSI driver."""
    addon_version: Callable[[Any], str | None] = lambda versions: None
    """Its pinned version among the stack's ``addons`` settings (None: the newest)."""
    addon_accounts: tuple[str, ...] = ()
    """The add-on's service accounts its role is for (Pod Identity associations)."""
    addon_configuration: Callable[[str, str], dict | None] = lambda identity, cluster: None
    """The add-on's configuration values for the stack's identity mode and cluster name."""
    resource_types: Mapping[str, TypeFacts] = field(default_factory=dict)
    """Facts of the resource types only this backend registers."""

    @property
    def fields(self) -> tuple[str, ...]:
        """Class fields only this backend takes (others refuse them)."""
        own = self.class_fields.model_fields if self.class_fields else {}
        return tuple(name for name in own if name != "backing")

    infrastructure: str = ""
    """The module that builds the backend's stack-level resources (its ``infrastructure``
    function, ``components.backend_infrastructure``); named, not imported, so design stays free of
    Pulumi. Empty: the backend needs none."""
