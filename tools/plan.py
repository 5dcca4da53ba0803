"""Offline plan: what ``pulumi preview`` would register, checked against the design rules,
without a cloud or credentials.

    python -m tools.plan dev                       # tree, storage classes, rule verdicts, counts
    python -m tools.plan prod --json plan.json     # the plan as data
    python -m tools.plan prod --render plans/prod  # Kubernetes YAML and policy JSON for review
    python -m tools.plan prod --diff base.json     # what changes against an older plan

Runs the program under Pulumi's mock engine with the stack's config (Pulumi.yaml defaults merged
with stacks/Pulumi.<stack>.yaml) and evaluates policies/rules/, the same rules the CrossGuard
pack enforces. Exits 1 when the config is invalid, the program fails, or a mandatory rule is
violated.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
from pathlib import Path

from config import ConfigError
from tools import review
from tools.offline import ProgramError, run_config, stack_config
from tools.offline.stackfiles import read_stack_file
from tools.policy_config import settings_for
from tools.report import (
    count_lines,
    reach_lines,
    storage_class_lines,
    tree_lines,
    verdict_lines,
    verdicts,
    version_lines,
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.plan", description=__doc__.split("\n")[0]
    )
    parser.add_argument("stack", help="stack name: stacks/Pulumi.<stack>.yaml")
    parser.add_argument("--json", metavar="FILE", type=Path, help="write the plan as JSON")
    parser.add_argument("--render", metavar="DIR", type=Path, help="write review artefacts")
    parser.add_argument("--diff", metavar="OLD", type=Path, help="compare with an older plan JSON")
    parser.add_argument(
        "--stack-file",
        metavar="FILE",
        type=Path,
        help="read the stack's config from FILE instead of stacks/Pulumi.<stack>.yaml",
    )
    args = parser.parse_args(argv)
    # One short-lived run: the cyclic collector would only walk the SDK's live futures again and
    # again (see tools.offline.runner); the process exits before memory matters.
    gc.disable()

    try:
        values = read_stack_file(args.stack_file) if args.stack_file else stack_config(args.stack)
        plan = run_config(args.stack, values)
        settings = settings_for(args.stack, values)
    except (ProgramError, ConfigError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1

    print(f"Plan of stack '{plan.stack}': {len(plan)} resources (offline, mock engine)")
    print("\n".join(tree_lines(plan)))
    print("\nAPI server reachable from:")
    print("\n".join(reach_lines(plan)))
    print("\nVersion:")
    print("\n".join(version_lines(plan)))
    classes = storage_class_lines(plan)
    if classes:
        print("\nStorage classes:")
        print("\n".join(classes))
    results = verdicts(plan, settings)
    print(
        f"\nDesign rules (environment={settings.environment}, production="
        f"{str(settings.production).lower()}, protect={str(settings.protect).lower()}):"
    )
    print("\n".join(verdict_lines(plan, results)))
    print("\nResources by type:")
    print("\n".join(count_lines(plan)))

    document = plan.document()
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")
        print(f"\nPlan written to {args.json}")
    if args.render:
        written = review.render(plan, args.render)
        print(f"Review artefacts: {len(written)} files under {args.render}")
    if args.diff:
        print(f"\nChanges against {args.diff}:")
        print("\n".join(review.diff(json.loads(args.diff.read_text()), document)))

    failed = [v.name for v in results if v.failed and v.enforcement == "mandatory"]
    if failed:
        print(f"\nerror: mandatory rules violated: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    status = main()
    sys.stdout.flush()
    sys.stderr.flush()
    # Skip interpreter teardown: freeing a large plan's millions of objects one by one took
    # longer than a third of the whole run, and everything the plan writes is already closed.
    os._exit(status)
