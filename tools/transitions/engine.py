"""A real preview's own steps, judged by the same transition rules as the offline diff.

    PULUMI_ENABLE_STREAMING_JSON_PREVIEW=true pulumi preview --json ... > preview.json
    python -m tools.transitions.engine STACK preview.json [--offline BASE.json HEAD.json]

Reads what ``pulumi preview --json`` prints (tools.transitions.preview_json). A replacement is
one resource's ``create-replacement``, ``replace`` and ``delete-replaced`` steps; the old one
goes first when ``delete-replaced`` comes before ``create-replacement`` (pulumi/pulumi@v3.259.0:
pkg/resource/deploy/step_generator.go).

The acknowledgements are the stack file's, so the same key accepts the same transition offline
and here. ``--offline`` names the offline plans of the base and the head: where the offline diff
marks a resource otherwise, or its rules find otherwise, the report says so.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

from tools import transitions
from tools.transitions import compare, guards, runtime
from tools.transitions import semantics as sem
from tools.transitions.changes import Change, _replace
from tools.transitions.changes import classify as classify_offline
from tools.transitions.preview_json import Preview, read

REPLACE_OPS = ("create-replacement", "replace", "delete-replaced")


def entry(state: dict | None) -> dict | None:
    """A step's state as a plan document entry, which the rules read."""
    if state is None:
        return None
    return {
        "urn": state["urn"],
        "type": state["type"],
        "name": state["urn"].rsplit("::", 1)[-1],
        "custom": state.get("custom", True),
        "inputs": state.get("inputs") or {},
        "outputs": state.get("outputs") or {},
        "options": {
            "protect": bool(state.get("protect")),
            "retainOnDelete": bool(state.get("retainOnDelete")),
        },
    }


def _managed(step: dict) -> bool:
    state = step.get("new") or step.get("old") or {}
    return not state.get("type", step.get("type", "")).startswith("pulumi:")


def _groups(steps: list[dict]) -> dict[str, list[dict]]:
    """Each resource's steps in order; a ``delete-replaced`` under an old (aliased) URN joins the
    replacement that took it over."""
    taken_over = {
        (s.get("old") or {}).get("urn"): s["urn"] for s in steps if s["op"] in REPLACE_OPS[:2]
    }
    groups: dict[str, list[dict]] = {}
    for step in steps:
        if not _managed(step):
            continue
        key = (
            taken_over.get(step["urn"], step["urn"])
            if step["op"] == REPLACE_OPS[2]
            else step["urn"]
        )
        groups.setdefault(key, []).append(step)
    return groups


def _fields(step: dict) -> tuple[str, ...]:
    paths = step.get("keys") or step.get("diffs") or list(step.get("detailedDiff") or {})
    return tuple(sorted({re.split(r"[.\[]", p, maxsplit=1)[0] for p in paths}))


def _update(before: dict, after: dict, fields: tuple[str, ...]) -> Change:
    notes = sem.UPDATE_NOTES.get(after["type"], {})
    effects = [notes[f] for f in fields if f in notes]
    refused = sem.REFUSED_UPDATES.get(after["type"], {})
    problems = sorted(refused[f] for f in fields if f in refused)
    consequence = "in place" + (f": {'; '.join(effects)}" if effects else "")
    if problems:
        consequence += f", but {'; '.join(problems)}"
    return Change(
        "update",
        after["type"],
        after["name"],
        fields,
        consequence,
        protected=before["options"]["protect"],
        before=before,
        after=after,
    )


def classify(steps: list[dict]) -> Change | None:
    """One resource's change as the engine will make it."""
    ops = [s["op"] for s in steps]
    first = steps[0]
    before = entry(next((s.get("old") for s in steps if s.get("old")), None))
    after = entry(next((s.get("new") for s in steps if s.get("new")), None))
    if "replace" in ops or "create-replacement" in ops:
        step = steps[ops.index("replace" if "replace" in ops else "create-replacement")]
        delete_first = "delete-replaced" in ops and ops.index("delete-replaced") < ops.index(
            "create-replacement" if "create-replacement" in ops else "replace"
        )
        fields = _fields(step) or ("(provider)",)
        return _replace(before, after, fields, delete_first)
    if first["op"] in ("create", "import"):
        return Change("create", after["type"], after["name"], (), "created", after=after)
    if first["op"] == "update":
        return _update(before, after, _fields(first))
    if first["op"] == "discard":
        return Change(
            "delete",
            before["type"],
            before["name"],
            (),
            "removed from the stack and left in place (it was only read)",
            retained=True,
            before=before,
        )
    if first["op"] in ("delete", "delete-replaced"):
        return classify_offline(before, None)
    return None


def documents(preview: Preview) -> tuple[dict, dict]:
    """The stack before and after, as plan documents: every resource the preview touched."""
    old, new = [], []
    for step in preview.steps:
        if not _managed(step):
            continue
        if (state := entry(step.get("old"))) and state["urn"] not in {r["urn"] for r in old}:
            old.append(state)
        state = entry(step.get("new")) if step["op"] != "delete-replaced" else None
        if state and state["urn"] not in {r["urn"] for r in new}:
            new.append(state)
    return (
        {"resources": old, "exports": preview.exports[0]},
        {"resources": new, "exports": preview.exports[1]},
    )


def judged(preview: Preview, accepted: transitions.Acknowledged):
    old, new = documents(preview)
    found = [c for group in _groups(preview.steps).values() if (c := classify(group))]
    order = {"create": 0, "update": 1, "replace": 2, "delete": 3}
    found = runtime.annotate(
        sorted(found, key=lambda c: (order[c.action], c.type, c.name)), old, new
    )
    extra = [*guards.rules(old, new, found), _provider_rules(preview.steps)]
    judgement = transitions.judge(old, new, found, accepted, extra)
    return found, judgement


def _provider_rules(steps: list[dict]):
    """A default provider whose ``region`` changes: the engine replaces every resource it
    manages (tools.transitions.provider); the preview shows it as the provider's own step."""
    for step in steps:
        state = step.get("new") or step.get("old") or {}
        moved = "region" in (step.get("diffs") or []) + (step.get("keys") or [])
        if state.get("type", "").startswith("pulumi:providers:aws") and moved:
            regions = [
                ((step.get(s) or {}).get("inputs") or {}).get("region") for s in ("old", "new")
            ]
            yield (
                transitions.Violation(
                    "region",
                    f"{regions[0]} -> {regions[1]}: every regional resource is replaced; build a "
                    "new stack and migrate",
                    "acknowledge.settings",
                ),
                "settings",
                "region",
            )
            return


def drift_lines(preview: Preview) -> list[str]:
    lines = []
    for urn, step in sorted(preview.drift.items()):
        name = urn.rsplit("::", 1)[-1]
        if step["op"] == "delete":
            lines.append(
                f"  - {name}: gone from the cloud; the state forgets it and `up` creates it"
            )
        else:
            changed = ", ".join(_fields(step)) or "outputs"
            lines.append(f"  - {name} ({changed}): changed outside Pulumi; `up` sets it back")
    return lines


def report(
    preview: Preview, accepted: transitions.Acknowledged, offline=None
) -> tuple[list, object]:
    """The judged preview as text; ``offline`` is the offline diff's (changes, judgement)."""
    found, judgement = judged(preview, accepted)
    lines = ["The engine's preview, judged by the transition rules:"]
    lines += transitions.render(found, judgement, [])
    if drift := drift_lines(preview):
        lines += ["", "Drift found by --refresh (the state is refreshed before the plan):", *drift]
    if offline is not None:
        lines += ["", *compare.differences(offline[0], offline[1], found, judgement)]
    if preview.diagnostics:
        lines += ["", "Engine diagnostics:", *(f"  {d}" for d in preview.diagnostics)]
    return lines, judgement


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.transitions.engine", description=__doc__.split("\n")[0]
    )
    parser.add_argument("stack", help="stack name: stacks/Pulumi.<stack>.yaml (its acknowledge)")
    parser.add_argument("preview", type=Path, help="what `pulumi preview --json` printed")
    parser.add_argument(
        "--offline", nargs=2, type=Path, metavar=("BASE", "HEAD"), help="offline plan JSONs"
    )
    parser.add_argument("--stack-file", type=Path, help="the stack's config from this file")
    args = parser.parse_args(argv)
    from tools.offline import stack_config  # noqa: PLC0415 -- the program's imports are heavy
    from tools.offline.runner import typed_config  # noqa: PLC0415
    from tools.offline.stackfiles import read_stack_file  # noqa: PLC0415
    from tools.plan import acknowledged  # noqa: PLC0415

    values = read_stack_file(args.stack_file) if args.stack_file else stack_config(args.stack)
    accepted = acknowledged(typed_config(args.stack, values))
    offline = None
    if args.offline and all(p.exists() for p in args.offline):
        base, head = (json.loads(p.read_text()) for p in args.offline)
        found = transitions.changes(base, head)
        offline = (
            found,
            transitions.judge(base, head, found, accepted, guards.rules(base, head, found)),
        )
    lines, judgement = report(read(args.preview.read_text()), accepted, offline)
    if args.offline and offline is None:
        lines += ["", "No offline plans of base and head to compare with (see the offline plan)."]
    print("\n".join(lines))
    return 1 if judgement.violations else 0


if __name__ == "__main__":
    sys.exit(main())
