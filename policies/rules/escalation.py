"""R2: no role the stack defines can make itself or another role more powerful than it is.

An identity that may create or change a role, or attach any policy to one, can write itself an
administrator: create a role that trusts it, attach ``AdministratorAccess``, assume it. AWS's
answer is the permissions boundary: role changes allowed only while the role carries a given
boundary (``iam:PermissionsBoundary``), attachments limited to named policies
(``iam:PolicyARN``), and ``iam:PassRole`` limited to the services it is meant for
(``iam:PassedToService``) (IAM User Guide, "Permissions boundaries for IAM entities").
"""

from __future__ import annotations

from collections.abc import Iterator
from fnmatch import fnmatchcase

from .base import (
    IDENTITY_POLICY_TYPES,
    ResourceRule,
    Settings,
    StackRule,
    Subject,
    as_list,
    document,
)

# Calls that change what a role (or user, or group) may do, or who may assume it.
PRINCIPAL_CHANGES = (
    "iam:CreateRole",
    "iam:PutRolePolicy",
    "iam:AttachRolePolicy",
    "iam:DetachRolePolicy",
    "iam:DeleteRolePolicy",
    "iam:UpdateAssumeRolePolicy",
    "iam:PutRolePermissionsBoundary",
    "iam:CreateUser",
    "iam:PutUserPolicy",
    "iam:AttachUserPolicy",
    "iam:PutUserPermissionsBoundary",
)
ATTACHING = ("iam:AttachRolePolicy", "iam:AttachUserPolicy")
# No condition makes these safe: whoever may call them may rewrite a policy already attached to
# itself, lift a boundary, or give itself credentials.
NEVER = (
    "iam:CreatePolicyVersion",
    "iam:SetDefaultPolicyVersion",
    "iam:DeleteRolePermissionsBoundary",
    "iam:DeleteUserPermissionsBoundary",
    "iam:PutGroupPolicy",
    "iam:AttachGroupPolicy",
    "iam:AddUserToGroup",
    "iam:CreateAccessKey",
    "iam:CreateLoginProfile",
    "iam:UpdateLoginProfile",
)
POSITIVE = ("StringEquals", "StringLike", "ArnEquals", "ArnLike")


def _granted(stmt: dict, action: str) -> bool:
    """Whether an Allow statement grants ``action`` (IAM matches actions case-insensitively)."""
    if "NotAction" in stmt:
        return not any(
            fnmatchcase(action.lower(), str(p).lower()) for p in as_list(stmt["NotAction"])
        )
    return any(fnmatchcase(action.lower(), str(p).lower()) for p in as_list(stmt.get("Action")))


def _conditioned(stmt: dict, key: str) -> bool:
    """A positive condition on ``key`` (not a negated or IfExists one, which a request without
    the key would pass)."""
    for operator, pairs in (stmt.get("Condition") or {}).items():
        op = operator.split(":")[-1]
        if op in POSITIVE and any(k.lower() == key.lower() for k in pairs or {}):
            return True
    return False


def escalation_paths(policy: dict) -> Iterator[str]:
    """Every way an identity policy document lets its holder raise privileges."""
    for stmt in as_list(policy.get("Statement")):
        if stmt.get("Effect") != "Allow":
            continue
        sid = stmt.get("Sid", "(no Sid)")
        for action in NEVER:
            if _granted(stmt, action):
                yield f"statement {sid}: allows {action}"
        for action in PRINCIPAL_CHANGES:
            if _granted(stmt, action) and not _conditioned(stmt, "iam:PermissionsBoundary"):
                yield f"statement {sid}: allows {action} without an iam:PermissionsBoundary"

        for action in ATTACHING:
            if _granted(stmt, action) and not _conditioned(stmt, "iam:PolicyARN"):
                yield f"statement {sid}: allows {action} of any policy (no iam:PolicyARN condition)"
        if _granted(stmt, "iam:PassRole") and not _conditioned(stmt, "iam:PassedToService"):
            yield f"statement {sid}: allows iam:PassRole without an iam:PassedToService condition"


def iam_no_escalation(s: Subject, settings: Settings) -> Iterator[str]:
    if s.type not in IDENTITY_POLICY_TYPES:
        return
    if s.type == "aws:iam/policy:Policy" and s.props.get("name") in settings.boundary_policies:
        # A boundary only caps; the roles under it are judged by their own policies.
        return
    yield from escalation_paths(dict(document(s.props.get("policy"))))


def roles_carry_boundary(s: Subject, settings: Settings) -> Iterator[str]:
    if s.type != "aws:iam/role:Role" or not settings.permissions_boundary:
        return
    found = s.props.get("permissionsBoundary")
    if found != settings.permissions_boundary:
        yield (
            f"role must carry the permissions boundary {settings.permissions_boundary}, "
            f"has {found or 'none'}"
        )


GITHUB = "token.actions.githubusercontent.com"


def github_oidc_trust(s: Subject, _: Settings) -> Iterator[str]:
    """A role trusting GitHub's tokens names its audience, its repository and exact subjects:
    without ``sub`` and ``repository`` any repository's workflow could assume it."""
    if s.type != "aws:iam/role:Role":
        return
    for stmt in as_list(document(s.props.get("assumeRolePolicy")).get("Statement")):
        federated = [str(p) for p in as_list((stmt.get("Principal") or {}).get("Federated"))]
        if not any(p.endswith(f":oidc-provider/{GITHUB}") for p in federated):
            continue
        condition = stmt.get("Condition") or {}
        if set(condition) != {"StringEquals"}:
            yield f"GitHub trust must use StringEquals only, found {sorted(condition)}"
            continue
        claims = condition["StringEquals"]
        if claims.get(f"{GITHUB}:aud") != "sts.amazonaws.com":
            yield "GitHub trust must require aud sts.amazonaws.com"
        for claim in ("sub", "repository"):
            values = as_list(claims.get(f"{GITHUB}:{claim}"))
            if not values:
                yield f"GitHub trust must condition {claim}"
            elif any("*" in str(v) or "?" in str(v) for v in values):
                yield f"GitHub trust {claim} must be exact, got {values}"


RESOURCE_RULES: tuple[ResourceRule, ...] = (
    ResourceRule(
        "github-oidc-trust",
        "R2",
        "GitHub Actions trust: StringEquals on aud, exact sub and repository",
        "mandatory",
        github_oidc_trust,
    ),
    ResourceRule(
        "iam-no-escalation",
        "R2",
        "Role changes only under a permissions boundary, attachments only of named policies, "
        "PassRole only to named services",
        "mandatory",
        iam_no_escalation,
    ),
    ResourceRule(
        "iam-roles-carry-boundary",
        "R2",
        "Every IAM role carries the stack's permissions boundary, when one is configured",
        "mandatory",
        roles_carry_boundary,
    ),
)

STACK_RULES: tuple[StackRule, ...] = ()
