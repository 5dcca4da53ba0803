"""policies/rules/escalation.py, no path to more privilege: GitHub's OIDC trust, escalating actions,
boundaries. For every rule a compliant and a violating case."""

from __future__ import annotations

import pytest

from policies.rules import Settings, escalation
from tests.support.rule_subjects import (
    DEV,
    GITHUB,
    assert_resource_cases,
    github_trust,
    policy,
    subject,
)

# rule name -> (settings, compliant subjects, violating subjects, expected text in a violation)
CASES = {
    "github-oidc-trust": (
        DEV,
        [
            github_trust(
                {
                    "StringEquals": {
                        f"{GITHUB}:aud": "sts.amazonaws.com",
                        f"{GITHUB}:sub": "repo:o@1/r@2:environment:dev",
                        f"{GITHUB}:repository": "o/r",
                    }
                }
            )
        ],
        [
            github_trust({"StringLike": {f"{GITHUB}:sub": "repo:o/*"}}),
            github_trust({"StringEquals": {f"{GITHUB}:aud": "sts.amazonaws.com"}}),
        ],
        "GitHub trust",
    ),
    "iam-no-escalation": (
        DEV,
        [
            policy(
                {
                    "Effect": "Allow",
                    "Action": "iam:CreateRole",
                    "Resource": "arn:aws:iam::1:role/eks-dev-*",
                    "Condition": {"StringEquals": {"iam:PermissionsBoundary": "arn:b"}},
                }
            ),
            policy({"Effect": "Deny", "Action": "iam:*", "Resource": "*"}),
        ],
        [
            policy({"Effect": "Allow", "Action": "iam:CreateRole", "Resource": "*"}),
            policy({"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*"}),
        ],
        "statement",
    ),
    "iam-roles-carry-boundary": (
        Settings("dev", False, False, permissions_boundary="arn:b"),
        [subject("aws:iam/role:Role", {"permissionsBoundary": "arn:b"})],
        [subject("aws:iam/role:Role", {})],
        "permissions boundary",
    ),
}


def test_every_resource_rule_has_cases():
    assert set(CASES) == {r.name for r in escalation.RESOURCE_RULES}


@pytest.mark.parametrize("rule", escalation.RESOURCE_RULES, ids=lambda r: r.name)
def test_rule_passes_compliant_and_flags_violating_resources(rule):
    assert_resource_cases(rule, CASES[rule.name])
