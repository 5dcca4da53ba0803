"""Shared fixtures: each stack file is planned once per session under the mock engine."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from tests.support.kube_harness import ScriptBin
from tests.support.snapshot_harness import IMAGE_SHELL, SHELLS, Harness
from tools.offline import (
    Plan,
    run_stack,
    stack_config,
    stack_names,
)

STACKS = stack_names()
# The shipped example stacks: tests that check their particular values (names, counts, the
# prod classes) take ``example_plan``/``example_plans``; everything else takes ``plan`` and
# judges what holds for any stack file added to stacks/, from that stack's own config.
EXAMPLES = [stack for stack in ("dev", "prod") if stack in STACKS]


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "new_stack: plans a generated stack file in a copy of the tree"
        " (tests/program/test_new_stack.py)",
    )


settings.register_profile(
    "project", deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
settings.load_profile("project")


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
