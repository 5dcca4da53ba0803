"""Every storage backend, and the look-ups by class backing and by CSI provisioner. A new
backend is one module beside ``ebs.py`` and one line here."""

from __future__ import annotations

from design.storage import ebs, efs
from design.storage.backend import Backend

REGISTRY: tuple[Backend, ...] = (ebs.BACKEND, efs.BACKEND)

_BY_BACKING = {backing: b for b in REGISTRY for backing in b.backings}
_BY_PROVISIONER = {b.provisioner: b for b in REGISTRY}
BACKINGS: tuple[str, ...] = tuple(_BY_BACKING)
"""Every ``storage.classes[].backing`` value, in registry order."""
# The driver of the default VolumeSnapshotClass: the one backend whose volumes snapshot.
(SNAPSHOTTER,) = (b for b in REGISTRY if b.snapshots)


def for_backing(backing: str) -> Backend | None:
    return _BY_BACKING.get(backing)


def by_provisioner(provisioner: object) -> Backend | None:
    return _BY_PROVISIONER.get(provisioner) if isinstance(provisioner, str) else None
