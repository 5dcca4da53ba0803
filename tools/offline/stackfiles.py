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
_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
SECRET_PLACEHOLDER = "offline-placeholder-for-a-secret"
# What a stack file holds besides config (pulumi/pulumi@v3.259.0:sdk/go/common/workspace/
# project.go, ProjectStack); anything else at the top level is config written one level too high.
STACK_FILE_KEYS = frozenset(
    {"config", "secretsprovider", "encryptedkey", "encryptionsalt", "environment"}
)


class StackFileError(ValueError):
    """A stack file that is not YAML, or not the shape of a stack file: the message names the
    file, and the line and column where the YAML parser stopped."""


class Loader(_BaseLoader):
    """The safe loader, refusing a key written twice in one mapping: YAML says keys are unique,
    yet PyYAML keeps the last one silently, so a second ``protect: false`` would win unseen."""


def _unique_keys(loader: Loader, node: yaml.MappingNode):
    seen: set = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)
        if isinstance(key, str | int | float | bool) and key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"the key {key!r} is written twice in this mapping", key_node.start_mark
            )
        seen.add(key)
    return (yield from loader.construct_yaml_map(node))


Loader.add_constructor("tag:yaml.org,2002:map", _unique_keys)


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


_PARSED: dict[tuple[Path, int, int], Any] = {}


def _load(path: Path) -> Any:
    """A YAML file's content, parsed once per version of the file (tests and benchmarks plan
    the same files hundreds of times); callers get their own copy to change."""
    stat = path.stat()
    key = (path, stat.st_mtime_ns, stat.st_size)
    if key not in _PARSED:
        try:
            _PARSED[key] = yaml.load(path.read_text(encoding="utf-8-sig"), Loader=Loader)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            where = f"{_shown(path)}:{mark.line + 1}:{mark.column + 1}" if mark else _shown(path)
            what = " ".join(str(part) for part in (exc.context, exc.problem) if part)
            raise StackFileError(f"{where}: not valid YAML: {what}") from None
        except yaml.YAMLError as exc:
            raise StackFileError(f"{_shown(path)}: not valid YAML: {exc}") from None
        except UnicodeDecodeError as exc:
            raise StackFileError(f"{_shown(path)}: not UTF-8 text ({exc.reason})") from None
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
    """The ``config:`` map of a stack file; ``StackFileError`` for one that is not a stack file."""
    if not path.is_file():
        raise StackFileError(f"{_shown(path)}: no such stack file")
    document = _load(path)
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise StackFileError(
            f"{_shown(path)}: a stack file is a mapping with a top-level `config:` key, "
            f"not a {type(document).__name__}"
        )
    stray = sorted(str(k) for k in document if k not in STACK_FILE_KEYS)
    if stray:
        raise StackFileError(
            f"{_shown(path)}: {', '.join(stray)}: not a stack file key; settings belong under "
            "the top-level `config:` (indent them below it)"
        )
    config = document.get("config")
    if config is None:
        return {}
    if not isinstance(config, dict):
        raise StackFileError(
            f"{_shown(path)}: `config:` must be a mapping of keys to values, "
            f"not a {type(config).__name__}"
        )
    return config


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


def secure_paths(value: Any, path: str) -> list[str]:
    """The key path of every ``{secure: ...}`` in ``value`` (``apps[0].config.TOKEN``)."""
    if isinstance(value, dict):
        if set(value) == {"secure"}:
            return [path]
        return [p for k, v in value.items() for p in secure_paths(v, f"{path}.{k}")]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in secure_paths(v, f"{path}[{i}]")]
    return []


def merged_config(stack_values: dict[str, Any]) -> dict[str, Any]:
    return {**project_defaults(), **stack_values}
