"""Offline plan: what ``pulumi preview`` would register, checked against the design rules,
without a cloud or credentials.

    python -m tools.plan dev                       # tree, storage classes, rule verdicts, counts
    python -m tools.plan prod --json plan.json     # the plan as data
    python -m tools.plan prod --render plans/prod  # Kubernetes YAML and policy JSON for review
    python -m tools.plan prod --diff base.json     # what changes against an older plan
    python -m tools.plan --project bootstrap example  # the bootstrap program (bootstrap/)
    python -m tools.plan acme --account 444455556666  # deploy account unlike the admins'

Runs the program under Pulumi's mock engine with the stack's config (Pulumi.yaml defaults merged
with stacks/Pulumi.<stack>.yaml) and evaluates policies/rules/, the same rules the CrossGuard
pack enforces. The plan runs where the stack deploys: in the account of its first admin role (or
``--account``), as that role, in its ``aws:region``. Exits 1 when the stack file or the config is
invalid (every problem listed, by file position or key), the program fails, or a mandatory rule
is violated.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import re
import sys
from pathlib import Path

from config import ConfigError, StackConfig
from tools import bootstrap_plan, review, transitions
from tools.offline import ProgramError, run_config, stack_config
from tools.offline.runner import typed_config
from tools.offline.stackfiles import StackFileError, read_stack_file
from tools.policy_config import settings_of
from tools.report import report_lines, verdicts

ACCOUNT = re.compile(r"^\d{12}$")


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
    parser.add_argument(
        "--account",
        metavar="ID",
        help="the AWS account the stack deploys to (default: the account of its first admin role)",
    )
    args = parser.parse_args(argv)
    if args.project == "bootstrap":
        return bootstrap_plan.main(args.stack)
    if args.account is not None and not ACCOUNT.match(args.account):
        parser.error(f"--account: {args.account!r} is not a 12-digit AWS account ID")
    if args.json and args.diff and args.json.resolve() == args.diff.resolve():
        # Writing first would overwrite the baseline and show every change as none.
        parser.error("--json and --diff name the same file: write the new plan elsewhere")
    # One short-lived run: the cyclic collector would only walk the SDK's live futures again and
    # again (see tools.offline.runner); the process exits before memory matters.
    gc.disable()

    try:
        baseline = read_baseline(args.diff, args.stack) if args.diff else None
        values = read_stack_file(args.stack_file) if args.stack_file else stack_config(args.stack)
        # Validate first: every problem is listed by key, before the program runs at all.
        cfg = typed_config(args.stack, values, offline=True)
        plan = run_config(args.stack, values, account=args.account)
        settings = settings_of(cfg)
    except (ProgramError, ConfigError, StackFileError, BaselineError, FileNotFoundError) as exc:
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
    if baseline is not None:
        print(f"\nChanges against {args.diff}:")
        lines, judgement = transitions.report(baseline, document, acknowledged(cfg))
        print("\n".join(lines))
        transitions_failed = bool(judgement.violations)

    failed = [v.name for v in results if v.failed and v.enforcement == "mandatory"]
    if failed:
        print(f"\nerror: mandatory rules violated: {', '.join(failed)}", file=sys.stderr)
    if transitions_failed:
        print("\nerror: transitions need acknowledgement (see above)", file=sys.stderr)
    return 1 if failed or transitions_failed else 0


class BaselineError(ValueError):
    """The ``--diff`` file is not a plan of this stack."""


def read_baseline(path: Path, stack: str) -> dict:
    """An older plan (``--json`` output) of ``stack``, checked before anything runs."""
    try:
        document = json.loads(path.read_text())
    except FileNotFoundError:
        raise BaselineError(f"--diff {path}: no such file (write one with --json)") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BaselineError(f"--diff {path}: not a plan written by --json ({exc})") from None
    if not isinstance(document, dict) or not isinstance(document.get("resources"), list):
        raise BaselineError(f"--diff {path}: not a plan written by --json (no resources list)")
    other = document.get("stack")
    if other != stack:
        raise BaselineError(
            f"--diff {path}: a plan of stack {other!r}, not {stack!r}: a diff across stacks "
            "would show every resource of both as a change"
        )
    return document


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
