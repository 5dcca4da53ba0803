"""What the engine, the providers and the service do with one resource type: the record every
per-type fact lives in (``design.resource_types`` holds the table)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class TypeFacts:
    force_new: frozenset[str] = frozenset()
    """Inputs whose change replaces the resource: top-level names or ``parent.child`` paths.
    Empty means checked: no input replaces it (Kubernetes objects: only their name and
    namespace, which the transition guard reads for every kind)."""
    autonamed: str | None = None
    """The input pulumi-aws auto-names: set explicitly, a replacement deletes the old one first."""
    delete_first: bool = False
    """Every replacement deletes the old resource first."""
    refused: Mapping[str, str] = field(default_factory=dict)
    """Inputs the provider updates in place that the service refuses to change, and why."""
    update_notes: Mapping[str, str] = field(default_factory=dict)
    """What an in-place update of these inputs sets in motion."""
    replace_notes: Mapping[str, str] = field(default_factory=dict)
    """What a replacement on these inputs does not do, though it looks as if it would."""
    protected: bool = False
    """Holds state: production protects it (policy F4, ``protect``)."""
    loses_data: bool = False
    """Its deletion or replacement loses data, backups or service for good."""
    document: tuple[str, str] | None = None
    """The input holding a JSON policy document and the label ``--render`` files it under."""
