"""policies/rules/identity.py, who may do what: IRSA trust, wildcards, RBAC, IMDSv2, the endpoint,
pod security. For every rule a compliant and a violating case."""

from __future__ import annotations

import pytest

from policies.rules import identity
from tests.support.rule_subjects import (
    DEV,
    GOOD_POD_TRUST,
    GOOD_TRUST,
    ISSUER,
    assert_resource_cases,
    cluster,
    namespace,
    pod_trust,
    policy,
    role,
    template,
    trust,
)

# rule name -> (settings, compliant subjects, violating subjects, expected text in a violation)
CASES = {
    "irsa-trust-exact": (
        DEV,
        [trust(GOOD_TRUST)],
        [
            trust(
                {
                    "StringLike": {
                        f"{ISSUER}:sub": "system:serviceaccount:apps:*",
                        f"{ISSUER}:aud": "sts.amazonaws.com",
                    }
                }
            ),
            trust({"StringEquals": {f"{ISSUER}:sub": "system:serviceaccount:apps:orders"}}),
            trust(
                {
                    "StringEquals": {
                        f"{ISSUER}:sub": "system:serviceaccount:apps:orders",
                        f"{ISSUER}:aud": "other",
                    }
                }
            ),
        ],
        "IRSA",
    ),
    "pod-identity-trust-exact": (
        DEV,
        [pod_trust(GOOD_POD_TRUST), trust(GOOD_TRUST)],
        [
            pod_trust(None),
            pod_trust({"StringEquals": {**GOOD_POD_TRUST["StringEquals"]}}, Action="sts:*"),
            pod_trust(
                {
                    "StringEquals": {
                        k: v
                        for k, v in GOOD_POD_TRUST["StringEquals"].items()
                        if not k.endswith("eks-cluster-arn")
                    }
                }
            ),
            pod_trust(
                {
                    "StringLike": {
                        **GOOD_POD_TRUST["StringEquals"],
                        "aws:RequestTag/eks-cluster-arn": "arn:aws:eks:*:123456789012:cluster/*",
                    }
                }
            ),
            pod_trust(
                {
                    "StringEquals": {
                        **GOOD_POD_TRUST["StringEquals"],
                        "aws:RequestTag/kubernetes-service-account": "*",
                    }
                }
            ),
            pod_trust(
                GOOD_POD_TRUST,
                Principal={"Service": ["pods.eks.amazonaws.com", "ec2.amazonaws.com"]},
            ),
        ],
        "Pod Identity",
    ),
    "iam-no-wildcards": (
        DEV,
        [
            policy({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/p/*"}),
            policy({"Effect": "Allow", "Action": "ec2:DescribeAvailabilityZones", "Resource": "*"}),
            policy({"Effect": "Deny", "Action": "*", "Resource": "*"}),
        ],
        [
            policy({"Effect": "Allow", "Action": "*", "Resource": "arn:aws:s3:::b"}),
            policy({"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::b"}),
            policy({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}),
            policy({"Effect": "Allow", "NotAction": "iam:*", "Resource": "arn:aws:s3:::b"}),
        ],
        "statement",
    ),
    "rbac-least-privilege": (
        DEV,
        [
            role(
                [
                    {
                        "apiGroups": [""],
                        "resources": ["secrets"],
                        "resourceNames": ["a"],
                        "verbs": ["get"],
                    },
                ]
            )
        ],
        [
            role([{"apiGroups": ["*"], "resources": ["pods"], "verbs": ["get"]}]),
            role([{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]}]),
            role(
                [
                    {
                        "apiGroups": [""],
                        "resources": ["secrets"],
                        "resourceNames": ["a"],
                        "verbs": ["get", "list"],
                    }
                ]
            ),
        ],
        "rule 0",
    ),
    "nodes-imdsv2-hop-limit-1": (
        DEV,
        [template()],
        [template(tokens="optional"), template(hops=2)],
        "metadata",
    ),
    "eks-endpoint-exposure": (
        DEV,
        [cluster(), cluster(endpointPublicAccess=True, publicAccessCidrs=["203.0.113.0/24"])],
        [
            cluster(endpointPublicAccess=True, publicAccessCidrs=["0.0.0.0/0"]),
            cluster(endpointPublicAccess=True),
        ],
        "public",
    ),
    "namespaces-pod-security-restricted": (
        DEV,
        [namespace(None), namespace("restricted")],
        [
            namespace("baseline"),
        ],
        "baseline",
    ),
}


def test_every_resource_rule_has_cases():
    assert set(CASES) == {r.name for r in identity.RESOURCE_RULES}


@pytest.mark.parametrize("rule", identity.RESOURCE_RULES, ids=lambda r: r.name)
def test_rule_passes_compliant_and_flags_violating_resources(rule):
    assert_resource_cases(rule, CASES[rule.name])
