"""policies/rules/configuration.py, no secret in plain configuration: ConfigMaps, literal env
values, Secret data. For every rule a compliant and a violating case."""

from __future__ import annotations

import pytest

from policies.rules import configuration
from tests.support.rule_subjects import (
    DEV,
    assert_resource_cases,
    deployment,
    k8s,
)

# rule name -> (settings, compliant subjects, violating subjects, expected text in a violation)
CASES = {
    "configmap-no-secrets": (
        DEV,
        [k8s("ConfigMap", "core/v1", {"data": {"LOG_LEVEL": "info"}})],
        [
            k8s("ConfigMap", "core/v1", {"data": {"DB_PASSWORD": "x"}}),
        ],
        "looks like a secret",
    ),
    "env-no-literal-secrets": (
        DEV,
        [
            deployment(
                env=[{"name": "LOG_LEVEL", "value": "info"}, {"name": "API_TOKEN", "valueFrom": {}}]
            )
        ],
        [
            deployment(env=[{"name": "API_TOKEN", "value": "abc"}]),
        ],
        "literal secret",
    ),
    "no-secret-data": (
        DEV,
        [k8s("Secret", "core/v1", {"type": "Opaque"})],
        [
            k8s("Secret", "core/v1", {"data": {"a": "YQ=="}}),
            k8s("Secret", "core/v1", {"stringData": {"a": "a"}}),
        ],
        "Secret with data",
    ),
}


def test_every_resource_rule_has_cases():
    assert set(CASES) == {r.name for r in configuration.RESOURCE_RULES}


@pytest.mark.parametrize("rule", configuration.RESOURCE_RULES, ids=lambda r: r.name)
def test_rule_passes_compliant_and_flags_violating_resources(rule):
    assert_resource_cases(rule, CASES[rule.name])
