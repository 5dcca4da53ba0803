"""Pulumi.yaml declares the scalar keys the schema knows, with the same types and defaults."""

from __future__ import annotations

import re
import typing
from pathlib import Path

import yaml
from pydantic import BaseModel

from config.schema import StackConfig
from policies.rules import RESOURCE_RULES, STACK_RULES

ROOT = Path(__file__).resolve().parents[2]
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
        if key in ("environment", "clusterName", "kubernetesVersion"):
            assert decl["default"] == "", "empty means derived (stack name, EKS calendar)"
        else:
            assert decl["default"] == default, key


def nested_models(annotation) -> list[tuple[type[BaseModel], str]]:
    """Models inside a field's type, with ``[]`` when they are list items."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is list:
        return [(model, "[]") for model, _ in nested_models(args[0])]
    if origin is typing.Annotated:
        return nested_models(args[0])
    if args:  # unions such as ``Efs | None``
        return [found for arg in args for found in nested_models(arg)]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [(annotation, "")]
    return []


def config_paths(model: type[BaseModel], prefix: str = "", seen: dict | None = None) -> list[str]:
    """Every key path of the schema: ``storage.classes[].iops`` and so on. A model that extends
    another one documented elsewhere (a retired class is a catalog entry plus its name) is
    documented by its own fields; the inherited ones are read where the parent is."""
    seen = {} if seen is None else seen
    seen.setdefault(model, prefix)
    parents = [base for base in model.__mro__[1:] if base in seen]
    paths = []
    for name, field in model.model_fields.items():
        if any(name in getattr(parent, "model_fields", {}) for parent in parents):
            continue
        path = f"{prefix}{field.alias}"
        paths.append(path)
        inners = nested_models(field.annotation)
        for inner, suffix in inners:
            paths += config_paths(inner, f"{path}{suffix}.", seen)
        if len(inners) > 1:  # a tagged union's parts: a model extending them adds its own keys
            bases = {b for inner, _ in inners for b in inner.__mro__[1:]}
            seen.update({b: path for b in bases if b not in seen})
    return paths


def test_every_key_is_in_the_readme_reference():
    readme = (ROOT / "docs" / "configuration.md").read_text()
    for path in config_paths(StackConfig):
        assert f"`{path}" in readme or f"/ `{path.rsplit('.', 1)[-1]}`" in readme, path


def test_readme_rule_table_matches_the_rules():
    readme = (ROOT / "docs" / "architecture.md").read_text()
    rows = dict(
        (m.group(1), (m.group(2), m.group(3)))
        for m in re.finditer(
            r"^\| `([a-z0-9-]+)` \| (R\d|F\d) \| (mandatory|advisory) \|", readme, re.M
        )
    )
    expected = {r.name: (r.principle, r.enforcement) for r in (*RESOURCE_RULES, *STACK_RULES)}
    assert rows == expected
