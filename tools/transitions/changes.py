"""Each resource's change between two plans, as a real `pulumi up` would make it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from tools.transitions import semantics as sem

Action = Literal["create", "update", "replace", "delete"]
MARKS = {"create": "+", "update": "~", "replace": "±", "delete": "-"}


@dataclass(frozen=True)
class Change:
    action: Action
    type: str
    name: str
    fields: tuple[str, ...]
    consequence: str
    delete_first: bool = False
    protected: bool = False
    retained: bool = False
    before: dict | None = None
    after: dict | None = None

    @property
    def kind(self) -> str:
        return self.type.rsplit(":", 1)[-1]

    @property
    def loses_what_it_holds(self) -> bool:
        """Replaced (service moves to a new, empty one; a retained old one is only left
        behind), deleted for real (not retained), or a protected delete, which stops the
        update part-way, after what depends on it is already gone."""
        return self.action == "replace" or (
            self.action == "delete" and (self.protected or not self.retained)
        )

    def line(self) -> str:
        how = "replace (delete first)" if self.delete_first else self.action
        fields = f" ({', '.join(self.fields)})" if self.fields else ""
        return (
            f"{MARKS[self.action]} {how:<22} {self.type}  {self.name}{fields}: {self.consequence}"
        )


def _changed(a: dict, b: dict) -> list[str]:
    return sorted(k for k in a.keys() | b.keys() if a.get(k) != b.get(k))


def _metadata(inputs: dict) -> tuple[Any, Any]:
    meta = inputs.get("metadata") or {}
    return meta.get("name") or inputs.get("name"), meta.get("namespace") or inputs.get("namespace")


def _nested(a: dict, b: dict, field: str) -> list[str]:
    """``vpcConfig.subnetIds``-style paths that changed below ``field``."""
    inner_a, inner_b = a.get(field) or {}, b.get(field) or {}
    if not isinstance(inner_a, dict) or not isinstance(inner_b, dict):
        return [field] if inner_a != inner_b else []
    return [f"{field}.{k}" for k in _changed(inner_a, inner_b)]


def _forced(resource_type: str, after: dict) -> frozenset[str]:
    options = after.get("options") or {}
    forced = sem.FORCE_NEW.get(resource_type, frozenset())
    if resource_type.startswith("kubernetes:"):
        forced |= frozenset(options.get("replaceOnChanges") or ())
    return forced


def _delete_first(resource_type: str, after: dict) -> bool:
    options = after.get("options") or {}
    if resource_type.startswith("kubernetes:") and resource_type != "kubernetes:helm.sh/v3:Release":
        return True  # same name and namespace: the new object would collide
    autonamed = sem.AUTONAMED.get(resource_type)
    return (
        bool(options.get("deleteBeforeReplace"))
        or resource_type in sem.ALWAYS_DELETE_FIRST
        or (autonamed is not None and autonamed in after["inputs"])
    )


def _replacement(resource_type: str, before: dict, after: dict, changed: list[str]):
    """``(replacing fields, delete first)`` of an update, or ``((), False)`` when in place."""
    options = after.get("options") or {}
    a, b = before["inputs"], after["inputs"]
    if resource_type.startswith("kubernetes:") and resource_type != "kubernetes:helm.sh/v3:Release":
        if _metadata(a) != _metadata(b):
            # A new name or namespace is a new object; the old one is deleted afterwards.
            return ("metadata",), bool(options.get("deleteBeforeReplace"))
        forced = set(options.get("replaceOnChanges") or ()) | sem.FORCE_NEW.get(
            resource_type, set()
        )
        fields = tuple(f for f in changed if f in forced)
        # Same name and namespace: the new object would collide, so the old one goes first.
        return fields, bool(fields)
    forced = sem.FORCE_NEW.get(resource_type, frozenset())
    paths = {p for f in changed for p in (_nested(a, b, f) or [f])}
    fields = tuple(sorted({f for f in changed if f in forced} | (paths & forced)))
    if not fields:
        return (), False
    return fields, _delete_first(resource_type, after)


def classify(before: dict | None, after: dict | None) -> Change | None:
    """The change of one resource (plan document entries by URN), or None when nothing the
    provider would be called for changed (dependency-only differences)."""
    entry = after or before
    assert entry is not None
    resource_type, name = entry["type"], entry["name"]
    kind = resource_type.rsplit(":", 1)[-1]
    if before is None:
        return Change("create", resource_type, name, (), "created", after=after)
    options = before.get("options") or {}
    protected, retained = bool(options.get("protect")), bool(options.get("retainOnDelete"))
    if after is None:
        consequence = sem.deleted(kind, before["inputs"])
        # The engine refuses a protected resource's delete before retainOnDelete matters
        # (pulumi/pulumi@v3.259.0:pkg/resource/deploy/step.go, DeleteStep.Apply), but only
        # after deleting what depends on it, and it continues past the refusal (pulumi
        # CHANGELOG 3.149, "Deployments continue past delete errors due to protect"): the
        # update fails, at its end.
        if protected:
            consequence = (
                "refused by protect (what depends on it is deleted first, and the update goes "
                f"on past it, then fails); {consequence} otherwise"
            )
        elif retained:
            consequence = (
                f"removed from the stack and left in place (retained): {consequence} otherwise"
            )
        return Change(
            "delete", resource_type, name, (), consequence, False, protected, retained, before
        )
    changed = _changed(before["inputs"], after["inputs"])
    if not changed:
        return None
    fields, delete_first = _replacement(resource_type, before, after, changed)
    if fields:
        return _replace(before, after, fields, delete_first)
    refused = sem.REFUSED_UPDATES.get(resource_type, {})
    paths = [p for f in changed for p in (_nested(before["inputs"], after["inputs"], f) or [f])]
    problems = [refused[p] for p in {*paths, *changed} if p in refused]
    notes = sem.UPDATE_NOTES.get(resource_type, {})
    effects = [notes[f] for f in changed if f in notes]
    consequence = "in place" + (f": {'; '.join(effects)}" if effects else "")
    if problems:
        consequence += f", but {'; '.join(sorted(problems))}"
    return Change(
        "update",
        resource_type,
        name,
        tuple(changed),
        consequence,
        protected=protected,
        before=before,
        after=after,
    )


def _references(value: Any, outputs: dict, path: str = "") -> set[str]:
    """Paths (``field`` and ``field.child``) of ``value`` whose strings name ``outputs``: equal
    to its name, or containing its ID or ARN (policy documents embed ARNs)."""
    if isinstance(value, dict):
        found = set()
        for key, item in value.items():
            inner = _references(item, outputs, f"{path}.{key}" if path else key)
            found |= inner
            if inner and path and "." not in path:
                found.add(path)
        return found
    if isinstance(value, list):
        return set().union(*(_references(item, outputs, path) for item in value))
    if not isinstance(value, str):
        return set()
    long_ids = [v for k, v in outputs.items() if k in ("id", "arn") and len(v) >= 8]
    if value == outputs.get("name") or any(v in value for v in long_ids):
        return {path} if path else set()
    return set()


def _cascade(found: dict[str, Change | None], before: dict, after: dict) -> None:
    """A replaced resource gets new outputs, unknown at preview, so every input that refers to
    them changes too. The engine hands those unknowns to the provider's diff
    (pulumi/pulumi@v3.259.0:pkg/resource/deploy/step_generator.go, allowUnknowns in preview), and
    an unknown in a replace-forcing input replaces that resource in turn. Offline IDs stay the
    same across a replacement, so the references are found through the outputs."""
    done: set[str] = set()
    while True:
        replaced = [
            u
            for u, c in found.items()
            if c and c.action == "replace" and u in after and u not in done
        ]
        if not replaced:
            return
        for cause in replaced:
            done.add(cause)
            outputs = after[cause].get("outputs") or {}
            if not outputs:
                continue
            label = f"{found[cause].kind} {found[cause].name}"
            for urn, entry in after.items():
                current = found.get(urn)
                if urn not in before or (current and current.action != "update"):
                    continue
                if cause not in ((entry.get("options") or {}).get("dependencies") or ()):
                    continue
                paths = _references(entry["inputs"], outputs)
                if not paths:
                    continue
                found[urn] = _follow(entry, before[urn], current, paths, label)


def _follow(entry: dict, before: dict, current: Change | None, paths: set[str], cause: str):
    resource_type = entry["type"]
    protected = bool((before.get("options") or {}).get("protect"))
    forced = tuple(sorted(p for p in paths if p in _forced(resource_type, entry)))
    if not forced:
        fields = tuple(sorted({*(current.fields if current else ()), *paths}))
        note = f"takes the new {cause}"
        consequence = f"{current.consequence}; {note}" if current else f"in place: {note}"
        return Change(
            "update",
            resource_type,
            entry["name"],
            fields,
            consequence,
            protected=protected,
            before=before,
            after=entry,
        )
    return _replace(
        before,
        entry,
        forced,
        _delete_first(resource_type, entry),
        f" (because {cause} is replaced)",
    )


def _replace(
    before: dict, after: dict, fields: tuple[str, ...], delete_first: bool, why: str = ""
) -> Change:
    resource_type, kind = after["type"], after["type"].rsplit(":", 1)[-1]
    options = before.get("options") or {}
    protected, retained = bool(options.get("protect")), bool(options.get("retainOnDelete"))
    if protected:
        consequence = "refused by protect: the update stops before anything is replaced"
    elif delete_first:
        consequence = (
            f"the old one goes first: {sem.deleted(kind, before['inputs'])}, then a new one"
        )
    else:
        consequence = "a new one first, then the old one is deleted"
    return Change(
        "replace",
        resource_type,
        after["name"],
        fields,
        consequence + why,
        delete_first,
        protected,
        retained,
        before,
        after,
    )


def changes(old: dict, new: dict) -> list[Change]:
    """Every change between two plan documents, creates first, then updates, replaces, deletes."""
    # Components only group their children: the provider is called for custom resources only.
    before = {r["urn"]: r for r in old["resources"] if r.get("custom", True)}
    after = {r["urn"]: r for r in new["resources"] if r.get("custom", True)}
    found = {
        urn: classify(before.get(urn), after.get(urn))
        for urn in sorted(before.keys() | after.keys())
    }
    _cascade(found, before, after)
    order = {"create": 0, "update": 1, "replace": 2, "delete": 3}
    return sorted((c for c in found.values() if c), key=lambda c: (order[c.action], c.type, c.name))
