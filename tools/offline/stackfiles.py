"""Read config the way the Pulumi CLI does: project defaults from Pulumi.yaml, merged with
``stacks/Pulumi.<stack>.yaml``, encoded as the strings a program receives."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
# libyaml's loader when PyYAML was built with it: a 200-app stack file parses 10x faster.
Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
SECRET_PLACEHOLDER = "offline-placeholder-for-a-secret"


_PARSED: dict[tuple[Path, int, int], Any] = {}


def _load(path: Path) -> Any:
    """A YAML file's content, parsed once per version of the file (tests and benchmarks plan
    the same files hundreds of times); callers get their own copy to change."""
    stat = path.stat()
    key = (path, stat.st_mtime_ns, stat.st_size)
    if key not in _PARSED:
        _PARSED[key] = yaml.load(path.read_text(), Loader=Loader)
    return copy.deepcopy(_PARSED[key])


def project() -> dict[str, Any]:
    return _load(ROOT / "Pulumi.yaml")


def stacks_dir() -> Path:
    return ROOT / project().get("stackConfigDir", ".")


def stack_names() -> list[str]:
    return sorted(
        p.name[len("Pulumi.") : -len(".yaml")] for p in stacks_dir().glob("Pulumi.*.yaml")
    )


def stack_config(stack: str) -> dict[str, Any]:
    """The ``config:`` map of a stack file, keys as written (``eks-config-storage:network``)."""
    path = stacks_dir() / f"Pulumi.{stack}.yaml"
    if not path.exists():
        raise FileNotFoundError(f"no stack file {path.relative_to(ROOT)}")
    return read_stack_file(path)


def read_stack_file(path: Path) -> dict[str, Any]:
    return (_load(path) or {}).get("config") or {}


def project_defaults() -> dict[str, Any]:
    """``default`` of every key declared in Pulumi.yaml, namespaced like stack keys."""
    proj = project()
    name = proj["name"]
    defaults = {}
    for key, decl in (proj.get("config") or {}).items():
        full = key if ":" in key else f"{name}:{key}"
        if isinstance(decl, dict):
            if "default" in decl:
                defaults[full] = decl["default"]
        else:
            defaults[full] = decl
    return defaults


def encode(values: dict[str, Any]) -> tuple[dict[str, str], list[str]]:
    """Encode like the CLI: strings as they are, everything else as JSON; ``secure:`` values
    become a placeholder marked secret (there is no key to decrypt them offline)."""
    encoded: dict[str, str] = {}
    secret_keys: list[str] = []
    for key, value in values.items():
        plain, secret = _without_secure(value)
        if secret:
            secret_keys.append(key)
        encoded[key] = plain if isinstance(plain, str) else json.dumps(plain)
    return encoded, secret_keys


def _without_secure(value: Any) -> tuple[Any, bool]:
    """Replace every ``{secure: ...}`` (also nested, from ``config set --path --secret``)."""
    if isinstance(value, dict):
        if set(value) == {"secure"}:
            return SECRET_PLACEHOLDER, True
        pairs = {k: _without_secure(v) for k, v in value.items()}
        return {k: v for k, (v, _) in pairs.items()}, any(s for _, s in pairs.values())
    if isinstance(value, list):
        items = [_without_secure(v) for v in value]
        return [v for v, _ in items], any(s for _, s in items)
    return value, False


def merged_config(stack_values: dict[str, Any]) -> dict[str, Any]:
    return {**project_defaults(), **stack_values}
