"""policies/rules/recovery.py, the scheduled jobs can do their work: the rotator may prune, existing
volumes follow policy. For every rule a compliant and a violating case."""

from __future__ import annotations

import pytest

from design import snapshots as snapshot_design
from policies.rules import recovery
from tests.support.rule_subjects import (
    DEV,
    PROD,
    ROTATOR_NS,
    assert_stack_cases,
    binding_to,
    cluster_role,
    efs_class,
    reconciler_job,
    rotator_job,
    rotator_rules_without,
    snapshot_class,
    storage_class,
)

CONTENTS_ONLY_NAMED = [
    *rotator_rules_without("volumesnapshotcontents", "patch"),
    {
        "apiGroups": ["snapshot.storage.k8s.io"],
        "resources": ["volumesnapshotcontents"],
        "resourceNames": ["snapcontent-1"],
        "verbs": ["patch"],
    },
]


# What a dev stack has: one class reclaiming Delete, its default snapshot class.
DEV_CLASSES = [storage_class(), snapshot_class("ebs-delete-dev", "Delete")]


DEV_RECONCILER = {
    "classes": "gp3-ssd-dev-rwo=Delete,gp3-ssd-old-dev-rwo=Retain",
    "snapshot_classes": "ebs-retain-dev,ebs-delete-dev",
    "snapshot": "Delete",
}


# stack rule name -> (settings, compliant stacks, violating stacks, expected text in a violation)
STACK_CASES = {
    "snapshot-rotator-can-prune": (
        DEV,
        [
            [rotator_job(), cluster_role(snapshot_design.rotator_rules()), binding_to()],
            [
                rotator_job(),
                cluster_role(snapshot_design.rotator_rules()),
                binding_to({"kind": "Group", "name": f"system:serviceaccounts:{ROTATOR_NS}"}),
            ],
            [binding_to()],  # no snapshot job: nothing to prune
        ],
        [
            [
                rotator_job(),
                cluster_role(rotator_rules_without("volumesnapshotcontents", "patch")),
                binding_to(),
            ],
            [
                rotator_job(),
                cluster_role(rotator_rules_without("volumesnapshots", "delete")),
                binding_to(),
            ],
            [rotator_job(), cluster_role(CONTENTS_ONLY_NAMED), binding_to()],
            [rotator_job("default"), cluster_role(snapshot_design.rotator_rules()), binding_to()],
            [rotator_job(), cluster_role(snapshot_design.rotator_rules())],
            [
                rotator_job(),
                cluster_role(snapshot_design.rotator_rules()),
                binding_to(kind_="RoleBinding"),
            ],
            [
                rotator_job(),
                cluster_role(snapshot_design.rotator_rules()),
                binding_to(role_name="other"),
            ],
        ],
        "runs as storage-snapshots/",
    ),
    "existing-volumes-follow-policy": (
        DEV,
        [
            [*DEV_CLASSES, reconciler_job(**DEV_RECONCILER)],
            [reconciler_job(**DEV_RECONCILER)],  # no class yet: nothing to reconcile
        ],
        [
            DEV_CLASSES,  # no reconciler
            [*DEV_CLASSES, reconciler_job(**{**DEV_RECONCILER, "classes": "efs-x=Delete"})],
            [
                *DEV_CLASSES,
                reconciler_job(**{**DEV_RECONCILER, "classes": "gp3-ssd-dev-rwo=Retain"}),
            ],
            [
                *DEV_CLASSES,
                reconciler_job(**{**DEV_RECONCILER, "snapshot_classes": "ebs-retain-dev"}),
            ],
            [*DEV_CLASSES, reconciler_job(**{**DEV_RECONCILER, "snapshot": "Retain"})],
        ],
        "reconciler",
    ),
}


def test_every_stack_rule_has_cases():
    assert set(STACK_CASES) == {r.name for r in recovery.STACK_RULES}


@pytest.mark.parametrize("rule", recovery.STACK_RULES, ids=lambda r: r.name)
def test_stack_rule_passes_compliant_and_flags_violating_stacks(rule):
    assert_stack_cases(rule, STACK_CASES[rule.name])


def test_rotator_rule_names_what_is_missing():
    (rule,) = [r for r in recovery.STACK_RULES if r.name == "snapshot-rotator-can-prune"]
    job = rotator_job()
    stack = [job, cluster_role(rotator_rules_without("volumesnapshotcontents", "patch"))]
    assert list(rule.check([*stack, binding_to()], DEV)) == [
        (
            job.urn,
            "snapshot job x runs as storage-snapshots/snapshot-rotator, which no ClusterRole "
            "binding lets patch volumesnapshotcontents: pruning would fail and generations "
            "pile up",
        )
    ]


def test_existing_volumes_rule_names_each_class_left_behind():
    (rule,) = [r for r in recovery.STACK_RULES if r.name == "existing-volumes-follow-policy"]
    gp3, efs, snapshots = (
        storage_class("gp3-ssd-prod-rwo", reclaimPolicy="Retain"),
        efs_class("efs-elastic-prod-rwx", reclaimPolicy="Retain"),
        snapshot_class("ebs-retain-prod", "Retain"),
    )
    job = reconciler_job("gp3-ssd-prod-rwo=Delete", "ebs-retain-prod,ebs-delete-prod", "Retain")
    assert list(rule.check([gp3, efs, snapshots, job], PROD)) == [
        (gp3.urn, "the reconciler maps class gp3-ssd-prod-rwo to Delete, but it reclaims Retain"),
        (
            efs.urn,
            "no reconciler maps class efs-elastic-prod-rwx: its existing PVs keep the policy "
            "they were provisioned with",
        ),
    ]
