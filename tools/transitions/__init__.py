"""The plan judges the transition, not only the result: ``--diff BASE.json`` marks every resource
as created, updated in place, replaced (and whether the old one goes first) or deleted, with its
consequence, and fails on transitions that lose data, backups or the cluster unless the head
config acknowledges them. A real preview's own steps are judged by the same rules
(tools.transitions.engine)."""

from __future__ import annotations

from tools.transitions import guards, provider
from tools.transitions.changes import Change, changes
from tools.transitions.rules import Acknowledged, Judgement, Violation, judge

__all__ = [
    "Acknowledged",
    "Change",
    "Judgement",
    "Violation",
    "changes",
    "judge",
    "render",
    "report",
]


def report(old: dict, new: dict, accepted: Acknowledged) -> tuple[list[str], Judgement]:
    """The diff's lines and the transition rules' verdict."""
    found = changes(old, new)
    judgement = judge(old, new, found, accepted, guards.rules(old, new, found))
    return render(found, judgement, provider.resolved_at_up(new)), judgement


def render(found: list[Change], judgement: Judgement, resolved: list[str]) -> list[str]:
    """The marked changes, their counts and the verdict, for the offline diff and a real
    preview alike."""
    lines = [c.line() for c in found]
    counts = {
        a: sum(c.action == a for c in found) for a in ("create", "update", "replace", "delete")
    }
    lines.append(
        f"{counts['create']} to create, {counts['update']} to update in place, "
        f"{counts['replace']} to replace, {counts['delete']} to delete"
    )
    if resolved:
        lines.append("Resolved at `up`, not by this plan (the offline answer is shown):")
        lines += resolved
    lines.append("")
    if judgement.violations:
        lines.append(
            f"Transition rules: {len(judgement.violations)} change(s) need acknowledgement"
        )
        lines += [v.line() for v in judgement.violations]
    else:
        lines.append("Transition rules: PASS")
    if judgement.accepted:
        lines.append("Acknowledged in this change:")
        lines += [v.line() for v in judgement.accepted]
    if judgement.unused:
        lines.append("Acknowledgements that match nothing in this change (remove them):")
        lines += [f"  - {u}" for u in judgement.unused]
    return lines
