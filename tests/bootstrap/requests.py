"""The program's requests, as the pipeline roles must answer them: for every action of the
permissions table (bootstrap/permissions/actions.yaml), the resources the request is authorized
on (from policy_sentry's IAM database, offline) and its context; and ``check``, which evaluates
rendered policy documents against them."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from policy_sentry.querying.actions import get_action_data

from bootstrap import facts, permissions
from bootstrap.design import policies
from bootstrap.design.context import Account, Stack
from tests.bootstrap import iam_eval

ROOT = Path(__file__).resolve().parents[2]
TABLE = permissions.load()
ACCOUNT_ID = "123456789012"
ACCOUNT = Account(
    partition="aws",
    region="eu-west-1",
    account_id=ACCOUNT_ID,
    state_bucket="example-state",
    main_project="eks-config-storage",
    boundary_name="eks-config-storage-boundary",
    pipeline_roles=tuple(r.name for r in facts.roles()),
    shared=True,
)
STATE_KEY = f"arn:aws:kms:eu-west-1:{ACCOUNT_ID}:key/5e5e5e5e-0000-0000-0000-000000000000"
STACKS = {
    name: Stack(
        name,
        name,
        f"eks-{name}",
        f"arn:aws:kms:eu-west-1:{ACCOUNT_ID}:key/{name}0000-0000-0000-0000-000000000000",
        STATE_KEY,
    )
    for name in ("dev", "prod")
}
ROLES = [(r.kind, r.stack) for r in facts.roles()]
# The resource types (the ARN's resource part up to its first / or :) the program's requests
# touch, per service. An action is checked on each of these it is authorized on.
TOUCHED = {
    "ec2": {
        "vpc",
        "subnet",
        "security-group",
        "security-group-rule",
        "route-table",
        "internet-gateway",
        "natgateway",
        "elastic-ip",
        "launch-template",
        "network-interface",
    },
    "eks": {"cluster", "nodegroup", "addon", "access-entry", "podidentityassociation"},
    "iam": {"role", "oidc-provider"},
    "kms": {"key", "alias"},
    "logs": {"log-group"},
    "elasticfilesystem": {"file-system", "access-point"},
    "s3": {"bucket"},
    "ssm": {"parameter"},
}
# What the Write-level kms:Decrypt changes: nothing; a preview needs it for the state and its
# stack's secrets (bootstrap/permissions/actions.yaml, pipeline).
READ_ONLY_EXCEPTIONS = {"kms:Decrypt"}


@cache
def formats(action: str) -> tuple[str, ...]:
    service, name = action.split(":")
    data = get_action_data(service, name) or {}
    return tuple(entry["resource_arn_format"] for entry in data.get(service, ()))


def resource_type(service: str, arn_format: str) -> str:
    part = arn_format.split(":", 5)[5] if arn_format.count(":") >= 5 else arn_format
    if service == "s3":
        return "bucket" if part == "${BucketName}" else "other"
    return re.split(r"[/:]", part, maxsplit=1)[0]


def placeholders(action: str, stack: Stack) -> dict[str, str]:
    cluster = stack.cluster
    role = (
        "aws-service-role/eks.amazonaws.com/AWSServiceRoleForAmazonEKS"
        if action == "iam:CreateServiceLinkedRole"
        else f"{cluster}-node"
    )
    return {
        "Partition": "aws",
        "Region": ACCOUNT.region,
        # AWS's public parameters have no account in their ARN.
        "Account": "" if action.startswith("ssm:") else ACCOUNT_ID,
        "ClusterName": cluster,
        "NodegroupName": "general",
        "AddonName": "vpc-cni",
        "IamIdentityType": "role",
        "IamIdentityAccountID": ACCOUNT_ID,
        "IamIdentityName": "platform-admin",
        "RoleNameWithPath": role,
        "OidcProviderName": f"oidc.eks.{ACCOUNT.region}.amazonaws.com/id/ABC",
        "KeyId": "0e0e0e0e-0000-0000-0000-000000000000",
        "Alias": cluster,
        "LogGroupName": f"/aws/eks/{cluster}/cluster",
        "BucketName": f"{cluster}-velero-{ACCOUNT_ID}",
        "ParameterNameWithoutLeadingSlash": (
            "aws/service/eks/optimized-ami/1.35/amazon-linux-2023/x86_64/standard/"
            "recommended/release_version"
        ),
    }


def resources(action: str, stack: Stack) -> list[str]:
    """The resources a request of the program for ``action`` is authorized on."""
    service = action.split(":", maxsplit=1)[0]
    values = placeholders(action, stack)
    touched = [
        re.sub(r"\$\{(\w+)\}", lambda m: values.get(m.group(1), "id-1"), f)
        for f in formats(action)
        if f != "*" and resource_type(service, f) in TOUCHED.get(service, ())
    ]
    return touched or ["*"]


def context(stack: Stack, *, creating: bool = False) -> dict:
    """A well-formed request of the program for ``stack``: tagged with its environment (the
    stack files' aws:defaultTags), roles under the boundary, the program's managed policies. A
    resource being created has no tags yet, only the request's."""
    found = {
        "aws:RequestTag/environment": stack.environment,
        "aws:TagKeys": ["project", "environment", "managed-by"],
        "iam:PermissionsBoundary": ACCOUNT.boundary_arn,
        "iam:PolicyARN": policies.managed_policy_arns(ACCOUNT)[0],
        "iam:PassedToService": "eks.amazonaws.com",
        "iam:AWSServiceName": "eks.amazonaws.com",
        "s3:prefix": f".pulumi/stacks/{ACCOUNT.main_project}/",
    }
    if not creating:
        found["aws:ResourceTag/environment"] = stack.environment
    return found


def requests(kind: str, stack: Stack) -> set[tuple[str, bool]]:
    """(action, creating) of every call a role of ``kind`` must be allowed to make: preview and
    plan the table's read column, deploy all four (create with the request's tags only)."""
    columns = ("read",) if kind != "deploy" else ("create", "read", "update", "delete")
    return {
        (action, column == "create")
        for row in TABLE.rows()
        for column in columns
        for action in row.columns.get(column, ())
    }


def denied_request(documents, action: str, stack: Stack, creating: bool) -> bool:
    """AWS authorizes every resource a request touches: one refusal refuses the request."""
    ctx = context(stack, creating=creating)
    return any(not iam_eval.allowed(documents, action, r, ctx) for r in resources(action, stack))


def pipeline_requests(kind: str, stack: Stack) -> list[tuple[str, str]]:
    """The pipeline's own calls (the table's `pipeline` rows) on the stack's state and keys."""
    objects = f"{ACCOUNT.bucket_arn}/.pulumi"
    checkpoint = f"{objects}/stacks/{ACCOUNT.main_project}/{stack.name}.json"
    lock = f"{objects}/locks/organization/{ACCOUNT.main_project}/{stack.name}/l.json"
    found = [
        ("s3:ListBucket", ACCOUNT.bucket_arn),
        ("s3:GetObject", f"{objects}/meta.yaml"),
        ("s3:GetObject", checkpoint),
        ("s3:GetObject", lock),
        ("kms:Decrypt", STATE_KEY),
        ("kms:Decrypt", stack.secrets_key_arn),
    ]
    if kind == "deploy":
        history = f"{objects}/history/{ACCOUNT.main_project}/{stack.name}/h.json"
        found += [
            ("s3:PutObject", checkpoint),
            ("s3:PutObject", history),
            ("s3:PutObject", lock),
            ("s3:DeleteObject", lock),
            ("kms:GenerateDataKey", STATE_KEY),
        ]
    return found


def needed(kind: str) -> dict[str, set[str]]:
    """Action -> rows that need it, for a role of ``kind``: preview and plan the read column,
    deploy all four; and the pipeline rows (read, and write for deploy)."""
    found = TABLE.needed("read")
    if kind == "deploy":
        for action, rows in TABLE.needed("write").items():
            found.setdefault(action, set()).update(rows)
    for name, row in TABLE.pipeline.items():
        for need in ("read", "write") if kind == "deploy" else ("read",):
            for action in row.actions(need):
                found.setdefault(action, set()).add(f"pipeline.{name}")
    return found


def check(kind: str, stack: Stack, documents: list[dict]) -> tuple[set[str], set[str]]:
    """(actions a row needs that the documents do not allow for the program's requests,
    actions the documents allow that no row needs)."""
    ctx = context(stack)
    missing = {
        action
        for action, creating in requests(kind, stack)
        if denied_request(documents, action, stack, creating)
    }
    missing |= {
        action
        for action, resource in pipeline_requests(kind, stack)
        if not iam_eval.allowed(documents, action, resource, ctx)
    }
    extra = iam_eval.allowed_actions(documents) - needed(kind).keys()
    return missing, extra


def rendered(kind: str, stack: str) -> list[dict]:
    return policies.documents(policies.statements(kind, TABLE, ACCOUNT, STACKS[stack]))
