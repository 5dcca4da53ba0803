"""Offline plan: what ``pulumi preview`` would register, checked against the design rules,
without a cloud or credentials.

    python -m tools.plan dev                       # tree, storage classes, rule verdicts, counts
    python -m tools.plan prod --json plan.json     # the plan as data
    python -m tools.plan prod --render plans/prod  # Kubernetes YAML and policy JSON for review
    python -m tools.plan prod --diff base.json     # what changes against an older plan
    python -m tools.plan --project bootstrap example  # the bootstrap program (bootstrap/)

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

from config import ConfigError, StackConfig
from tools import bootstrap_plan, review, transitions
from tools.offline import ProgramError, run_config, stack_config
from tools.offline.runner import typed_config
from tools.offline.stackfiles import read_stack_file
from tools.policy_config import settings_of
from tools.report import report_lines, verdicts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.plan", description=__doc__.split("\n")[0]
    )
    parser.add_argument("stack", help="stack name: stacks/Pulumi.<stack>.yaml")
    parser.add_argument(
        "--project",
        choices=("main", "bootstrap"),
        default="main",
        help="bootstrap: plan bootstrap/stacks/Pulumi.<stack>.yaml (tree and rule verdicts only)",
    )
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
    if args.project == "bootstrap":
        return bootstrap_plan.main(args.stack)
    # One short-lived run: the cyclic collector would only walk the SDK's live futures again and
    # again (see tools.offline.runner); the process exits before memory matters.
    gc.disable()

    try:
        values = read_stack_file(args.stack_file) if args.stack_file else stack_config(args.stack)
        plan = run_config(args.stack, values)
        cfg = typed_config(args.stack, values)
        settings = settings_of(cfg)
    except (ProgramError, ConfigError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1

    results = verdicts(plan, settings)
    print("\n".join(report_lines(plan, cfg, settings, results)))

    document = plan.document()
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")
        print(f"\nPlan written to {args.json}")
    if args.render:
        written = review.render(plan, args.render)
        print(f"Review artefacts: {len(written)} files under {args.render}")
    transitions_failed = False
    if args.diff:
        print(f"\nChanges against {args.diff}:")
        lines, judgement = transitions.report(
            json.loads(args.diff.read_text()), document, acknowledged(cfg)
        )
        print("\n".join(lines))
        transitions_failed = bool(judgement.violations)

    failed = [v.name for v in results if v.failed and v.enforcement == "mandatory"]
    if failed:
        print(f"\nerror: mandatory rules violated: {', '.join(failed)}", file=sys.stderr)
    if transitions_failed:
        print("\nerror: transitions need acknowledgement (see above)", file=sys.stderr)
    return 1 if failed or transitions_failed else 0


def acknowledged(cfg: StackConfig) -> transitions.Acknowledged:
    ack = cfg.acknowledge
    if ack is None:
        return transitions.Acknowledged()
    return transitions.Acknowledged(
        deletes=frozenset(ack.deletes),
        replacements=frozenset(ack.replacements),
        snapshot_policies=frozenset(ack.snapshot_policies),
        settings=frozenset(ack.settings),
    )


if __name__ == "__main__":
    status = main()
    sys.stdout.flush()
    sys.stderr.flush()
    # Skip interpreter teardown: freeing a large plan's millions of objects one by one took
    # longer than a third of the whole run, and everything the plan writes is already closed.
    os._exit(status)
