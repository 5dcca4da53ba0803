"""policies/rules/storage.py, how volumes bind, are named and grow, and never live on a node. For
every rule a compliant and a violating case."""

from __future__ import annotations

import pytest

from policies.rules import storage
from tests.support.rule_subjects import (
    DEV,
    assert_resource_cases,
    deployment,
    efs_class,
    k8s,
    storage_class,
)

# rule name -> (settings, compliant subjects, violating subjects, expected text in a violation)
CASES = {
    "ebs-classes-wait-for-first-consumer": (
        DEV,
        [storage_class()],
        [storage_class(volumeBindingMode="Immediate")],
        "WaitForFirstConsumer",
    ),
    "classes-wait-for-first-consumer": (
        DEV,
        [efs_class()],
        [efs_class(volumeBindingMode="Immediate")],
        "WaitForFirstConsumer",
    ),
    "storage-class-sla-name": (
        DEV,
        [
            storage_class(),
            efs_class(),
            storage_class("io2-ssd-db-dev-rwo", parameters={"type": "io2"}),
        ],
        [
            storage_class("fast"),
            storage_class("gp3-ssd-prod-rwo"),
            storage_class("io2-ssd-dev-rwo"),
            efs_class("efs-burst-dev-rwo"),
        ],
        "does not follow",
    ),
    "storage-class-expandable": (
        DEV,
        [storage_class(), efs_class(allowVolumeExpansion=False)],
        [storage_class(allowVolumeExpansion=False), efs_class(allowVolumeExpansion=True)],
        "allowVolumeExpansion",
    ),
    "no-host-path": (
        DEV,
        [deployment(volumes=[{"name": "tmp", "emptyDir": {}}])],
        [
            deployment(volumes=[{"name": "data", "hostPath": {"path": "/data"}}]),
            k8s(
                "PersistentVolume",
                "core/v1",
                {"spec": {"hostPath": {"path": "/d"}}},
                namespace=None,
            ),
        ],
        "hostPath",
    ),
}


def test_every_resource_rule_has_cases():
    assert set(CASES) == {r.name for r in storage.RESOURCE_RULES}


@pytest.mark.parametrize("rule", storage.RESOURCE_RULES, ids=lambda r: r.name)
def test_rule_passes_compliant_and_flags_violating_resources(rule):
    assert_resource_cases(rule, CASES[rule.name])
