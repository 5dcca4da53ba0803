"""What a saved update plan proposes, and whether a later preview proposes exactly the same.

    python -m tools.pipeline.plan_file summary plan.json           # Markdown for the run summary
    python -m tools.pipeline.plan_file compare approved.json now.json

A plan file is what `pulumi preview --save-plan` writes: a DeploymentPlanV1, i.e. `resourcePlans`
keyed by URN, each with the `steps` the preview proposed and a `goal` whose `inputDiff` holds the
input properties it adds, deletes and updates (pulumi/pulumi@v3.259.0:
sdk/go/common/apitype/plan.go:26-100, pkg/cmd/pulumi/plan/plan.go:15-30).

Why compare instead of `pulumi up --plan` (an [EXPERIMENTAL] flag: pkg/cmd/pulumi/operations/
up.go:943-951): the CLI checks an update against a plan's *outputs* as well as its steps
(pkg/resource/deploy/step_executor.go:270-279, plan.go:373-430), and a Kubernetes object's
outputs differ between the preview's dry run and the write ("these values will likely be
different in dry-run mode from when the real request is made": uid, creationTimestamp,
resourceVersion; kubernetes/website content/en/docs/reference/using-api/api-concepts.md,
"Generated values"). That check would fail after the first objects were written. The steps and
the input changes, which are what the approver reviewed, are compared here before anything is
written.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

# A serialized secret is {Key: Secret, "ciphertext": ...} (pulumi/pulumi@v3.259.0:
# sdk/go/common/resource/sig/sig.go:21-24).
SIG_KEY = "4dabf18193072939515e22adb298388d"
SIG_SECRET = "1b47061264138c4ac30d75fd1eb44270"
SECRET = "[secret]"
# A resource that is created, or replaced by a new one, gets its generated names from a random
# seed that every preview draws anew unless `up --plan` feeds it the saved one
# (pulumi/pulumi@v3.259.0: pkg/resource/deploy/step_generator.go:1085-1100). Two previews of one
# program differ there, so for such resources only which inputs are set is compared: their values
# come from the reviewed program and config, and nothing old can have drifted.
NEW_OBJECT_STEPS = {"create", "replace", "create-replacement"}


def normalise(value: Any) -> Any:
    """Secrets become one marker: their ciphertext changes with every encryption."""
    if isinstance(value, dict):
        if value.get(SIG_KEY) == SIG_SECRET:
            return SECRET
        return {k: normalise(v) for k, v in value.items()}
    if isinstance(value, list):
        return [normalise(v) for v in value]
    return value


def proposal(plan: dict) -> dict[str, dict]:
    """Per URN: the steps and the input changes, which are what a reviewer approves."""
    result = {}
    for urn, resource_plan in (plan.get("resourcePlans") or {}).items():
        goal = resource_plan.get("goal") or {}
        diff = goal.get("inputDiff") or {}
        steps = list(resource_plan.get("steps") or [])
        adds, updates = normalise(diff.get("adds") or {}), normalise(diff.get("updates") or {})
        if NEW_OBJECT_STEPS & set(steps):
            adds, updates = sorted(adds), sorted(updates)
        result[urn] = {
            "steps": steps,
            "adds": adds,
            "deletes": sorted(diff.get("deletes") or []),
            "updates": updates,
            "protect": bool(goal.get("protect", False)),
            "delete": resource_plan.get("goal") is None,
        }
    return result


def type_and_name(urn: str) -> tuple[str, str]:
    parts = urn.split("::")
    return parts[-2].split("$")[-1], parts[-1]


def changes(plan: dict) -> list[tuple[str, str, str, list[str]]]:
    """(steps, type, name, changed input keys) of every resource that is not left alone."""
    rows = []
    for urn, p in sorted(proposal(plan).items()):
        if all(step == "same" for step in p["steps"]):
            continue
        keys = sorted({*p["adds"], *p["deletes"], *p["updates"]})
        rows.append((", ".join(p["steps"]) or "-", *type_and_name(urn), keys))
    return rows


def summary(plan: dict) -> str:
    rows = changes(plan)
    total = len(plan.get("resourcePlans") or {})
    lines = [f"{len(rows)} of {total} resources change.", ""]
    if rows:
        lines += ["| Steps | Type | Name | Inputs that change |", "|---|---|---|---|"]
        for steps, kind, name, keys in rows:
            shown = ", ".join(f"`{k}`" for k in keys[:12]) + (" ..." if len(keys) > 12 else "")
            lines.append(f"| {steps} | `{kind}` | `{name}` | {shown} |")
    return "\n".join(lines) + "\n"


def differences(approved: dict, current: dict) -> list[str]:
    """Every way the current preview's proposal differs from the approved one."""
    old, new = proposal(approved), proposal(current)
    found = [
        f"not in the approved plan: {urn} ({', '.join(new[urn]['steps'])})"
        for urn in sorted(new.keys() - old.keys())
    ]
    found += [f"approved but no longer proposed: {urn}" for urn in sorted(old.keys() - new.keys())]
    for urn in sorted(old.keys() & new.keys()):
        for field in ("steps", "adds", "deletes", "updates", "protect", "delete"):
            was, now = (json.dumps(p[urn][field], sort_keys=True) for p in (old, new))
            if was != now:
                found.append(f"{urn}: {field} approved {was}, now {now}")
    return found


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) == 2 and args[0] == "summary":
        print(summary(json.loads(Path(args[1]).read_text())), end="")
        return 0
    if len(args) == 3 and args[0] == "compare":
        approved, current = (json.loads(Path(a).read_text()) for a in args[1:])
        found = differences(approved, current)
        if found:
            print("The preview differs from the approved plan; nothing was applied:")
            print("\n".join(f"  {line}" for line in found))
            return 1
        count = len(proposal(current))
        print(f"The preview proposes exactly the approved plan ({count} resources).")
        return 0
    print(
        "usage: python -m tools.pipeline.plan_file summary PLAN | compare APPROVED CURRENT",
        file=sys.stderr,
    )
    return 2


if __name__ == "__main__":
    sys.exit(main())
