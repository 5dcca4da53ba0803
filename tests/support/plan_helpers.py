"""Reading a plan: the typed config and AWS context of a stack, refusals, policy documents."""

from __future__ import annotations

import json
from typing import Any

import pytest

from config import PROJECT, StackConfig
from design.aws import AwsContext
from tools.offline import Plan, ProgramError, Resource, run_config, stack_config
from tools.offline.runner import typed_config
from tools.offline.stackfiles import merged_config
from tools.offline.target import target_of


def aws_of(stack: str) -> AwsContext:
    """Where a stack plans offline (its own partition, region and account): what ARNs and
    endpoints in its plan are expected to name, whatever stack file it is."""
    target = target_of(merged_config(stack_config(stack)), PROJECT)
    return AwsContext(
        partition=target.partition, region=target.region, account_id=target.account_id
    )


def typed(stack: str) -> StackConfig:
    """A stack's validated config, defaults filled in: expectations read from it hold for any
    stack file, where the raw file would lack every key left at its default."""
    return typed_config(stack, stack_config(stack))


def rejected(stack: str, values: dict[str, Any], named: str) -> str:
    """Run the program with a bad config: it must stop before registering anything, with a
    problem listed under ``named``; returns that problem's line."""
    with pytest.raises(ProgramError) as failure:
        run_config(stack, values)
    assert failure.value.registered == 0
    message = str(failure.value)
    line = next((ln for ln in message.splitlines() if f"eks-config-storage:{named}:" in ln), None)
    assert line is not None, message
    return line


def doc(resource: Resource, key: str = "policy") -> dict:
    """A JSON document input (policy, trust policy) of a recorded resource, parsed."""
    return json.loads(resource.inputs[key])


def statement(document: dict, sid: str) -> dict:
    matches = [s for s in document["Statement"] if s.get("Sid") == sid]
    assert len(matches) == 1, f"expected one statement {sid}, found {len(matches)}"
    return matches[0]


def as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def private_subnet_ids(plan: Plan) -> list[str]:
    """The private subnets the stack runs in (created or adopted), one per zone; checked against
    the created subnets when the stack makes its own VPC."""
    exported = sorted(plan.exports["privateSubnetIds"].values())
    created = [r for r in plan.of_type("aws:ec2/subnet:Subnet") if "-private-" in r.name]
    if created:
        assert exported == sorted(r.outputs["id"] for r in created)
    return exported


# Resource types (and a type prefix) that several files look up in a plan.
CRONJOB = "kubernetes:batch/v1:CronJob"
VAP = "kubernetes:admissionregistration.k8s.io/v1"
