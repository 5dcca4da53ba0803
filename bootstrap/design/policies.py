"""The pipeline roles' permissions, rendered from the permissions table (``bootstrap/
permissions/actions.yaml``): preview and plan roles get what the table's ``read`` column needs,
deploy roles what all four columns need, each action pointed at its scope (``scopes``). Pure."""

from __future__ import annotations

import json
import re

from bootstrap.design import scopes
from bootstrap.design.boundary import PIPELINE_KEY_ALIASES
from bootstrap.design.context import Account, Stack
from bootstrap.facts import Kind
from bootstrap.permissions import RESOURCELESS, Table

# Role changes that could grant permissions: allowed only while the role carries the boundary
# (IAM User Guide, "Permissions boundaries for IAM entities", delegating role creation).
BOUNDED = frozenset(
    {
        "iam:CreateRole",
        "iam:PutRolePolicy",
        "iam:DeleteRolePolicy",
        "iam:AttachRolePolicy",
        "iam:DetachRolePolicy",
        "iam:UpdateAssumeRolePolicy",
        "iam:PutRolePermissionsBoundary",
    }
)
ATTACH = frozenset({"iam:AttachRolePolicy", "iam:DetachRolePolicy"})
# The AWS managed policies the main program attaches (components/cluster.py, nodes.py,
# controller_roles.py; the EBS CSI role's depend on the stack's identity, design/identity.py):
# a deploy role may attach these and no other.
MANAGED_POLICIES = (
    "AmazonEKSClusterPolicy",
    "AmazonEKSWorkerNodePolicy",
    "AmazonEKS_CNI_Policy",
    "AmazonEC2ContainerRegistryPullOnly",
    "service-role/AmazonEBSCSIDriverPolicyV2",
    "service-role/AmazonEBSCSIDriverEKSClusterScopedPolicy",
)
# A managed policy document holds at most 6,144 characters, whitespace not counted; a role has
# at most 10 managed policies attached by default (IAM User Guide, "IAM and AWS STS quotas").
DOCUMENT_LIMIT = 6144
ATTACHED_LIMIT = 10
VERSION = "2012-10-17"
READ_VERBS = ("Describe", "Get", "List")


def _sid(*parts: str) -> str:
    return "".join(p.title() for part in parts for p in re.split(r"[^A-Za-z0-9]+", part) if p)


def _statement(sid: str, actions, resources, condition=None, effect="Allow", **extra) -> dict:
    """One statement; ``extra`` may give NotAction or NotResource instead. Lists are sorted so
    that a rendering is stable and comparable."""
    stmt: dict = {"Sid": sid, "Effect": effect}
    if "NotAction" in extra:
        stmt["NotAction"] = sorted(extra.pop("NotAction"))
    else:
        stmt["Action"] = sorted(actions)
    if "NotResource" in extra:
        stmt["NotResource"] = sorted(extra.pop("NotResource"))
    else:
        stmt["Resource"] = sorted(extra.pop("Resource", resources))
    if condition:
        stmt["Condition"] = condition
    return stmt


def managed_policy_arns(account: Account) -> list[str]:
    return [f"arn:{account.partition}:iam::aws:policy/{name}" for name in MANAGED_POLICIES]


def _by_scope(table: Table, actions: set[str]) -> dict[str, set[str]]:
    grouped: dict[str, set[str]] = {}
    for action in actions:
        for scope in table.scopes_of(action):
            grouped.setdefault(scope, set()).add(action)
    return grouped


def _reads(table: Table, account: Account, stack: Stack, actions: set[str]) -> list[dict]:
    return [
        _statement(_sid("Read", scope), acts, scopes.resources(scope, account, stack))
        for scope, acts in sorted(_by_scope(table, actions).items())
    ]


def _writes(
    table: Table, account: Account, stack: Stack, writes: set[str], creates: set[str]
) -> list[dict]:
    out = []
    for scope, acts in sorted(_by_scope(table, writes).items()):
        where = scopes.resources(scope, account, stack)
        if scope == "iam-roles":
            out += _role_writes(account, acts, where)
        elif scope == RESOURCELESS:
            # Only creates lack resource-level permissions here (CreateKey, CreateCluster,
            # CreateFileSystem): the new resource must be tagged with the environment.
            out.append(_statement("CreateTagged", acts, where, scopes.created(stack)))
        elif scopes.tag_conditioned(scope, account):
            new = acts & creates
            if new:
                out.append(_statement(_sid("Create", scope), new, where, scopes.created(stack)))
            out.append(_statement(_sid("Change", scope), acts, where, scopes.existing(stack)))
        else:
            out.append(
                _statement(_sid("Write", scope), acts, where, scopes.extra_conditions(scope))
            )
    return out


def _role_writes(account: Account, actions: set[str], where: list[str]) -> list[dict]:
    boundary = {"StringEquals": {"iam:PermissionsBoundary": account.boundary_arn}}
    out = []
    bounded = actions & BOUNDED - ATTACH
    if bounded:
        out.append(_statement("RolesUnderTheBoundary", bounded, where, boundary))
    if actions & ATTACH:
        condition = {
            **boundary,
            "ArnEquals": {"iam:PolicyARN": managed_policy_arns(account)},
        }
        out.append(_statement("ProgramManagedPolicies", actions & ATTACH, where, condition))
    plain = actions - BOUNDED
    if plain:
        out.append(_statement("RolesOfTheStack", plain, where))
    return out


def _state(table: Table, account: Account, stack: Stack, kind: Kind) -> list[dict]:
    state = table.pipeline["state"]
    objects = {a for a in state.actions("read") | state.actions("write") if a.startswith("s3:")}
    key_reads = state.actions("read") - objects
    key_writes = (state.actions("write") - objects) if kind == "deploy" else set()
    readable = stack.readable_objects(account)
    out = [
        _statement(
            "ListState",
            ["s3:ListBucket"],
            [account.bucket_arn],
            {"StringLike": {"s3:prefix": [".pulumi/*"]}},
        ),
        _statement(
            "ReadThisStacksState", state.actions("read") & objects - {"s3:ListBucket"}, readable
        ),
        _statement("StateKey", key_reads | key_writes, [stack.state_key_arn]),
    ]
    if kind == "deploy":
        out.append(
            _statement(
                "WriteThisStacksState",
                state.actions("write") & objects,
                stack.state_objects(account),
            )
        )
        # Every object of the stack, in any version, and nothing else: the bucket is versioned.
        readable = sorted({*readable, *stack.state_objects(account)})
        out[1] = _statement(
            "ReadThisStacksState", state.actions("read") & objects - {"s3:ListBucket"}, readable
        )
    out.append(
        _statement(
            "NoOtherObjects",
            ["s3:GetObject", "s3:GetObjectVersion"],
            (),
            effect="Deny",
            NotResource=readable,
        )
    )
    out.append(
        _statement(
            "DecryptThisStacksSecrets",
            table.pipeline["secrets"].actions("read"),
            [stack.secrets_key_arn],
        )
    )
    return out


def _denies(account: Account, kind: Kind) -> list[dict]:
    out = [
        # Secret values are never the pipeline's to read: only AWS's public parameters.
        _statement(
            "NoSecretValues",
            [
                "secretsmanager:GetSecretValue",
                "secretsmanager:BatchGetSecretValue",
                "ssm:GetParameter*",
            ],
            (),
            effect="Deny",
            NotResource=[account.public_parameters],
        )
    ]
    if kind != "deploy":
        return out
    out += [
        _statement(
            "NoBoundaryRemoval",
            ["iam:DeleteRolePermissionsBoundary", "iam:DeleteUserPermissionsBoundary"],
            ["*"],
            effect="Deny",
        ),
        _statement(
            "NoBoundaryChange",
            [
                "iam:CreatePolicyVersion",
                "iam:DeletePolicy",
                "iam:DeletePolicyVersion",
                "iam:SetDefaultPolicyVersion",
            ],
            [account.boundary_arn],
            effect="Deny",
        ),
        _statement(
            "NoPipelineRoles",
            ["iam:*"],
            [account.iam(f"role/{name}") for name in account.pipeline_roles],
            effect="Deny",
        ),
        # The pipeline's keys carry no environment tag: without this, a deploy role could tag
        # one into its environment and then rewrite its key policy.
        _statement(
            "NoPipelineKeys",
            (),
            ["*"],
            {"ForAnyValue:StringLike": {"kms:ResourceAliases": PIPELINE_KEY_ALIASES}},
            effect="Deny",
            NotAction=["kms:Decrypt", "kms:GenerateDataKey"],
            Resource=["*"],
        ),
        # A role in the same account that names this one in its trust could otherwise be
        # assumed without any identity permission (IAM User Guide, "Cross account resource
        # access": same-account trust needs no identity policy when it names the role ARN).
        _statement("NoRoleHopping", ["sts:AssumeRole", "sts:TagSession"], ["*"], effect="Deny"),
    ]
    return out


def statements(kind: Kind, table: Table, account: Account, stack: Stack) -> list[dict]:
    """Every statement of a pipeline role of ``kind`` for ``stack``."""
    reads = set(table.needed("read"))
    writes: set[str] = set()
    if kind == "deploy":
        # A look-up a write makes (Subnet delete waits on DescribeNetworkInterfaces) is a read.
        writes = set(table.needed("write")) - reads
        reads |= {a for a in writes if a.split(":")[1].startswith(READ_VERBS)}
        writes -= reads
    out = _state(table, account, stack, kind) + _reads(table, account, stack, reads)
    if writes:
        creates = {a for row in table.rows() for a in row.columns.get("create", ())}
        out += _writes(table, account, stack, writes, creates)
    return out + _denies(account, kind)


def documents(stmts: list[dict]) -> list[dict]:
    """Statements packed into as few managed policy documents as fit IAM's size limit."""
    docs: list[list[dict]] = [[]]
    for stmt in stmts:
        candidate = {"Version": VERSION, "Statement": [*docs[-1], stmt]}
        if docs[-1] and size(candidate) > DOCUMENT_LIMIT:
            docs.append([stmt])
        else:
            docs[-1].append(stmt)
    return [{"Version": VERSION, "Statement": d} for d in docs]


def size(document: dict) -> int:
    """IAM counts a policy's characters without whitespace."""
    return len(json.dumps(document, separators=(",", ":")))
