"""The design rules in the offline plan: the real stacks pass every mandatory rule, and breaking a
component makes the plan fail by rule name."""

from __future__ import annotations

import copy

import pytest

from components import nodes
from design import drills as drills_design
from design import reconciler as reconciler_design
from design import snapshots as snapshot_design
from design import storage as storage_design
from policies.rules import Settings
from tests.support.rule_subjects import (
    rotator_rules_without,
)
from tools import plan as plan_cli


def test_real_stacks_pass_every_mandatory_rule(plans):
    for name, plan in plans.items():
        settings = Settings(plan.exports["environment"], name == "prod", name == "prod")
        for verdict in plan_cli.verdicts(plan, settings):
            if verdict.enforcement == "mandatory":
                assert not verdict.violations, (name, verdict.name, verdict.violations)


@pytest.mark.parametrize(
    "broken",
    [
        (
            nodes,
            "metadata_options",
            lambda: {"http_tokens": "optional", "http_put_response_hop_limit": 2},
            "nodes-imdsv2-hop-limit-1",
        ),
        (snapshot_design, "STARTING_DEADLINE_SECONDS", 0, "snapshot-generation-limit"),
        (reconciler_design, "STARTING_DEADLINE_SECONDS", 0, "snapshot-generation-limit"),
        (reconciler_design, "HISTORY_SUCCESS", 0, "snapshot-generation-limit"),
        (
            reconciler_design,
            "class_policies",
            lambda policies: "gp3-ssd-dev-rwo=Delete",
            "existing-volumes-follow-policy",
        ),
        (snapshot_design, "HISTORY_FAILED", 50, "snapshot-generation-limit"),
        (
            snapshot_design,
            "rotator_rules",
            lambda: rotator_rules_without("volumesnapshotcontents", "patch"),
            "snapshot-rotator-can-prune",
        ),
    ],
)
def test_breaking_a_component_fails_the_offline_plan_by_rule(monkeypatch, capsys, broken):
    module, attribute, replacement, rule = broken
    monkeypatch.setattr(module, attribute, replacement)
    assert plan_cli.main(["dev"]) == 1
    captured = capsys.readouterr()
    assert "FAIL  " in captured.out and rule in captured.out
    assert f"mandatory rules violated: {rule}" in captured.err


def test_a_class_that_binds_immediately_fails_the_plan(monkeypatch, capsys):
    original = storage_design.storage_class_object

    def immediate(**kwargs):
        obj = copy.deepcopy(original(**kwargs))
        obj["volumeBindingMode"] = "Immediate"
        return obj

    monkeypatch.setattr(storage_design, "storage_class_object", immediate)
    assert plan_cli.main(["prod"]) == 1
    err = capsys.readouterr().err
    assert "ebs-classes-wait-for-first-consumer" in err


def test_a_production_reconciler_that_releases_existing_volumes_fails_the_plan(monkeypatch, capsys):
    original = reconciler_design.class_policies
    monkeypatch.setattr(
        reconciler_design,
        "class_policies",
        lambda policies: original({name: "Delete" for name in policies}),
    )
    assert plan_cli.main(["prod"]) == 1
    err = capsys.readouterr().err
    assert "production-retains-data" in err
    assert "existing-volumes-follow-policy" in err


@pytest.mark.parametrize(
    ("attribute", "value"), [("CLEANUP_SECONDS", 0), ("STARTING_DEADLINE_SECONDS", 0)]
)
def test_a_drill_that_could_not_clean_up_or_stop_silently_fails_the_plan(
    monkeypatch, capsys, attribute, value
):
    monkeypatch.setattr(drills_design, attribute, value)
    assert plan_cli.main(["prod"]) == 1
    assert "mandatory rules violated: snapshot-generation-limit" in capsys.readouterr().err
