"""Pulumi.yaml declares the scalar keys the schema knows, with the same types and defaults."""

from __future__ import annotations

import typing
from pathlib import Path

import yaml

from config.schema import StackConfig

ROOT = Path(__file__).resolve().parents[1]
PROJECT = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
PULUMI_TYPES = {str: "string", bool: "boolean", int: "integer"}


def scalar_type(annotation) -> dict | None:
    """The Pulumi config type of a field, or None when Pulumi cannot declare it (objects)."""
    if annotation in PULUMI_TYPES:
        return {"type": PULUMI_TYPES[annotation]}
    if typing.get_origin(annotation) is typing.Literal:
        return {"type": PULUMI_TYPES[type(typing.get_args(annotation)[0])]}
    if typing.get_origin(annotation) is list:
        (item,) = typing.get_args(annotation)
        inner = scalar_type(typing.get_args(item)[0] if typing.get_args(item) else item)
        return {"type": "array", "items": inner} if inner else None
    return None


def test_project_settings():
    assert PROJECT["name"] == "eks-config-storage"
    assert PROJECT["runtime"] == {
        "name": "python",
        "options": {"toolchain": "pip", "virtualenv": "venv"},
    }
    assert PROJECT["stackConfigDir"] == "stacks"


def test_declared_keys_match_the_schema():
    declared = PROJECT["config"]
    fields = {f.alias: f for f in StackConfig.model_fields.values()}
    declarable = {k: scalar_type(f.annotation) for k, f in fields.items()}
    declarable = {k: t for k, t in declarable.items() if t is not None}
    assert set(declared) == set(declarable)
    for key, decl in declared.items():
        assert decl["description"]
        assert {k: v for k, v in decl.items() if k in ("type", "items")} == declarable[key]
        default = fields[key].get_default(call_default_factory=True)
        if key in ("environment", "clusterName"):
            assert decl["default"] == "", "empty means derived from the stack name"
        else:
            assert decl["default"] == default, key


def test_structured_keys_are_documented_in_the_readme():
    readme = (ROOT / "README.md").read_text()
    for field in StackConfig.model_fields.values():
        assert f"`{field.alias}" in readme, f"README config reference misses {field.alias}"
