"""Offline plan of the bootstrap program (``bootstrap/``): what it would register in one account,
judged by the same rules as the main program's plans.

    python -m tools.plan --project bootstrap example
"""

from __future__ import annotations

import re
import runpy
import sys
from pathlib import Path

from bootstrap.config import PROJECT
from policies import rules
from tools.offline import Plan, ProgramError, run_function
from tools.offline.stackfiles import ROOT, read_stack_file
from tools.report import count_lines, tree_lines, verdict_lines, verdicts

BOOTSTRAP = ROOT / "bootstrap"


def stack_file(stack: str) -> Path:
    return BOOTSTRAP / "stacks" / f"Pulumi.{stack}.yaml"


def run(stack: str, values: dict | None = None) -> Plan:
    """Run ``bootstrap/__main__.py`` under the mock engine with the stack's config."""
    if values is None:
        path = stack_file(stack)
        if not path.exists():
            raise FileNotFoundError(f"no stack file {path.relative_to(ROOT)}")
        values = read_stack_file(path)
    program = str(BOOTSTRAP / "__main__.py")
    # A bootstrap stack names its account (it has no admin roles to read it from), and the
    # program refuses credentials of another, so the offline run answers as that account.
    account = str(values.get(f"{PROJECT}:accountId", ""))
    return run_function(
        stack,
        values,
        lambda: runpy.run_path(program, run_name="__main__"),
        account=account if re.fullmatch(r"\d{12}", account) else None,
        caller_role="bootstrap-admin",
    )


def settings(plan: Plan) -> rules.Settings:
    """The bootstrap is the account's own production: protected, and its boundary policy is a
    ceiling the rules know by name."""
    names = frozenset(
        r.inputs["name"]
        for r in plan.of_type("aws:iam/policy:Policy")
        if r.parent.endswith("eks-pipeline-bootstrap:iam:Boundary::boundary")
    )
    return rules.Settings(
        environment=f"{PROJECT}-{plan.stack}",
        production=True,
        protect=True,
        boundary_policies=names,
    )


def main(stack: str) -> int:
    try:
        plan = run(stack)
    except (ProgramError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    results = verdicts(plan, settings(plan))
    failed = [v.name for v in results if v.failed and v.enforcement == "mandatory"]
    lines = [
        f"Bootstrap stack '{stack}': {len(plan)} resources, "
        f"{'FAILED' if failed else 'all mandatory rules pass'}",
        "",
        "Resources:",
        *tree_lines(plan),
        "",
        "Outputs:",
        *(f"  {k}: {v}" for k, v in sorted(plan.exports.items())),
        "",
        "Rules:",
        *verdict_lines(plan, results),
        "",
        "Counts:",
        *count_lines(plan),
    ]
    print("\n".join(lines))
    if failed:
        print(f"\nerror: mandatory rules violated: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0
