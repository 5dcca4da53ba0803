"""Which stacks the deploy pipeline serves, and which are local.

A stack file in stacks/ is planned and tested whatever it holds (the offline plan job of the
pull-request workflow takes every file by itself). Deploying it needs wiring: a runner group in
.github/runners.yml that reaches its API server, and jobs in the workflows. The rule the tests
apply: a stack is a *pipeline stack* as soon as any of that wiring names it (a runner group's
``reaches``, or a workflow job's literal ``STACK``), and then it must be wired completely (a
deploy group, a deploy job, previews only outside production). A stack nothing names is *local*:
planned and tested like any other, deployed by hand until it is wired. So a new stack file never
fails the suite for missing pipeline entries, and half-done wiring always does.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from tools.offline import stack_names

ROOT = Path(__file__).resolve().parents[2]


def _named_by_runners() -> set[str]:
    groups = yaml.safe_load((ROOT / ".github" / "runners.yml").read_text())["groups"]
    return {stack for spec in groups.values() for stack in spec.get("reaches", {})}


def _named_by_workflows() -> set[str]:
    named = set()
    for path in sorted((ROOT / ".github" / "workflows").glob("*.yml")):
        for job in (yaml.safe_load(path.read_text()).get("jobs") or {}).values():
            stack = (job.get("env") or {}).get("STACK")
            if isinstance(stack, str) and "${{" not in stack:
                named.add(stack)
    return named


def pipeline_stacks() -> list[str]:
    """The stack files the pipeline is wired for, by the rule above."""
    return sorted((_named_by_runners() | _named_by_workflows()) & set(stack_names()))


def local_stacks() -> list[str]:
    return sorted(set(stack_names()) - set(pipeline_stacks()))
