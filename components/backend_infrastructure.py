"""A storage backend's stack-level resources (a file system, its network path, its driver's
role), built by the backend's own component module, so the program loops over the registry and a
new backend needs no edit of ``__main__.py``."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi

from components.platform import Platform
from design.storage.backend import Backend


@dataclass(frozen=True)
class Network:
    """Where a backend's infrastructure reaches the nodes."""

    vpc_id: pulumi.Input[str]
    private_subnets: dict[str, pulumi.Input[str]]
    node_security_group_id: pulumi.Input[str]


@dataclass(frozen=True)
class BackendInfrastructure:
    """What the rest of the program takes from a backend's infrastructure, built or not."""

    role_arn: pulumi.Input[str] | None = None
    """Its CSI driver's role (None: the backend's driver has none of its own here)."""
    inputs: Mapping[str, pulumi.Input[str] | None] = field(default_factory=dict)
    """Class parameter inputs (``Backend.parameter_input``) it provides."""
    exports: Mapping[str, pulumi.Input[Any] | None] = field(default_factory=dict)
    """Stack outputs, by name (None when not built, so the output keeps existing)."""
    file_system_backup: bool = False
    """Its file system is backed up by AWS Backup (its classes say so)."""
    in_use: Callable[[Sequence[pulumi.Resource], Any, bool], None] | None = None
    """Registered after the classes: a marker depending on the infrastructure, the driver add-on
    and the backend's classes (``holders``), with the cluster provider and ``protect``."""
    resource: pulumi.Resource | None = None
    """The component itself, first of the in-use holders."""


# (name, platform, cfg, network) -> BackendInfrastructure
Builder = Callable[[str, Platform, Any, Network], BackendInfrastructure]


def build(
    backends: Iterable[Backend], platform: Platform, cfg: Any, network: Network
) -> dict[str, BackendInfrastructure]:
    """Each backend's infrastructure, in registry order, named after the backend."""
    built: dict[str, BackendInfrastructure] = {}
    for backend in backends:
        if backend.infrastructure:
            builder: Builder = importlib.import_module(backend.infrastructure).infrastructure
            built[backend.name] = builder(backend.name, platform, cfg, network)
    return built
