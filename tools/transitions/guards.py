"""The rules beyond tools.transitions.rules, applied to the offline diff and to a real preview
alike: lost resource options, name collisions, the region, controller namespace moves and the
in-place updates the service refuses."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from tools.transitions.identity import collision_rules
from tools.transitions.options import option_rules
from tools.transitions.provider import region_rules
from tools.transitions.releases import release_rules
from tools.transitions.rules import Violation
from tools.transitions.runtime import runtime_rules

if TYPE_CHECKING:
    from tools.transitions.changes import Change


def rules(
    old: dict, new: dict, changes: list[Change]
) -> list[Iterator[tuple[Violation, str, str]]]:
    return [
        option_rules(old, new, changes),
        collision_rules(changes),
        region_rules(old, new),
        release_rules(old, new),
        runtime_rules(changes),
    ]
