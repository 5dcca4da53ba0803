"""What `pulumi preview --json` prints, read into the engine's steps.

With PULUMI_ENABLE_STREAMING_JSON_PREVIEW the engine's events, one JSON object a line
(pulumi/pulumi@v3.259.0: pkg/backend/display/json.go ``ShowJSONEvents``;
sdk/go/common/apitype/events.go ``EngineEvent``, ``StepEventMetadata``); without it one
``PreviewDigest`` (pkg/display/json.go: ``steps`` of ``op``, ``oldState``/``newState``,
``replaceReasons``, ``detailedDiff``). With ``--refresh`` a ``refresh`` step whose outputs event
turns into ``update`` or ``delete`` is drift (json.go, ``ResourceOutputsEvent``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

COLOUR = re.compile(r"<\{%[^%]*%\}>")


STACK = "pulumi:pulumi:Stack"


@dataclass
class Preview:
    steps: list[dict] = field(default_factory=list)  # StepEventMetadata-shaped
    drift: dict[str, dict] = field(default_factory=dict)  # URN -> refreshed step metadata
    diagnostics: list[str] = field(default_factory=list)
    exports: tuple[dict, dict] = ({}, {})
    result: str = ""


def _state(step: dict, side: str) -> dict | None:
    """The old or new state of an event step or a digest step, in the event's shape."""
    if side in step:
        return step[side]
    return step.get(f"{side}State")


def _from_digest(digest: dict) -> Preview:
    preview = Preview(result="")
    for step in digest.get("steps") or []:
        detailed = step.get("detailedDiff") or {}
        preview.steps.append(
            {
                "op": step["op"],
                "urn": step["urn"],
                "old": _state(step, "old"),
                "new": _state(step, "new"),
                "keys": step.get("replaceReasons") or [],
                "diffs": step.get("diffReasons") or [],
                "detailedDiff": {k: {"diffKind": v.get("kind")} for k, v in detailed.items()},
            }
        )
    preview.diagnostics = [
        f"{d.get('severity', '')}: {COLOUR.sub('', d.get('message', '')).strip()}"
        for d in digest.get("diagnostics") or []
        if d.get("severity") in ("error", "warning")
    ]
    # The root stack's step is always in the digest (json.go, isRootStack): its outputs are
    # the stack's exports, which the setting rules compare.
    root = next((s for s in preview.steps if s["urn"].split("::")[-2] == STACK), None)
    if root:
        preview.exports = tuple(
            ((root.get(side) or {}).get("outputs") or {}) for side in ("old", "new")
        )
    return preview


def _from_events(events: list[dict]) -> Preview:
    preview = Preview()
    refreshed: set[str] = set()
    old_exports: dict = {}
    new_exports: dict = {}
    for event in events:
        if pre := event.get("resourcePreEvent"):
            step = pre["metadata"]
            if step["op"] == "refresh":
                refreshed.add(step["urn"])
            else:
                preview.steps.append(step)
        elif outputs := event.get("resOutputsEvent"):
            step = outputs["metadata"]
            if step["urn"] in refreshed and step["op"] in ("update", "delete"):
                preview.drift[step["urn"]] = step
            if step.get("type") == STACK:
                old_exports = (step.get("old") or {}).get("outputs") or old_exports
                new_exports = (step.get("new") or {}).get("outputs") or new_exports
        elif diag := event.get("diagnosticEvent"):
            if diag.get("severity") in ("error", "warning"):
                message = COLOUR.sub("", diag.get("message", "")).strip()
                preview.diagnostics.append(f"{diag['severity']}: {message}")
        elif policy := event.get("policyEvent"):
            preview.diagnostics.append(
                f"policy {policy.get('enforcementLevel', '')}: {policy.get('policyName', '')}: "
                f"{COLOUR.sub('', policy.get('message', '')).strip()}"
            )
        elif summary := event.get("summaryEvent"):
            preview.result = summary.get("result", "")
    preview.exports = (old_exports, new_exports)
    return preview


def read(text: str) -> Preview:
    """A PreviewDigest, or an event stream (JSON lines or one JSON array)."""
    stripped = text.strip()
    if stripped.startswith("{") and "\n{" not in stripped:
        document = json.loads(stripped)
        if "steps" in document or "changeSummary" in document:
            return _from_digest(document)
        return _from_events([document])
    if stripped.startswith("["):
        return _from_events(json.loads(stripped))
    return _from_events([json.loads(line) for line in stripped.splitlines() if line.strip()])
