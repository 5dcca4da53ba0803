"""Roles that cannot escalate: the rule that finds escalation paths, the boundary on every role
of the main program, and the config key that names it."""

from __future__ import annotations

import json

import pytest

from bootstrap import permissions
from bootstrap.design import policies
from bootstrap.design.boundary import boundary_policy
from bootstrap.design.context import Account, Stack
from config import ConfigError
from policies import rules
from policies.rules.escalation import escalation_paths
from tests.bootstrap import iam_eval
from tests.support.plan_helpers import aws_of
from tools import bootstrap_plan
from tools.offline import ProgramError, run_config, stack_config
from tools.offline.runner import typed_config
from tools.policy_config import settings_for
from tools.report import verdicts

BOUNDARY = "arn:aws:iam::123456789012:policy/eks-config-storage-boundary"
ACCOUNT = Account(
    partition="aws",
    region="eu-west-1",
    account_id="123456789012",
    state_bucket="state",
    main_project="eks-config-storage",
    boundary_name="eks-config-storage-boundary",
    pipeline_roles=("github-deploy-dev",),
    shared=True,
)
KEY = "arn:aws:kms:eu-west-1:123456789012:key/00000000-0000-0000-0000-000000000000"
DEV = Stack("dev", "dev", "eks-dev", KEY, KEY)


def verdict(policy: dict, name: str) -> rules.Verdict:
    subject = rules.Subject(
        "aws:iam/rolePolicy:RolePolicy", "p", "urn:p", {"policy": json.dumps(policy)}
    )
    settings = rules.Settings("dev", False, False)
    (found,) = [v for v in rules.evaluate([subject], settings) if v.name == name]
    return found


def allow(actions, resource="arn:aws:iam::123456789012:role/eks-dev-*", condition=None):
    stmt = {"Sid": "S", "Effect": "Allow", "Action": actions, "Resource": resource}
    if condition:
        stmt["Condition"] = condition
    return {"Version": "2012-10-17", "Statement": [stmt]}


ON_BOUNDARY = {"StringEquals": {"iam:PermissionsBoundary": BOUNDARY}}


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        (allow(["iam:CreateRole"]), "iam:CreateRole without an iam:PermissionsBoundary"),
        (allow("iam:PutRolePolicy"), "iam:PutRolePolicy without an iam:PermissionsBoundary"),
        (allow(["iam:Update*"]), "iam:UpdateAssumeRolePolicy without"),
        (allow(["iam:*"], condition=ON_BOUNDARY), "allows iam:CreatePolicyVersion"),
        (
            allow(["iam:AttachRolePolicy"], condition=ON_BOUNDARY),
            "iam:AttachRolePolicy of any policy",
        ),
        (allow(["iam:PassRole"]), "iam:PassRole without an iam:PassedToService"),
        (allow(["iam:CreatePolicyVersion"], "*"), "allows iam:CreatePolicyVersion"),
        (
            {"Statement": [{"Effect": "Allow", "NotAction": "s3:*", "Resource": "*"}]},
            "iam:CreateRole without",
        ),
        # A negated condition passes a request that names no boundary at all.
        (
            allow(
                ["iam:CreateRole"],
                condition={"StringNotEquals": {"iam:PermissionsBoundary": "x"}},
            ),
            "iam:CreateRole without",
        ),
    ],
)
def test_an_escalation_path_fails_the_rule_by_name(policy, expected):
    found = verdict(policy, "iam-no-escalation")
    assert found.failed and found.enforcement == "mandatory"
    assert any(expected in message for _, message in found.violations), found.violations


def test_bounded_role_changes_pass():
    policy = {
        "Statement": [
            allow(["iam:CreateRole", "iam:PutRolePolicy"], condition=ON_BOUNDARY)["Statement"][0],
            allow(
                ["iam:AttachRolePolicy"],
                condition={
                    **ON_BOUNDARY,
                    "ArnEquals": {"iam:PolicyARN": ["arn:aws:iam::aws:policy/X"]},
                },
            )["Statement"][0],
            allow(
                ["iam:PassRole"],
                condition={"StringEquals": {"iam:PassedToService": "eks.amazonaws.com"}},
            )["Statement"][0],
            # Denies are never a path.
            {"Effect": "Deny", "Action": "iam:*", "Resource": "*"},
        ]
    }
    assert list(escalation_paths(policy)) == []


@pytest.mark.parametrize("kind", ["preview", "plan", "deploy"])
def test_the_bootstrap_roles_have_no_escalation_path(kind):
    stmts = policies.statements(kind, permissions.load(), ACCOUNT, DEV)
    assert list(escalation_paths({"Statement": stmts})) == []


def test_deploy_roles_attach_only_the_policies_the_program_attaches():
    attached = set()
    # A Pod Identity stack puts the EBS CSI role on the cluster-scoped policy instead.
    pod_identity = {
        **stack_config("dev"),
        "eks-config-storage:identity": "podIdentity",
        "eks-config-storage:addons": {"ebsCsiDriver": "v1.58.0-eksbuild.1"},
    }
    for stack, values in (
        ("dev", stack_config("dev")),
        ("prod", stack_config("prod")),
        ("dev", pod_identity),
    ):
        plan = run_config(stack, values)
        attached |= {
            r.inputs["policyArn"]
            for r in plan.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        }
    assert attached == set(policies.managed_policy_arns(ACCOUNT))
    stmts = policies.statements("deploy", permissions.load(), ACCOUNT, DEV)
    (attach,) = [s for s in stmts if "iam:AttachRolePolicy" in s.get("Action", ())]
    assert set(attach["Condition"]["ArnEquals"]["iam:PolicyARN"]) == attached
    assert attach["Condition"]["StringEquals"]["iam:PermissionsBoundary"] == BOUNDARY


def test_deploy_roles_deny_lifting_or_changing_the_boundary_and_touching_pipeline_roles():
    stmts = policies.statements("deploy", permissions.load(), ACCOUNT, DEV)
    denied = {s["Sid"]: s for s in stmts if s["Effect"] == "Deny"}
    assert "iam:DeleteRolePermissionsBoundary" in denied["NoBoundaryRemoval"]["Action"]
    change = denied["NoBoundaryChange"]
    assert change["Resource"] == [BOUNDARY]
    assert {"iam:CreatePolicyVersion", "iam:DeletePolicy", "iam:SetDefaultPolicyVersion"} <= set(
        change["Action"]
    )
    assert denied["NoPipelineRoles"]["Resource"] == [
        "arn:aws:iam::123456789012:role/github-deploy-dev"
    ]


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_role_of_the_main_program_carries_the_boundary(stack):
    plan = run_config(stack, stack_config(stack))
    roles = plan.of_type("aws:iam/role:Role")
    assert len(roles) >= 5
    boundary = f"arn:aws:iam::{aws_of(stack).account_id}:policy/eks-config-storage-boundary"
    assert {r.inputs.get("permissionsBoundary") for r in roles} == {boundary}
    settings = settings_for(stack)
    assert settings.permissions_boundary == boundary
    (carry,) = [v for v in verdicts(plan, settings) if v.name == "iam-roles-carry-boundary"]
    assert not carry.failed


def test_a_role_without_the_boundary_fails_the_rule_by_name():
    subject = rules.Subject("aws:iam/role:Role", "r", "urn:r", {"assumeRolePolicy": "{}"})
    settings = rules.Settings("dev", False, False, permissions_boundary=BOUNDARY)
    (carry,) = [
        v for v in rules.evaluate([subject], settings) if v.name == "iam-roles-carry-boundary"
    ]
    assert carry.failed and carry.enforcement == "mandatory"
    unset = rules.Settings("dev", False, False)
    (carry,) = [v for v in rules.evaluate([subject], unset) if v.name == "iam-roles-carry-boundary"]
    assert not carry.failed


def problems(stack: str, iam) -> list[tuple[str, str]]:
    values = stack_config(stack)
    if iam is None:
        values.pop("eks-config-storage:iam")
    else:
        values["eks-config-storage:iam"] = iam
    try:
        typed_config(stack, values)
    except ConfigError as exc:
        return exc.problems
    return []


def test_production_requires_a_boundary_and_others_may_go_without():
    assert problems("prod", None) == [
        (
            "iam.permissionsBoundary",
            "required when production is true (the pipeline creates roles only under it)",
        )
    ]
    assert problems("dev", None) == []


def test_the_boundary_is_a_policy_arn_of_the_stacks_account():
    assert [k for k, _ in problems("dev", {"permissionsBoundary": "arn:aws:iam::1:role/x"})] == [
        "iam.permissionsBoundary"
    ]
    other = problems("prod", {"permissionsBoundary": "arn:aws:iam::210987654321:policy/b"})
    assert other == [
        (
            "iam.permissionsBoundary",
            "is a policy of account 210987654321, but adminRoleArns are of "
            f"['{aws_of('prod').account_id}']",
        )
    ]


def test_the_bootstrap_plan_judges_its_boundary_as_a_ceiling_not_a_grant():
    plan = bootstrap_plan.run("example")
    assert bootstrap_plan.settings(plan).boundary_policies == {"eks-config-storage-boundary"}
    unjudged = rules.Settings("x", True, True)
    (wild,) = [v for v in verdicts(plan, unjudged) if v.name == "iam-no-wildcards"]
    assert {plan.by_urn[urn].name for urn, _ in wild.violations} == {"boundary-policy"}


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_boundary_admits_what_the_programs_own_role_policies_grant(stack):
    """A boundary narrower than a role's inline policy would break that role silently."""
    plan = run_config(stack, stack_config(stack))
    ceiling = boundary_policy(ACCOUNT)
    for inline in plan.of_type("aws:iam/rolePolicy:RolePolicy"):
        for stmt in json.loads(inline.inputs["policy"])["Statement"]:
            if stmt["Effect"] != "Allow":
                continue
            actions = [stmt["Action"]] if isinstance(stmt["Action"], str) else stmt["Action"]
            for action in actions:
                assert iam_eval.allowed([ceiling], action, "arn:aws:s3:::any", {}), (
                    inline.name,
                    action,
                )


def test_a_boundary_of_another_account_than_the_credentials_registers_nothing():
    """The config can only compare the boundary with the admin roles' account; the program
    compares it with the account it deploys to, before any resource."""
    values = stack_config("dev")
    other = "210987654321"
    values["eks-config-storage:iam"] = {"permissionsBoundary": f"arn:aws:iam::{other}:policy/b"}
    values["eks-config-storage:adminRoleArns"] = [f"arn:aws:iam::{other}:role/platform-admin"]
    values["eks-config-storage:kms"] = {"deletionWindowDays": 7}
    # Deployed with credentials of 123456789012 (the plan's --account), not the admins' account.
    with pytest.raises(ProgramError) as caught:
        run_config("dev", values, account="123456789012")
    assert caught.value.registered == 0
    assert "is not a policy of the stack's account 123456789012" in str(caught.value)
