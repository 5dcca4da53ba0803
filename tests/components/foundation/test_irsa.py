"""IRSA: the trust policy admits exactly the listed service accounts of one cluster, and the
role's ARN is only handed out once its permissions are attached."""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws
import pytest
from hypothesis import given
from hypothesis import strategies as st

from components.irsa import IrsaRole, IrsaRoleArgs, OidcIdentity
from design import iam
from tests.support.plan_helpers import doc
from tools.offline import run_function

PROVIDER = "arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABC"
ISSUER = "https://oidc.eks.eu-west-1.amazonaws.com/id/ABC"
HOST = "oidc.eks.eu-west-1.amazonaws.com/id/ABC"
CONFIG = {"aws:region": "eu-west-1"}


def irsa_program(service_accounts, managed=(), inline=None):
    def program():
        role = IrsaRole(
            "reader",
            IrsaRoleArgs(
                role_name="eks-test-reader",
                oidc=OidcIdentity(
                    provider_arn=pulumi.Output.from_input(PROVIDER),
                    issuer_url=pulumi.Output.from_input(ISSUER),
                ),
                service_accounts=service_accounts,
                managed_policy_arns=managed,
                inline_policies=inline or {},
            ),
        )
        # A consumer of the ARN, standing in for an add-on or a ServiceAccount annotation.
        aws.ssm.Parameter("consumer", type="String", insecure_value=role.arn)

    return program


def test_trust_policy_is_exact():
    plan = run_function("test", CONFIG, irsa_program([("kube-system", "ebs-csi-controller-sa")]))
    trust = doc(plan.one("aws:iam/role:Role"), "assumeRolePolicy")
    assert trust == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": PROVIDER},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {
                        f"{HOST}:sub": "system:serviceaccount:kube-system:ebs-csi-controller-sa",
                        f"{HOST}:aud": "sts.amazonaws.com",
                    }
                },
            }
        ],
    }


def test_arn_is_released_only_after_every_policy_is_attached():
    plan = run_function(
        "test",
        CONFIG,
        irsa_program(
            [("apps", "orders")],
            managed=["arn:aws:iam::aws:policy/ReadOnlyAccess"],
            inline={"s3": {"Version": "2012-10-17", "Statement": []}},
        ),
    )
    consumer = plan.one("aws:ssm/parameter:Parameter")
    attachment = plan.one("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    inline = plan.one("aws:iam/rolePolicy:RolePolicy")
    assert plan.depends_on(consumer, attachment)
    assert plan.depends_on(consumer, inline)
    assert consumer.inputs["insecureValue"] == "arn:aws:iam::123456789012:role/eks-test-reader"
    assert attachment.inputs["policyArn"] == "arn:aws:iam::aws:policy/ReadOnlyAccess"
    assert json.loads(inline.inputs["policy"]) == {"Version": "2012-10-17", "Statement": []}


def test_children_are_parented_and_named_from_the_component():
    plan = run_function(
        "test", CONFIG, irsa_program([("apps", "orders")], managed=["arn:aws:iam::aws:policy/X"])
    )
    component = plan.one("eks-config-storage:iam:IrsaRole")
    for child in plan.children(component):
        assert child.name.startswith("reader-")
    assert len(plan.children(component)) == 2


names = st.from_regex(r"[a-z0-9]([-a-z0-9]{0,20}[a-z0-9])?", fullmatch=True)


@given(pairs=st.lists(st.tuples(names, names), min_size=1, max_size=5))
def test_trust_lists_each_subject_once_and_only_with_string_equals(pairs):
    policy = iam.irsa_trust_policy(PROVIDER, ISSUER, pairs)
    (stmt,) = policy["Statement"]
    assert set(stmt["Condition"]) == {"StringEquals"}
    sub = stmt["Condition"]["StringEquals"][f"{HOST}:sub"]
    subjects = sub if isinstance(sub, list) else [sub]
    assert sorted(subjects) == sorted({f"system:serviceaccount:{n}:{s}" for n, s in pairs})
    assert stmt["Condition"]["StringEquals"][f"{HOST}:aud"] == "sts.amazonaws.com"
    assert "*" not in json.dumps(stmt)


def test_a_role_must_trust_someone():
    with pytest.raises(ValueError, match="at least one service account"):
        iam.irsa_trust_policy(PROVIDER, ISSUER, [])
