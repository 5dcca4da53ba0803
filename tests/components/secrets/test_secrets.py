"""Secrets in three layers: etcd envelope encryption (see test_cluster), External Secrets with
IRSA scoped to the environment, Sealed Secrets for Git; and no plaintext secret anywhere."""

from __future__ import annotations

import json
import re

import pytest

from tests.support.plan_helpers import aws_of, doc, statement
from tools.offline import Plan, stack_config

RELEASE = "kubernetes:helm.sh/v3:Release"
STORE = "kubernetes:external-secrets.io/v1:ClusterSecretStore"


def release(plan: Plan, chart: str):
    return next(r for r in plan.of_type(RELEASE) if r.inputs["chart"] == chart)


def test_eso_role_trusts_only_the_operator_service_account(plan):
    role = plan.one("aws:iam/role:Role", "controllers-external-secrets-role")
    condition = doc(role, "assumeRolePolicy")["Statement"][0]["Condition"]["StringEquals"]
    subs = [v for k, v in condition.items() if k.endswith(":sub")]
    assert subs == ["system:serviceaccount:external-secrets:external-secrets"]


def test_eso_may_read_only_its_environments_secrets_and_decrypt_only_through_them(plan):
    env = plan.exports["environment"]
    aws = aws_of(plan.stack)
    policy = doc(
        plan.one(
            "aws:iam/rolePolicy:RolePolicy", "controllers-external-secrets-environment-secrets"
        )
    )
    secrets = statement(policy, "EnvironmentSecrets")
    assert secrets["Action"] == ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"]
    assert secrets["Resource"] == aws.arn("secretsmanager", f"secret:{env}/*")
    params = statement(policy, "EnvironmentParameters")
    assert params["Action"] == ["ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath"]
    assert params["Resource"] == [
        aws.arn("ssm", f"parameter/{env}"),
        aws.arn("ssm", f"parameter/{env}/*"),
    ]
    decrypt = statement(policy, "DecryptThroughTheseServicesOnly")
    assert decrypt["Action"] == "kms:Decrypt"
    assert decrypt["Resource"] == plan.one("aws:kms/key:Key").outputs["arn"]
    assert decrypt["Condition"] == {
        "StringEquals": {
            "kms:ViaService": [
                f"secretsmanager.{aws.region}.amazonaws.com",
                f"ssm.{aws.region}.amazonaws.com",
            ]
        }
    }
    never = statement(policy, "NeverThePlatformsOwn")
    assert never == {
        "Sid": "NeverThePlatformsOwn",
        "Effect": "Deny",
        "Action": "secretsmanager:*",
        "Resource": aws.arn("secretsmanager", f"secret:{env}/sealed-secrets/*"),
    }
    assert len(policy["Statement"]) == 4


@pytest.mark.parametrize(
    ("chart", "key", "repo", "namespace"),
    [
        (
            "external-secrets",
            "externalSecrets",
            "https://charts.external-secrets.io",
            "external-secrets",
        ),
        (
            "sealed-secrets",
            "sealedSecrets",
            "https://bitnami.github.io/sealed-secrets",
            "kube-system",
        ),
    ],
)
def test_helm_releases_are_pinned_upstream_charts(plan, chart, key, repo, namespace):
    r = release(plan, chart)
    assert (
        r.inputs["version"] == stack_config(plan.stack)[f"eks-config-storage:{key}"]["chartVersion"]
    )
    assert r.inputs["repositoryOpts"] == {"repo": repo}
    assert r.inputs["namespace"] == namespace
    assert r.inputs["atomic"] is True
    for group in plan.of_type("aws:eks/nodeGroup:NodeGroup"):
        assert plan.depends_on(r, group)


def test_eso_installs_its_crds_and_runs_as_its_irsa_role(plan):
    values = release(plan, "external-secrets").inputs["values"]
    assert values["installCRDs"] is True
    # Uninstalling or moving the release never takes the CRDs and every ExternalSecret with it.
    assert values["crds"] == {"annotations": {"helm.sh/resource-policy": "keep"}}
    role_arn = plan.one("aws:iam/role:Role", "controllers-external-secrets-role").outputs["arn"]
    assert values["serviceAccount"] == {
        "create": True,
        "name": "external-secrets",
        "annotations": {"eks.amazonaws.com/role-arn": role_arn},
    }


def test_sealed_secrets_controller_has_kubeseals_default_name(plan):
    values = release(plan, "sealed-secrets").inputs["values"]
    assert values["fullnameOverride"] == "sealed-secrets-controller"


def test_cluster_stores_authenticate_with_the_operators_service_account_only(plan):
    stores = {
        r.inputs["metadata"]["name"]: r
        for r in plan.of_type(STORE)
        if r.inputs["metadata"]["name"] != "sealing-key-escrow"
    }
    assert sorted(stores) == ["aws-parameter-store", "aws-secrets-manager"]
    services = {"aws-secrets-manager": "SecretsManager", "aws-parameter-store": "ParameterStore"}
    eso = release(plan, "external-secrets")
    for name, store in stores.items():
        aws = store.inputs["spec"]["provider"]["aws"]
        assert aws["service"] == services[name]
        assert aws["region"] == aws_of(plan.stack).region
        assert aws["auth"] == {
            "jwt": {
                "serviceAccountRef": {"name": "external-secrets", "namespace": "external-secrets"}
            }
        }
        assert store.inputs["spec"]["conditions"] == [
            {"namespaceSelector": {"matchLabels": {"eks-config-storage.io/app": "true"}}}
        ]
        assert plan.depends_on(store, eso), "the CRDs come with the chart"


SECRET_LOOKING = re.compile(
    r"AKIA[A-Z0-9]{16}|-----BEGIN [A-Z ]*PRIVATE KEY|aws_secret_access_key|secretAccessKey"
    r"|offline-placeholder-for-a-secret",
    re.IGNORECASE,
)


def test_no_plaintext_secret_anywhere_in_the_graph(plans):
    for plan in plans.values():
        for resource in plan:
            if resource.type == "kubernetes:core/v1:Secret":
                assert not resource.inputs.get("data"), resource.urn
                assert not resource.inputs.get("stringData"), resource.urn
            text = json.dumps(resource.inputs)
            assert not SECRET_LOOKING.search(text), resource.urn
        assert not plan.of_type("kubernetes:core/v1:Secret"), "secrets come from ESO or sealing"
