"""Turn the stack's raw config values into one validated, frozen ``StackConfig``.

Pulumi hands a program its config as strings (structured values as JSON). ``decode`` restores the
values, ``load_stack_config`` validates them and raises a single ``ConfigError`` naming every
problem by its key, before the program registers any resource.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from config import messages, rules
from config.namespaces import namespace_problems
from config.schema import StackConfig
from design import eks_versions

PROJECT = "eks-config-storage"
SECRET_REFUSED = (
    "holds a Pulumi secret, but no setting of this program is secret: secret values belong in "
    "Secrets Manager or Parameter Store (apps[].secrets, fetched by External Secrets) or in "
    "Sealed Secrets, never in stack config, where they would end up in a ConfigMap or a plan"
)


class ConfigError(ValueError):
    """The stack configuration is invalid; ``problems`` holds ``(key path, message)`` pairs."""

    def __init__(
        self,
        stack: str,
        problems: list[tuple[str, str]],
        foreign: list[tuple[str, str]] | None = None,
    ):
        """``problems`` are keyed by paths in the project's namespace; ``foreign`` by whole
        keys as written (``aws:region``, ``production`` without a prefix)."""
        self.stack = stack
        self.problems = [*(foreign or []), *problems]
        lines = [f"  - {key}: {message}" for key, message in foreign or []]
        lines += [f"  - {PROJECT}:{path}: {message}" for path, message in problems]
        count = len(self.problems)
        noun = "problem" if count == 1 else "problems"
        super().__init__(
            f"invalid configuration for stack '{stack}' ({count} {noun}):\n" + "\n".join(lines)
        )


def top_level_keys() -> dict[str, str]:
    """Map every top-level config key (camelCase, as written in stack files) to its field."""
    return {field.alias or name: name for name, field in StackConfig.model_fields.items()}


def unknown_key_problems(keys: Iterable[str]) -> list[tuple[str, str]]:
    """A problem for every key of this project's namespace that the schema does not know.

    Pulumi hands a program the whole stack config, and a program only ever asks for the keys it
    knows: without this check a typo (``snapshot:`` for ``snapshots:``) is silently ignored and
    its settings, say every snapshot schedule, silently disappear."""
    known = list(top_level_keys())
    problems = []
    for key in sorted(set(keys) - set(known)):
        close = difflib.get_close_matches(key, known, n=1) or difflib.get_close_matches(
            key.lower(), [k.lower() for k in known], n=1
        )
        hint = f"; did you mean '{_original(close[0], known)}'?" if close else ""
        problems.append(
            (key or repr(key), f"unknown key (not part of the stack config schema){hint}")
        )
    return problems


def _original(match: str, known: list[str]) -> str:
    return next((k for k in known if k == match or k.lower() == match), match)


def _string_keys() -> frozenset[str]:
    return frozenset(
        field.alias or name
        for name, field in StackConfig.model_fields.items()
        if field.annotation is str
    )


def decode(raw: Mapping[str, str]) -> dict[str, Any]:
    """Undo Pulumi's string encoding: string keys stay as given, the rest are JSON."""
    strings = _string_keys()
    values: dict[str, Any] = {}
    for key, text in raw.items():
        if key in strings:
            values[key] = text
            continue
        try:
            values[key] = json.loads(text)
        except (TypeError, json.JSONDecodeError):
            values[key] = text  # validation reports the type mismatch by key
    return values


def _key_path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path


def _problem(err: ErrorDetails) -> tuple[str, str]:
    message = messages.refine(StackConfig, err)
    loc = messages.key_path(StackConfig, err["loc"])
    if err["type"] in ("union_tag_invalid", "union_tag_not_found"):  # the tag is a key
        loc = (*loc, err["ctx"]["discriminator"].strip("'"))
    if loc and loc[-1] == "[key]":  # pydantic's marker for a mapping key (not its value)
        loc, message = loc[:-1], f"the key itself: {message}"
    return _key_path(loc) or "(root)", message


def load_stack_config(
    values: Mapping[str, Any],
    stack: str,
    unknown_keys: Iterable[str] = (),
    *,
    other_namespaces: Mapping[str, Any] | None = None,
    need_region: bool = False,
    secret_paths: Iterable[str] = (),
) -> StackConfig:
    """Validate decoded config values for ``stack``; raise ``ConfigError`` listing every problem.

    The environment defaults to the stack name, the cluster name to ``eks-<environment>`` and the
    Kubernetes version to the newest in EKS standard support, so a new stack file needs no code
    change. ``unknown_keys`` (keys of the namespace that were set
    but are not in the schema) are reported with every other problem, and so are problems with
    ``other_namespaces`` (the stack's keys outside the project's namespace, ``config.namespaces``).
    """
    foreign = namespace_problems(
        other_namespaces or {}, PROJECT, top_level_keys(), need_region=need_region
    )
    # The whole path of a nested ``secure:`` value where it is known (a stack file read offline).
    unknown = [(path, SECRET_REFUSED) for path in secret_paths] + unknown_key_problems(unknown_keys)
    data = dict(values)
    # Pulumi.yaml declares these with "" as the default: empty means "derive it".
    if not data.get("environment"):
        data["environment"] = stack
    if not data.get("clusterName") and isinstance(data["environment"], str):
        data["clusterName"] = f"eks-{data['environment']}"
    if not data.get("kubernetesVersion"):
        data["kubernetesVersion"] = eks_versions.default_version(eks_versions.today())
    try:
        # Strict: "yes" is no boolean and "14" no number (lax mode would take both), and a key
        # is its camelCase alias only (populate_by_name is for constructing models in code).
        cfg = StackConfig.model_validate(data, strict=True, by_alias=True, by_name=False)
    except ValidationError as exc:
        raise ConfigError(
            stack, unknown + [_problem(err) for err in exc.errors()], foreign
        ) from None
    found = unknown + rules.problems(cfg)
    if found or foreign:
        raise ConfigError(stack, found, foreign)
    return cfg
