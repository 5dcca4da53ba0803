"""The envelope key: rotation, deletion window, alias, and exactly who its policy admits."""

from __future__ import annotations

import pytest

from tests.support.plan_helpers import as_list, aws_of, doc, statement, typed
from tools.offline import Plan

KEY = "aws:kms/key:Key"
POLICY = "aws:kms/keyPolicy:KeyPolicy"


def key_policy(plan: Plan) -> dict:
    return doc(plan.one(POLICY))


def test_key_rotates_yearly_and_keeps_the_configured_window(plan):
    key = plan.one(KEY)
    assert key.inputs["enableKeyRotation"] is True
    assert key.inputs["rotationPeriodInDays"] == 365
    assert key.inputs["keyUsage"] == "ENCRYPT_DECRYPT"
    assert key.inputs["customerMasterKeySpec"] == "SYMMETRIC_DEFAULT"
    assert key.inputs["deletionWindowInDays"] == typed(plan.stack).kms.deletion_window_days


@pytest.mark.parametrize(("stack", "window"), [("dev", 7), ("prod", 30)])
def test_windows_per_environment(plans, stack, window):
    assert plans[stack].one(KEY).inputs["deletionWindowInDays"] == window


def test_alias_is_derived_from_the_cluster_name(plan):
    alias = plan.one("aws:kms/alias:Alias")
    assert alias.inputs["name"] == f"alias/{plan.exports['clusterName']}"
    assert alias.inputs["targetKeyId"] == plan.one(KEY).outputs["keyId"]


def test_policy_is_applied_to_this_key(plan):
    assert plan.one(POLICY).inputs["keyId"] == plan.one(KEY).outputs["keyId"]


def test_account_root_keeps_control_so_the_key_stays_manageable(plan):
    root = statement(key_policy(plan), "AccountRoot")
    assert root["Principal"] == {"AWS": aws_of(plan.stack).root_arn}
    assert root["Action"] == "kms:*"


def test_administrators_manage_but_cannot_use_the_key(plan):
    if not typed(plan.stack).kms.admin_arns:
        sids = [s.get("Sid") for s in key_policy(plan)["Statement"]]
        assert "KeyAdministrators" not in sids, "the account root administers alone"
        return
    admins = statement(key_policy(plan), "KeyAdministrators")
    assert sorted(as_list(admins["Principal"]["AWS"])) == sorted(typed(plan.stack).kms.admin_arns)
    actions = set(admins["Action"])
    assert {"kms:ScheduleKeyDeletion", "kms:PutKeyPolicy", "kms:EnableKeyRotation"} <= actions
    assert not actions & {"kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*", "kms:*"}


def cluster_role_arn(plan: Plan) -> str:
    return plan.one("aws:iam/role:Role", "cluster-role").outputs["arn"]


def test_cluster_role_and_autoscaling_are_key_users(plan):
    users = statement(key_policy(plan), "KeyUsers")
    autoscaling = aws_of(plan.stack).autoscaling_service_role_arn
    assert {cluster_role_arn(plan), autoscaling} <= set(as_list(users["Principal"]["AWS"]))
    assert users["Action"] == [
        "kms:Encrypt",
        "kms:Decrypt",
        "kms:ReEncrypt*",
        "kms:GenerateDataKey*",
        "kms:DescribeKey",
    ]


def test_service_users_may_only_create_grants_for_aws_resources(plan):
    grants = statement(key_policy(plan), "KeyServiceGrants")
    assert grants["Action"] == ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"]
    assert grants["Condition"] == {"Bool": {"kms:GrantIsForAWSResource": "true"}}
    principals = as_list(grants["Principal"]["AWS"])
    assert aws_of(plan.stack).autoscaling_service_role_arn in principals
    assert cluster_role_arn(plan) not in principals


def test_prod_key_is_protected_and_retained_dev_key_is_disposable(plans):
    prod, dev = plans["prod"].one(KEY), plans["dev"].one(KEY)
    assert prod.options["protect"] and prod.options["retainOnDelete"]
    assert not dev.options["protect"] and not dev.options["retainOnDelete"]
