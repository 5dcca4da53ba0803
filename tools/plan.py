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
from policies import rules
from tools import review
from tools.offline import Plan, ProgramError, run_config, stack_config
from tools.offline.stackfiles import read_stack_file
from tools.policy_config import settings_for

STORAGE_CLASS = "kubernetes:storage.k8s.io/v1:StorageClass"
DEFAULT_ANNOTATION = "storageclass.kubernetes.io/is-default-class"
SUMMARY_PARAMETERS = ("type", "iops", "throughput", "blockExpress", "kmsKeyId", "fileSystemId")


def tree_lines(plan: Plan) -> list[str]:
    children: dict[str, list] = {}
    for resource in plan:
        children.setdefault(resource.parent, []).append(resource)
    roots = [r for r in plan if r.parent not in plan.by_urn]
    lines: list[str] = []

    def walk(resource, depth: int) -> None:
        flags = [
            flag
            for flag, on in (
                ("protect", resource.protect),
                ("retain", resource.options["retainOnDelete"]),
            )
            if on
        ]
        suffix = f"  [{', '.join(flags)}]" if flags else ""
        lines.append(f"{'    ' * depth}+ {resource.type}  {resource.name}{suffix}")
        for child in sorted(children.get(resource.urn, []), key=lambda r: (r.type, r.name)):
            walk(child, depth + 1)

    for root in sorted(roots, key=lambda r: (r.type, r.name)):
        walk(root, 1)
    return lines


def count_lines(plan: Plan) -> list[str]:
    counts = plan.type_counts()
    width = max(len(t) for t in counts)
    return [f"  {t:<{width}}  {n:>4}" for t, n in sorted(counts.items())]


def storage_class_lines(plan: Plan) -> list[str]:
    """One line per StorageClass with what decides its SLA and its safety."""
    lines = []
    for r in sorted(plan.of_type(STORAGE_CLASS), key=lambda r: r.inputs["metadata"]["name"]):
        meta, inputs = r.inputs["metadata"], r.inputs
        default = (meta.get("annotations") or {}).get(DEFAULT_ANNOTATION) == "true"
        params = inputs.get("parameters") or {}
        shown = " ".join(f"{k}={params[k]}" for k in SUMMARY_PARAMETERS if k in params)
        lines.append(
            f"  {meta['name']:<24}{' (default)' if default else '':<11}"
            f"{inputs['provisioner']:<17} {inputs['volumeBindingMode']:<21} "
            f"reclaim={inputs['reclaimPolicy']:<7} "
            f"expand={str(inputs['allowVolumeExpansion']).lower()}"
            f"  {shown}"
        )
    return lines


def verdicts(plan: Plan, settings: rules.Settings) -> list[rules.Verdict]:
    subjects = [rules.Subject(r.type, r.name, r.urn, r.inputs, r.protect) for r in plan]
    return rules.evaluate(subjects, settings)


def verdict_lines(plan: Plan, results: list[rules.Verdict]) -> list[str]:
    lines = []
    for v in sorted(results, key=lambda v: (v.principle, v.name)):
        status = "PASS" if not v.failed else ("FAIL" if v.enforcement == "mandatory" else "WARN")
        count = f"  {len(v.violations)} violation(s)" if v.failed else ""
        lines.append(f"  {status}  {v.principle:<3} {v.name:<38} {v.enforcement:<9}{count}")
        for urn, message in v.violations:
            name = plan.by_urn[urn].name if urn in plan.by_urn else urn
            lines.append(f"          - {name}: {message}")
    return lines


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
