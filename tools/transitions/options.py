"""Resource options as the engine applies them: ``ignoreChanges`` restores old inputs before the
provider sees them, and losing ``protect`` or ``retainOnDelete`` is a transition of its own.

Engine sources (pulumi/pulumi@v3.259.0):
- ``pkg/resource/deploy/step_generator.go:3028`` ``processIgnoreChanges``: for every ignored path
  the old input is put back (``path.Reset(oldInputs, ignoredInputs)``); paths into added or
  removed elements are left alone with an info message.
- ``pkg/resource/deploy/step.go:644-661``: a delete is refused when the *old* state is protected,
  and ``RetainOnDelete`` of the *old* state makes it a no-op; so a change that drops both flags
  is harmless in its own update and leaves every later one judged as unprotected.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from tools.transitions.identity import renamed as pair
from tools.transitions.rules import Violation

if TYPE_CHECKING:
    from tools.transitions.changes import Change

_MISSING = object()


def _get(value: Any, path: list[str]) -> Any:
    for key in path:
        if not isinstance(value, dict) or key not in value:
            return _MISSING
        value = value[key]
    return value


def restore_ignored(old_inputs: dict, new_inputs: dict, paths: list[str]) -> dict:
    """``new_inputs`` with each ignored ``a.b.c`` path set back to its old value, as the engine
    does before ``Diff``; a path missing on either side is left as the program wrote it."""
    result = copy.deepcopy(new_inputs)
    for text in paths:
        path = text.split(".")
        old = _get(old_inputs, path)
        parent = _get(result, path[:-1]) if len(path) > 1 else result
        if old is _MISSING or not isinstance(parent, dict) or path[-1] not in parent:
            continue
        parent[path[-1]] = copy.deepcopy(old)
    return result


def with_ignored(before: dict | None, after: dict | None) -> dict | None:
    """The new plan entry as the provider will see it."""
    if before is None or after is None:
        return after
    paths = (after.get("options") or {}).get("ignoreChanges") or []
    if not paths:
        return after
    return {**after, "inputs": restore_ignored(before["inputs"], after["inputs"], paths)}


def _flagged(document: dict, option: str) -> dict[str, str]:
    return {
        r["urn"]: r["name"]
        for r in document["resources"]
        if r.get("custom", True) and (r.get("options") or {}).get(option)
    }


def lost_options(old: dict, new: dict, renamed: dict[str, str] | None = None) -> dict[str, list]:
    """Per option, the resources (kept in the stack) that had it and no longer do. ``renamed``
    maps a new URN to the old one it takes over (aliases)."""
    if renamed is None:
        renamed = pair(
            {r["urn"]: r for r in old["resources"]}, {r["urn"]: r for r in new["resources"]}
        )
    kept = {renamed.get(r["urn"], r["urn"]): r for r in new["resources"]}
    lost: dict[str, list] = {}
    for option in ("protect", "retainOnDelete"):
        had = _flagged(old, option)
        lost[option] = sorted(
            had[urn]
            for urn in had
            if urn in kept and not (kept[urn].get("options") or {}).get(option)
        )
    return lost


def option_rules(
    old: dict, new: dict, changes: list[Change], renamed: dict[str, str] | None = None
) -> Iterator[tuple[Violation, str, str]]:
    lost = lost_options(old, new, renamed)
    if not any(lost.values()):
        return
    parts = [
        f"{option} removed from {len(names)} ({', '.join(names)})"
        for option, names in lost.items()
        if names
    ]
    yield (
        Violation(
            "protect",
            "; ".join(parts) + ": nothing is deleted in this update (the old state's flags "
            "apply), but every later change deletes or replaces them for real",
            "acknowledge.settings",
        ),
        "settings",
        "protect",
    )
