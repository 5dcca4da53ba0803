"""A backend's infrastructure is found through the registry, never by name in the program."""

from __future__ import annotations

import importlib
from pathlib import Path

from design.storage.registry import REGISTRY

ROOT = Path(__file__).resolve().parents[3]


def test_every_named_infrastructure_module_has_the_hook():
    named = [b for b in REGISTRY if b.infrastructure]
    assert [b.name for b in named] == ["efs"]
    for backend in named:
        assert callable(importlib.import_module(backend.infrastructure).infrastructure)


def test_the_program_names_no_backend_infrastructure():
    program = (ROOT / "__main__.py").read_text()
    assert "components.efs" not in program and "EfsStorage" not in program
    assert "backend_infrastructure.build(" in program
