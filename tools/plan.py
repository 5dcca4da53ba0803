"""Offline plan: what ``pulumi preview`` would register, without a cloud or credentials.

    python -m tools.plan dev                  # tree + per-type counts
    python -m tools.plan prod --json plan.json

Runs the program under Pulumi's mock engine with the stack's config (Pulumi.yaml defaults merged
with stacks/Pulumi.<stack>.yaml). Exits 1 when the config is invalid or the program fails.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
from pathlib import Path

from tools.offline import Plan, ProgramError, run_config, run_stack
from tools.offline.stackfiles import read_stack_file


def tree_lines(plan: Plan) -> list[str]:
    children: dict[str, list] = {}
    for resource in plan:
        children.setdefault(resource.parent, []).append(resource)
    roots = [r for r in plan if r.parent not in plan.by_urn]

    lines: list[str] = []

    def walk(resource, depth: int) -> None:
        flags = [
            f
            for f, on in (
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


STORAGE_CLASS = "kubernetes:storage.k8s.io/v1:StorageClass"
DEFAULT_ANNOTATION = "storageclass.kubernetes.io/is-default-class"
SUMMARY_PARAMETERS = ("type", "iops", "throughput", "blockExpress", "kmsKeyId", "fileSystemId")


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


def plan_document(plan: Plan) -> dict:
    """The plan as data: every resource with its options and inputs (secrets already masked)."""
    return {
        "stack": plan.stack,
        "resources": [
            {
                "urn": r.urn,
                "type": r.type,
                "name": r.name,
                "parent": r.parent,
                "custom": r.custom,
                "provider": r.provider_urn,
                "options": r.options,
                "inputs": r.inputs,
            }
            for r in sorted(plan, key=lambda r: r.urn)
        ],
        "exports": plan.exports,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.plan", description=__doc__.split("\n")[0]
    )
    parser.add_argument("stack", help="stack name: stacks/Pulumi.<stack>.yaml")
    parser.add_argument("--json", metavar="FILE", type=Path, help="write the plan as JSON")
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
        if args.stack_file:
            plan = run_config(args.stack, read_stack_file(args.stack_file))
        else:
            plan = run_stack(args.stack)
    except (ProgramError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1

    print(f"Plan of stack '{plan.stack}': {len(plan)} resources (offline, mock engine)")
    print("\n".join(tree_lines(plan)))
    classes = storage_class_lines(plan)
    if classes:
        print("\nStorage classes:")
        print("\n".join(classes))
    print("\nResources by type:")
    print("\n".join(count_lines(plan)))
    if args.json:
        args.json.write_text(json.dumps(plan_document(plan), indent=2, sort_keys=True) + "\n")
        print(f"\nPlan written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
