"""The recorded resource graph of one program run, with the look-ups tests and rules need."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Resource:
    urn: str
    type: str
    name: str
    parent: str
    custom: bool
    provider: str
    options: dict[str, Any]
    inputs: dict[str, Any]
    outputs: dict[str, Any]

    @property
    def protect(self) -> bool:
        return bool(self.options["protect"])

    @property
    def dependencies(self) -> list[str]:
        return self.options["dependencies"]

    @property
    def provider_urn(self) -> str:
        """The provider reference is ``<urn>::<id>``; URNs contain ``::`` themselves."""
        return self.provider.rsplit("::", 1)[0] if self.provider else ""


@dataclass
class Plan:
    stack: str
    resources: list[Resource]
    exports: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.by_urn = {r.urn: r for r in self.resources}

    def __iter__(self) -> Iterator[Resource]:
        return iter(self.resources)

    def __len__(self) -> int:
        return len(self.resources)

    def of_type(self, type_: str) -> list[Resource]:
        return [r for r in self.resources if r.type == type_]

    def one(self, type_: str, name: str | None = None) -> Resource:
        found = [r for r in self.of_type(type_) if name is None or r.name == name]
        if len(found) != 1:
            raise LookupError(f"expected one {type_} {name or ''}, found {len(found)}")
        return found[0]

    def named(self, name: str) -> Resource:
        found = [r for r in self.resources if r.name == name]
        if len(found) != 1:
            raise LookupError(f"expected one resource named {name}, found {len(found)}")
        return found[0]

    def children(self, parent: Resource) -> list[Resource]:
        return [r for r in self.resources if r.parent == parent.urn]

    def ancestors(self, resource: Resource) -> list[Resource]:
        chain = []
        while resource.parent in self.by_urn:
            resource = self.by_urn[resource.parent]
            chain.append(resource)
        return chain

    def depends_on(self, resource: Resource, other: Resource) -> bool:
        """Whether the engine makes ``resource`` wait for ``other``, directly or transitively.

        Only recorded dependencies count: a child does not inherit its component's
        ``depends_on``, which is exactly the mistake this look-up exists to catch."""
        seen: set[str] = set()
        todo = list(resource.dependencies)
        while todo:
            urn = todo.pop()
            if urn == other.urn:
                return True
            if urn in seen or urn not in self.by_urn:
                continue
            seen.add(urn)
            todo.extend(self.by_urn[urn].dependencies)
        return False

    def document(self) -> dict:
        """The plan as data: every resource with its options and inputs (secrets masked)."""
        return {
            "stack": self.stack,
            "resources": [
                {
                    "urn": r.urn,
                    "type": r.type,
                    "name": r.name,
                    "parent": r.parent,
                    "custom": r.custom,
                    "provider": r.provider_urn,
                    "options": r.options,
                    "inputs": r.inputs,
                    # What other resources may refer to: a replacement reaches them.
                    "outputs": {
                        k: r.outputs[k]
                        for k in ("id", "arn", "name")
                        if isinstance(r.outputs.get(k), str)
                    },
                }
                for r in sorted(self.resources, key=lambda r: r.urn)
            ],
            "exports": self.exports,
        }

    def type_counts(self) -> Counter:
        return Counter(r.type for r in self.resources)
