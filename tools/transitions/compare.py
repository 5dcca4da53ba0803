"""Where the offline diff and a real preview disagree: a resource one of them changes and the
other does not, or changes another way, and a transition one of them judges and the other does
not. The engine is right about what it will do; the offline model is what a pull request from a
fork, or a production stack planned without credentials, is judged by, so a disagreement is a
defect of the model to be reported."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tools.transitions.changes import Change
    from tools.transitions.rules import Judgement


def _mark(change: Change | None) -> str:
    if change is None:
        return "no change"
    return "replace (delete first)" if change.delete_first else change.action


def differences(
    offline: list[Change], offline_judgement: Judgement, engine: list[Change], judgement: Judgement
) -> list[str]:
    by_offline = {(c.type, c.name): c for c in offline}
    by_engine = {(c.type, c.name): c for c in engine}
    lines = []
    for key in sorted(by_offline.keys() | by_engine.keys()):
        marks = _mark(by_offline.get(key)), _mark(by_engine.get(key))
        if marks[0] != marks[1]:
            lines.append(f"  - {key[0]} {key[1]}: offline {marks[0]}, engine {marks[1]}")
    subjects = [
        {(v.subject, v.key) for v in j.violations + j.accepted}
        for j in (offline_judgement, judgement)
    ]
    for subject, key in sorted(subjects[0] - subjects[1]):
        lines.append(f"  - rules: offline only: {subject} ({key or 'refused'})")
    for subject, key in sorted(subjects[1] - subjects[0]):
        lines.append(f"  - rules: engine only: {subject} ({key or 'refused'})")
    if not lines:
        return ["The offline diff and the engine agree on every change and every verdict."]
    return ["The offline diff and the engine DIFFER (the engine is what `up` does):", *lines]
