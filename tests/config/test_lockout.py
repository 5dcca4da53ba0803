"""No lock-out: the identity running `pulumi up` must be one of the admins it leaves in place,
because in API authentication mode only access entries grant access to the cluster."""

from __future__ import annotations

import pulumi
import pytest

from config import pulumi_source, rules
from tests.support.plan_helpers import aws_of
from tests.support.stack_values import broken
from tools.offline import ProgramError, run_config, stack_config
from tools.offline.runner import typed_config

# Callers are of each stack's own account (the one its admin roles are of).
PROD = aws_of("prod").account_id
DEV = aws_of("dev").account_id
DEPLOY = f"arn:aws:sts::{PROD}:assumed-role/github-deploy-prod/run-1"


def test_an_up_by_a_role_missing_from_the_admins_stops_before_any_resource():
    with pytest.raises(ProgramError) as failure:
        run_config("prod", stack_config("prod"), caller_role="release-bot")
    assert failure.value.registered == 0
    message = str(failure.value)
    assert "eks-config-storage:adminRoleArns: the deploying identity" in message
    assert "assumed-role/release-bot/offline-plan" in message


def test_the_creator_admin_setting_lifts_the_check():
    values = broken(stack_config("dev"), "bootstrapCreatorAdmin", True)
    assert run_config("dev", values, caller_role="release-bot")


@pytest.mark.parametrize(
    ("caller", "locked_out"),
    [
        (DEPLOY, False),
        (f"arn:aws:sts::{PROD}:assumed-role/platform-admin/alice", False),
        ("arn:aws:sts::999999999999:assumed-role/github-deploy-prod/run-1", True),
        (f"arn:aws:sts::{PROD}:assumed-role/github-deploy-dev/run-1", True),
        (f"arn:aws:iam::{PROD}:user/alice", True),
        (f"arn:aws:iam::{PROD}:root", True),
    ],
)
def test_the_caller_must_be_an_admin_role_of_the_same_account(caller, locked_out):
    cfg = typed_config("prod", stack_config("prod"))
    assert bool(rules.deployer_problems(cfg, caller)) is locked_out


def test_a_preview_warns_and_the_stacks_preview_roles_are_not_nagged(monkeypatch):
    cfg = typed_config("dev", stack_config("dev"))
    warnings: list[str] = []
    monkeypatch.setattr(pulumi.runtime, "is_dry_run", lambda: True)
    monkeypatch.setattr(pulumi.log, "warn", warnings.append)
    monkeypatch.setattr(pulumi, "get_stack", lambda: "dev")
    pulumi_source.check_deployer(cfg, f"arn:aws:sts::{DEV}:assumed-role/someone/s")
    assert len(warnings) == 1 and "`pulumi up` stops here" in warnings[0]
    pulumi_source.check_deployer(cfg, f"arn:aws:sts::{DEV}:assumed-role/github-preview-dev/s")
    assert len(warnings) == 1
    monkeypatch.setattr(pulumi.runtime, "is_dry_run", lambda: False)
    with pytest.raises(pulumi.RunError, match="lock itself"):
        pulumi_source.check_deployer(cfg, f"arn:aws:sts::{DEV}:assumed-role/someone/s")
