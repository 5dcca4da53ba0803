"""Renaming an app is judged: a rename that moves it to another namespace needs an
acknowledgement and says what its running pods lose and how to rename in place; a class
parameter change says existing volumes keep theirs; leftover acknowledgements are named as the
stack file spells them."""

from __future__ import annotations

import copy

from tests.support.day2_changes import app, judged, rename_app
from tests.support.stack_values import broken
from tools.offline import stack_config

NS = "eks-config-storage"


def test_a_rename_that_moves_the_app_names_what_its_pods_lose(plans):
    values = copy.deepcopy(stack_config("prod"))
    rename_app(None)(values)
    lines, judgement = judged(plans["prod"], "prod", values)
    (violation,) = [v for v in judgement.violations if v.subject == "app-orders-namespace"]
    assert violation.key == "acknowledge.deletes"
    message = violation.message
    assert message.startswith(
        "app namespace orders leaves the stack (it stays, unmanaged, with its workloads) and the "
        "app moves to the new, empty ordering"
    )
    for lost in (
        "ServiceAccount orders",
        "ConfigMap orders-config",
        "IAM role eks-prod-app-orders",
    ):
        assert lost in message, message
    assert message.endswith("keep `namespace: orders` on the app")
    assert any("[accept with acknowledge.deletes]" in line for line in lines)


def test_the_same_rename_keeping_the_namespace_passes(plans):
    values = copy.deepcopy(stack_config("prod"))
    rename_app("orders")(values)
    _, judgement = judged(plans["prod"], "prod", values)
    assert judgement.violations == []


def test_the_move_is_accepted_by_acknowledging_the_namespace(plans):
    values = copy.deepcopy(stack_config("prod"))
    rename_app(None)(values)
    values = broken(
        values, "acknowledge", {"reason": "orders is renamed", "deletes": ["app-orders-namespace"]}
    )
    _, judgement = judged(plans["prod"], "prod", values)
    assert judgement.violations == []
    assert [v.subject for v in judgement.accepted] == ["app-orders-namespace"]


def test_removing_an_app_is_no_move(plans):
    values = copy.deepcopy(stack_config("prod"))
    values[f"{NS}:apps"].remove(app(values, "orders"))
    _, judgement = judged(plans["prod"], "prod", values)
    assert judgement.violations == []


def test_a_class_parameter_change_says_existing_volumes_keep_theirs(plans):
    values = copy.deepcopy(stack_config("prod"))
    values[f"{NS}:storage"]["classes"][0]["iops"] = 8000
    lines, _ = judged(plans["prod"], "prod", values)
    (line,) = [ln for ln in lines if "StorageClass  classes-gp3-ssd-prod-rwo" in ln]
    assert "(parameters)" in line
    assert "existing volumes keep the parameters they were provisioned with" in line


def test_a_stale_acknowledgement_is_named_by_its_stack_file_key(plans):
    values = broken(
        copy.deepcopy(stack_config("dev")),
        "acknowledge",
        {"reason": "left over from last time", "snapshotPolicies": ["weekly"]},
    )
    lines, judgement = judged(plans["dev"], "dev", values)
    assert judgement.unused == ["snapshotPolicies: weekly"]
    assert "  - snapshotPolicies: weekly" in lines
