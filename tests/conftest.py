"""Shared fixtures: each stack file is planned once per session under the mock engine."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from config import PROJECT, StackConfig
from design.aws import AwsContext
from tests.kube_harness import ScriptBin
from tests.snapshot_harness import IMAGE_SHELL, SHELLS, Harness
from tools.offline import (
    Plan,
    ProgramError,
    Resource,
    run_config,
    run_stack,
    stack_config,
    stack_names,
)
from tools.offline.runner import typed_config
from tools.offline.stackfiles import merged_config
from tools.offline.target import target_of

STACKS = stack_names()
# The shipped example stacks: tests that check their particular values (names, counts, the
# prod classes) take ``example_plan``/``example_plans``; everything else takes ``plan`` and
# judges what holds for any stack file added to stacks/, from that stack's own config.
EXAMPLES = [stack for stack in ("dev", "prod") if stack in STACKS]


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "new_stack: plans a generated stack file in a copy of the tree (tests/test_new_stack.py)",
    )


settings.register_profile(
    "project", deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
settings.load_profile("project")


# The smallest valid config, for tests of the pure loader (decoded values, no namespace).
MINIMAL: dict[str, Any] = {
    "adminRoleArns": ["arn:aws:iam::123456789012:role/admin"],
    "nodeGroups": [
        {"name": "a", "instanceTypes": ["m6i.large"], "minSize": 1, "maxSize": 1, "desiredSize": 1}
    ],
    "externalSecrets": {"chartVersion": "0.20.4"},
    "sealedSecrets": {"chartVersion": "2.17.3"},
    "endpoint": {"publicAccess": True, "publicAccessCidrs": ["198.51.100.10/32"]},
}


@pytest.fixture(scope="session")
def plans() -> dict[str, Plan]:
    return {stack: run_stack(stack) for stack in STACKS}


@pytest.fixture(params=STACKS)
def plan(request, plans) -> Plan:
    return plans[request.param]


@pytest.fixture(scope="session")
def example_plans(plans) -> dict[str, Plan]:
    return {stack: plans[stack] for stack in EXAMPLES}


@pytest.fixture(params=EXAMPLES)
def example_plan(request, plans) -> Plan:
    return plans[request.param]


@pytest.fixture
def dev_values() -> dict[str, Any]:
    """A fresh, mutable copy of the dev stack's config for tests that break it."""
    return copy.deepcopy(stack_config("dev"))


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


@pytest.fixture(params=SHELLS)
def kube(request, tmp_path) -> Harness:
    """The snapshot rotation script under one of the installed shells, against a fake kubectl."""
    return Harness(tmp_path, request.param)


@pytest.fixture(params=IMAGE_SHELL)
def kube_image(request, tmp_path) -> Harness:
    """The script under the image's own shell (busybox ash, else dash): property tests draw
    many examples, each a few dozen kubectl calls, so they run under one shell; the example
    tests run under every shell."""
    return Harness(tmp_path, request.param)


@pytest.fixture(params=SHELLS)
def script_bin(request, tmp_path) -> ScriptBin:
    """Any script of jobs/ under one of the installed shells, against a fake
    kubectl, with a simulated clock."""
    return ScriptBin(tmp_path, request.param)


@pytest.fixture(params=IMAGE_SHELL)
def script_bin_image(request, tmp_path) -> ScriptBin:
    """As ``script_bin``, under the image's own shell only: for property tests."""
    return ScriptBin(tmp_path, request.param)
