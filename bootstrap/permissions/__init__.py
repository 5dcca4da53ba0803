"""The table of what the main program calls in AWS (``actions.yaml``), as data the role policies
are rendered from. Pure: no Pulumi, no network."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

import yaml

TABLE = Path(__file__).with_name("actions.yaml")
COLUMNS = ("create", "read", "update", "delete")
RESOURCELESS = "any"
Need = Literal["read", "write"]


@dataclass(frozen=True)
class Row:
    """One resource type or invoke (``key``), or one of the pipeline's own needs."""

    key: str
    source: str
    columns: dict[str, tuple[str, ...]]

    def actions(self, need: Need) -> set[str]:
        names = ("read",) if need == "read" else (*COLUMNS, "write")
        return {a for name in names for a in self.columns.get(name, ())}


@dataclass(frozen=True)
class Table:
    scopes: dict[str, str]
    overrides: dict[str, tuple[str, ...]]
    resourceless: frozenset[str]
    resources: tuple[Row, ...]
    invokes: tuple[Row, ...]
    pipeline: dict[str, Row]

    def rows(self) -> tuple[Row, ...]:
        return self.resources + self.invokes

    def scopes_of(self, action: str) -> tuple[str, ...]:
        """Where an action's statement points: "*" for actions without resource-level
        permissions, else the override or its service's scope."""
        if action in self.resourceless:
            return (RESOURCELESS,)
        if action in self.overrides:
            return self.overrides[action]
        return (self.scopes[action.split(":", 1)[0]],)

    def needed(self, need: Need, types: Iterable[str] | None = None) -> dict[str, set[str]]:
        """Action -> the rows that need it, for ``types`` (every row when None)."""
        wanted = None if types is None else set(types)
        found: dict[str, set[str]] = {}
        for row in self.rows():
            if wanted is not None and row.key not in wanted and row in self.resources:
                continue
            for action in row.actions(need):
                found.setdefault(action, set()).add(row.key)
        return found


def _row(key: str, body: dict) -> Row:
    columns = {k: tuple(v) for k, v in body.items() if k != "source"}
    return Row(key, str(body.get("source", "")), columns)


@cache
def load(path: Path = TABLE) -> Table:
    data = yaml.safe_load(path.read_text())
    return Table(
        scopes=dict(data["scopes"]),
        overrides={k: tuple(v) for k, v in data["overrides"].items()},
        resourceless=frozenset(data.get("resourceless") or ()),
        resources=tuple(_row(k, v) for k, v in data["resources"].items()),
        invokes=tuple(_row(k, v) for k, v in data["invokes"].items()),
        pipeline={k: _row(k, v) for k, v in data["pipeline"].items()},
    )
