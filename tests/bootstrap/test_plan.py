"""The bootstrap program under the mock engine: what it registers in the example account."""

from __future__ import annotations

import json

import pytest

from bootstrap import facts
from bootstrap.config import BootstrapConfigError, load
from tools import bootstrap_plan
from tools.offline import ProgramError, stack_config, stack_names
from tools.offline.stackfiles import read_stack_file
from tools.report import verdicts

ISSUER = "token.actions.githubusercontent.com"


@pytest.fixture(scope="module")
def plan():
    return bootstrap_plan.run("example")


def values() -> dict:
    return read_stack_file(bootstrap_plan.stack_file("example"))


def account() -> str:
    """The account the example bootstrap stack names (and plans in)."""
    return str(values()["eks-pipeline-bootstrap:accountId"])


def test_every_mandatory_rule_passes(plan):
    failed = [v.name for v in verdicts(plan, bootstrap_plan.settings(plan)) if v.failed]
    assert failed == []
    assert bootstrap_plan.main("example") == 0


def test_the_state_bucket_is_versioned_encrypted_private_and_tls_only(plan):
    bucket = plan.one("aws:s3/bucket:Bucket")
    assert bucket.inputs["bucket"] == "example-eks-config-storage-state"
    assert bucket.protect and bucket.options["retainOnDelete"]
    assert plan.one("aws:s3/bucketVersioning:BucketVersioning").inputs[
        "versioningConfiguration"
    ] == {"status": "Enabled"}
    (rule,) = plan.one(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
    ).inputs["rules"]
    default = rule["applyServerSideEncryptionByDefault"]
    assert default["sseAlgorithm"] == "aws:kms"
    assert default["kmsMasterKeyId"] == plan.one("aws:kms/key:Key", "state-key").outputs["arn"]
    block = plan.one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock").inputs
    assert all(
        block[k]
        for k in (
            "blockPublicAcls",
            "blockPublicPolicy",
            "ignorePublicAcls",
            "restrictPublicBuckets",
        )
    )
    (deny,) = json.loads(plan.one("aws:s3/bucketPolicy:BucketPolicy").inputs["policy"])["Statement"]
    assert deny["Effect"] == "Deny"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_one_secrets_key_per_main_stack(plan):
    aliases = {a.inputs["name"] for a in plan.of_type("aws:kms/alias:Alias")}
    assert aliases == {
        "alias/pulumi-secrets-dev",
        "alias/pulumi-secrets-prod",
        "alias/pulumi-state",
    }
    for key in plan.of_type("aws:kms/key:Key"):
        assert key.inputs["enableKeyRotation"] and key.protect
    # The main stacks the example account covers are the repository's stack files.
    assert {s["name"] for s in values()["eks-pipeline-bootstrap:stacks"]} == set(stack_names())


def test_github_oidc_provider(plan):
    provider = plan.one("aws:iam/openIdConnectProvider:OpenIdConnectProvider")
    assert provider.inputs["url"] == f"https://{ISSUER}"
    assert provider.inputs["clientIdLists"] == ["sts.amazonaws.com"]


def role(plan, name: str):
    return plan.one("aws:iam/role:Role", f"{name}-role")


@pytest.mark.parametrize("fact", facts.roles(), ids=lambda f: f.name)
def test_each_role_of_the_fact_sheet(plan, fact):
    registered = role(plan, fact.name)
    assert registered.inputs["name"] == fact.name
    assert registered.inputs["maxSessionDuration"] == fact.max_session_duration
    (stmt,) = json.loads(registered.inputs["assumeRolePolicy"])["Statement"]
    assert stmt["Principal"]["Federated"].endswith(f":oidc-provider/{ISSUER}")
    claims = stmt["Condition"]["StringEquals"]
    context = (
        f"environment:{fact.trust['environment']}"
        if "environment" in fact.trust
        else fact.trust["event"]
    )
    # The immutable subject only: the legacy name-only form is opt-in.
    assert claims[f"{ISSUER}:sub"] == [
        f"repo:example-org@1000001/eks-config-storage@2000002:{context}"
    ]
    assert claims[f"{ISSUER}:aud"] == "sts.amazonaws.com"
    assert claims[f"{ISSUER}:repository"] == "example-org/eks-config-storage"
    assert claims[f"{ISSUER}:repository_id"] == "2000002"
    if fact.kind != "preview":
        assert claims[f"{ISSUER}:environment"] == fact.trust["environment"]
        assert claims[f"{ISSUER}:ref"] == "refs/heads/main"
        assert claims[f"{ISSUER}:job_workflow_ref"] == (
            "example-org/eks-config-storage/.github/workflows/deploy.yml@refs/heads/main"
        )
    assert plan.exports[fact.variable] == f"arn:aws:iam::{account()}:role/{fact.name}"


def test_the_legacy_subject_is_an_opt_in_fallback():
    changed = values()
    changed["eks-pipeline-bootstrap:github"] = {
        **changed["eks-pipeline-bootstrap:github"],
        "legacySubject": True,
    }
    plan = bootstrap_plan.run("example", changed)
    (stmt,) = json.loads(role(plan, "github-deploy-dev").inputs["assumeRolePolicy"])["Statement"]
    assert stmt["Condition"]["StringEquals"][f"{ISSUER}:sub"] == [
        "repo:example-org@1000001/eks-config-storage@2000002:environment:dev",
        "repo:example-org/eks-config-storage:environment:dev",
    ]


def test_the_main_stacks_name_the_boundary_the_bootstrap_creates(plan):
    (boundary,) = [p for p in plan.of_type("aws:iam/policy:Policy") if p.name == "boundary-policy"]
    for stack in stack_names():
        configured = stack_config(stack)["eks-config-storage:iam"]["permissionsBoundary"]
        assert configured == f"arn:aws:iam::{account()}:policy/{boundary.inputs['name']}"


def test_a_bad_file_names_every_problem_and_registers_nothing():
    bad = values()
    bad["eks-pipeline-bootstrap:stateBucket"] = "Not_A_Bucket"
    bad["eks-pipeline-bootstrap:github"] = {"owner": "example-org", "repository": "r"}
    bad["eks-pipeline-bootstrap:stacks"] = [{"name": "dev"}, {"name": "staging"}]
    bad["eks-pipeline-bootstrap:stateBuckets"] = "typo"
    with pytest.raises(ProgramError) as caught:
        bootstrap_plan.run("example", bad)
    assert caught.value.registered == 0
    message = str(caught.value)
    for key in (
        "stateBucket",
        "github.ownerId",
        "github.repositoryId",
        "stateBuckets: unknown key",
    ):
        assert key in message, key


def test_a_stack_without_a_deploy_role_is_refused():
    raw = {k.split(":", 1)[1]: v for k, v in values().items() if k.startswith("eks-pipeline")}
    raw["stacks"] = [{"name": "staging"}]
    with pytest.raises(BootstrapConfigError) as caught:
        load(raw, "example")
    assert "'staging' has no deploy role" in str(caught.value)


def test_credentials_of_another_account_register_nothing(monkeypatch):
    """The offline run answers as the stack's account; a real run's credentials may not."""
    monkeypatch.setattr(
        "tools.offline.mocks.AwsMocks._call_getCallerIdentity",
        lambda self, _: {"accountId": "999999999999", "arn": "arn:aws:sts::9:x", "id": "9"},
    )
    with pytest.raises(ProgramError) as caught:
        bootstrap_plan.run("example")
    assert caught.value.registered == 0
    assert "credentials are of account 999999999999" in str(caught.value)


def test_a_stack_of_another_account_plans_offline_as_that_account():
    other = values()
    other["eks-pipeline-bootstrap:accountId"] = "210987654321"
    plan = bootstrap_plan.run("example", other)
    assert plan.exports["AWS_DEPLOY_ROLE_ARN_DEV"] == (
        "arn:aws:iam::210987654321:role/github-deploy-dev"
    )
    # and the mocks answer as the example account again afterwards
    assert (
        bootstrap_plan.run("example")
        .exports["AWS_DEPLOY_ROLE_ARN_DEV"]
        .startswith(f"arn:aws:iam::{account()}:")
    )
