"""Least privilege judged against what the program calls: every pipeline role's rendered policy
documents, resources and conditions included, evaluated against the permissions table
(bootstrap/permissions/actions.yaml). A role that lacks an action a row needs for its kind, or
holds one no row needs, fails; policy_sentry's IAM database (offline) says which actions exist
and which resources each one is authorized on."""

from __future__ import annotations

import inspect
import re

import pulumi_aws as aws
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from policy_sentry.querying.actions import get_action_data
from policy_sentry.querying.all import get_all_actions

from bootstrap.design import policies
from policies.rules.base import RESOURCE_WILDCARD_EXCEPTIONS
from tests.bootstrap import iam_eval
from tests.bootstrap.requests import (
    ACCOUNT,
    ACCOUNT_ID,
    READ_ONLY_EXCEPTIONS,
    ROLES,
    ROOT,
    STACKS,
    STATE_KEY,
    TABLE,
    check,
    context,
    denied_request,
    formats,
    needed,
    pipeline_requests,
    placeholders,
    rendered,
    requests,
)
from tools.offline import mocks, run_config, stack_config

# -- the table ---------------------------------------------------------------------------------


def table_actions() -> set[str]:
    rows = [*TABLE.rows(), *TABLE.pipeline.values()]
    return {a for row in rows for column in row.columns.values() for a in column}


def test_every_action_of_the_table_exists_in_the_iam_database():
    assert [a for a in sorted(table_actions()) if not formats(a)] == []


def test_resourceless_actions_are_exactly_those_without_resource_types():
    without = {a for a in table_actions() if set(formats(a)) == {"*"}}
    assert without == TABLE.resourceless
    # The rule that allows "*" only for these knows the same list.
    assert TABLE.resourceless == RESOURCE_WILDCARD_EXCEPTIONS


def test_every_row_cites_its_source():
    for row in [*TABLE.rows(), *TABLE.pipeline.values()]:
        assert re.search(r"\b(tf|sar)\b|pulumi/pulumi@|User Guide|API Reference", row.source), (
            row.key
        )


def registered_tokens() -> tuple[set[str], set[str]]:
    """Every AWS resource type and invoke the program's code can register or call, from the
    SDK classes and functions its modules name (whatever the stack enables)."""
    code = "\n".join(p.read_text() for p in [ROOT / "__main__.py", *ROOT.glob("components/*.py")])
    types, invokes = set(), set()
    for module, name in set(re.findall(r"(?<![\w.])aws\.(?:(\w+)\.)?([A-Za-z_]\w*)\(", code)):
        target = getattr(getattr(aws, module) if module else aws, name)
        source = inspect.getsource(inspect.getmodule(target))
        tokens = re.findall(r"['\"](aws:[\w/]+:\w+)['\"]", source)
        if inspect.isclass(target):
            types.add(next(t for t in tokens if t.endswith(f":{name}")))
        else:
            base = name.removesuffix("_output")
            camel = re.sub(r"_(\w)", lambda m: m.group(1).upper(), base)
            invokes.add(next(t for t in tokens if t.endswith(f":{camel}")))
    return types, invokes


def test_the_table_has_a_row_for_everything_the_program_can_register_or_call():
    types, invokes = registered_tokens()
    assert types == {row.key for row in TABLE.resources}
    assert invokes == {row.key for row in TABLE.invokes}


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_plans_register_and_call_nothing_outside_the_table(stack, monkeypatch):
    called: set[str] = set()
    answer = mocks.AwsMocks.call

    def recording(self, args):
        called.add(args.token)
        return answer(self, args)

    monkeypatch.setattr(mocks.AwsMocks, "call", recording)
    config = stack_config(stack)
    plan = run_config(stack, config)
    aws_types = {r.type for r in plan if r.custom and r.type.startswith("aws:")}
    assert aws_types <= {row.key for row in TABLE.resources}
    assert called <= {row.key for row in TABLE.invokes}
    # The AMI release look-up runs for a node group without a pinned `releaseVersion` only.
    groups = config["eks-config-storage:nodeGroups"]
    unpinned = any(not group.get("releaseVersion") for group in groups)
    assert ("aws:ssm/getParameter:getParameter" in called) == unpinned


# -- the rendered roles against the table --------------------------------------------------------


@pytest.mark.parametrize(("kind", "stack"), ROLES)
def test_each_role_holds_exactly_what_the_table_needs_for_its_kind(kind, stack):
    missing, extra = check(kind, STACKS[stack], rendered(kind, stack))
    assert missing == set()
    assert extra == set()


@pytest.mark.parametrize(("kind", "stack"), ROLES)
def test_documents_fit_iams_limits(kind, stack):
    documents = rendered(kind, stack)
    assert len(documents) <= policies.ATTACHED_LIMIT
    assert all(policies.size(d) <= policies.DOCUMENT_LIMIT for d in documents)
    for action in iam_eval.allowed_actions(documents):
        assert formats(action), action


DEPLOY_NEEDS = sorted(needed("deploy"))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(DEPLOY_NEEDS))
def test_a_missing_action_is_caught(action):
    documents = rendered("deploy", "prod")
    for stmt in iam_eval.statements(documents):
        if stmt["Effect"] == "Allow":
            stmt["Action"] = [a for a in stmt["Action"] if a != action]
    missing, _ = check("deploy", STACKS["prod"], documents)
    assert action in missing


UNNEEDED = sorted(set(get_all_actions()) - needed("deploy").keys())


@settings(max_examples=25, deadline=None)
@given(st.sampled_from(UNNEEDED), st.sampled_from(ROLES))
def test_an_extra_action_is_caught(action, role):
    kind, stack = role
    documents = rendered(kind, stack)
    documents[-1]["Statement"].append({"Effect": "Allow", "Action": [action], "Resource": ["*"]})
    _, extra = check(kind, STACKS[stack], documents)
    assert extra == {action}


def test_a_read_role_given_a_write_is_caught():
    """The read column is what preview and plan get: a deploy-only action is extra for them."""
    documents = rendered("plan", "prod")
    documents[0]["Statement"].append(
        {"Effect": "Allow", "Action": ["ec2:DeleteVpc"], "Resource": ["*"]}
    )
    assert check("plan", STACKS["prod"], documents)[1] == {"ec2:DeleteVpc"}


# -- what the conditions must hold ---------------------------------------------------------------


def access_level(action: str) -> str:
    service, name = action.split(":")
    return get_action_data(service, name)[service][0]["access_level"]


@pytest.mark.parametrize(("kind", "stack"), [r for r in ROLES if r[0] != "deploy"])
def test_preview_and_plan_roles_cannot_change_aws(kind, stack):
    documents = rendered(kind, stack)
    writes = {
        a for a in iam_eval.allowed_actions(documents) if access_level(a) not in ("Read", "List")
    }
    assert writes == READ_ONLY_EXCEPTIONS
    own = STACKS[stack]
    ctx = context(own)
    name = placeholders("ssm:GetParameter", own)["ParameterNameWithoutLeadingSlash"]
    public = f"arn:aws:ssm:eu-west-1::parameter/{name}"
    assert iam_eval.allowed(documents, "ssm:GetParameter", public, ctx)
    for action, resource in [
        ("ssm:GetParameter", f"arn:aws:ssm:eu-west-1:{ACCOUNT_ID}:parameter/orders/token"),
        ("ssm:GetParameters", f"arn:aws:ssm:eu-west-1:{ACCOUNT_ID}:parameter/orders/token"),
        (
            "secretsmanager:GetSecretValue",
            f"arn:aws:secretsmanager:eu-west-1:{ACCOUNT_ID}:secret:x",
        ),
        ("logs:GetLogEvents", f"arn:aws:logs:eu-west-1:{ACCOUNT_ID}:log-group:/aws/eks/x:*"),
        ("logs:FilterLogEvents", f"arn:aws:logs:eu-west-1:{ACCOUNT_ID}:log-group:/aws/eks/x:*"),
        ("s3:GetObject", f"{ACCOUNT.bucket_arn}/.pulumi/stacks/eks-config-storage/other.json"),
        ("s3:GetObjectVersion", f"{ACCOUNT.bucket_arn}/.pulumi/meta.yaml"),
        ("s3:PutObject", f"{ACCOUNT.bucket_arn}/.pulumi/stacks/eks-config-storage/{stack}.json"),
        (
            "s3:PutObject",
            f"{ACCOUNT.bucket_arn}/.pulumi/locks/organization/eks-config-storage/{stack}/l.json",
        ),
        ("s3:GetObject", f"arn:aws:s3:::eks-{stack}-velero-{ACCOUNT_ID}/backups/x"),
        ("kms:Decrypt", STACKS["prod" if stack == "dev" else "dev"].secrets_key_arn),
        ("kms:Encrypt", own.secrets_key_arn),
    ]:
        assert not iam_eval.allowed(documents, action, resource, ctx), (action, resource)


# A network interface is authorized on the interface alone: EFS creates a mount target's with
# the caller's rights and no tags (bootstrap/permissions/actions.yaml). One that is attached
# (a node's, a mount target's) cannot be deleted; an unattached one holds nothing.
UNCONDITIONED = {"ec2:DeleteNetworkInterface"}


def test_dev_deploy_cannot_touch_prod_in_the_shared_account():
    dev = rendered("deploy", "dev")
    prod = STACKS["prod"]
    for action, creating in sorted(requests("deploy", prod)):
        if action.split(":")[1].startswith(policies.READ_VERBS) or action in UNCONDITIONED:
            continue
        if TABLE.scopes_of(action) == ("service-linked-roles",):
            continue  # account-wide, and only AWS's own service roles
        assert denied_request(dev, action, prod, creating), (action, creating)
    for action, resource in pipeline_requests("deploy", prod):
        if resource in (ACCOUNT.bucket_arn, STATE_KEY) or resource.endswith("meta.yaml"):
            continue  # the bucket listing and the state key are shared by every stack
        assert not iam_eval.allowed(dev, action, resource, context(prod)), (action, resource)


def test_no_deploy_role_can_take_over_a_pipeline_key():
    """The pipeline's keys carry no environment tag; tagging one into an environment would hand
    its key policy to that environment's deploy role."""
    for stack in ("dev", "prod"):
        documents = rendered("deploy", stack)
        for alias in ("alias/pulumi-secrets-prod", "alias/pulumi-state"):
            ctx = {**context(STACKS[stack], creating=True), "kms:ResourceAliases": [alias]}
            for action in ("kms:TagResource", "kms:PutKeyPolicy", "kms:ScheduleKeyDeletion"):
                assert not iam_eval.allowed(documents, action, STATE_KEY, ctx), (alias, action)


def test_tags_at_create_are_request_tags_not_resource_tags():
    """A key that does not exist yet has no tags: CreateKey and TagResource at create are
    authorized on the request's tags (AWS KMS Developer Guide, "Controlling access to tags")."""
    documents = rendered("deploy", "dev")
    creating = {"aws:RequestTag/environment": "dev", "aws:TagKeys": ["environment", "project"]}
    assert iam_eval.allowed(documents, "kms:CreateKey", "*", creating)
    key = f"arn:aws:kms:eu-west-1:{ACCOUNT_ID}:key/new"
    assert iam_eval.allowed(documents, "kms:TagResource", key, creating)
    assert not iam_eval.allowed(documents, "kms:CreateKey", "*", {})
    # Re-tagging prod's key into dev is not a create.
    retag = {**creating, "aws:ResourceTag/environment": "prod"}
    assert not iam_eval.allowed(documents, "kms:TagResource", key, retag)
    assert not iam_eval.allowed(
        documents, "kms:ScheduleKeyDeletion", key, {"aws:ResourceTag/environment": "prod"}
    )


def test_deploy_roles_create_and_read_the_backup_bucket():
    for stack in ("dev", "prod"):
        documents = rendered("deploy", stack)
        bucket = f"arn:aws:s3:::eks-{stack}-velero-{ACCOUNT_ID}"
        for action in ("s3:CreateBucket", "s3:GetBucketPolicy", "s3:PutBucketVersioning"):
            assert iam_eval.allowed(documents, action, bucket, context(STACKS[stack]))
        other = f"arn:aws:s3:::eks-other-velero-{ACCOUNT_ID}"
        assert not iam_eval.allowed(documents, "s3:DeleteBucket", other, context(STACKS[stack]))


def test_the_pipeline_secrets_keys_decrypt_only_and_deploy_needs_no_encrypt():
    """The secrets manager decrypts the stack's data key once and then encrypts and decrypts
    locally (pulumi/pulumi@v3.259.0:pkg/secrets/cloud/manager.go:94-123)."""
    for kind, stack in ROLES:
        documents = rendered(kind, stack)
        key = STACKS[stack].secrets_key_arn
        assert iam_eval.allowed(documents, "kms:Decrypt", key, {})
        for action in ("kms:Encrypt", "kms:GenerateDataKey", "kms:ScheduleKeyDeletion"):
            assert not iam_eval.allowed(documents, action, key, {}), (kind, action)
