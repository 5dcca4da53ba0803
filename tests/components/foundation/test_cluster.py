"""The control plane: envelope encryption with our key, private-by-default endpoint, logs,
API-mode access entries, OIDC for IRSA, and a Kubernetes provider without static tokens."""

from __future__ import annotations

import ipaddress
import json

from tests.support.plan_helpers import aws_of, doc, private_subnet_ids, typed
from tools.offline import Plan, stack_config

CLUSTER = "aws:eks/cluster:Cluster"


def cluster(plan: Plan):
    return plan.one(CLUSTER)


def test_secrets_are_envelope_encrypted_with_the_stacks_key(plan):
    key_arn = plan.one("aws:kms/key:Key").outputs["arn"]
    assert cluster(plan).inputs["encryptionConfig"] == {
        "provider": {"keyArn": key_arn},
        "resources": ["secrets"],
    }
    assert plan.exports["kmsKeyArn"] == key_arn


def test_cluster_role_may_use_only_that_key(plan):
    key_arn = plan.one("aws:kms/key:Key").outputs["arn"]
    policy = doc(plan.one("aws:iam/rolePolicy:RolePolicy", "cluster-envelope-encryption"))
    assert [s["Resource"] for s in policy["Statement"]] == [key_arn]
    assert policy["Statement"][0]["Action"] == [
        "kms:Encrypt",
        "kms:Decrypt",
        "kms:ListGrants",
        "kms:DescribeKey",
    ]


def test_cluster_role_has_only_the_cluster_policy_and_trusts_only_eks(plan):
    attachments = [
        r
        for r in plan.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        if r.inputs["role"] == plan.one("aws:iam/role:Role", "cluster-role").outputs["name"]
    ]
    assert [a.inputs["policyArn"] for a in attachments] == [
        "arn:aws:iam::aws:policy/AmazonEKSClusterPolicy"
    ]
    trust = doc(plan.one("aws:iam/role:Role", "cluster-role"), "assumeRolePolicy")
    assert trust["Statement"] == [
        {
            "Effect": "Allow",
            "Principal": {"Service": "eks.amazonaws.com"},
            "Action": ["sts:AssumeRole", "sts:TagSession"],
        }
    ]


def test_all_five_control_plane_log_types_with_bounded_retention(plan):
    assert sorted(cluster(plan).inputs["enabledClusterLogTypes"]) == [
        "api",
        "audit",
        "authenticator",
        "controllerManager",
        "scheduler",
    ]
    logs = plan.one("aws:cloudwatch/logGroup:LogGroup")
    assert logs.inputs["name"] == f"/aws/eks/{plan.exports['clusterName']}/cluster"
    expected = stack_config(plan.stack).get("eks-config-storage:logRetentionDays", 90)
    assert logs.inputs["retentionInDays"] == expected
    assert plan.depends_on(cluster(plan), logs)


def test_kubernetes_version_comes_from_config(plan):
    assert cluster(plan).inputs["version"] == typed(plan.stack).kubernetes_version


ACCESS_POLICY = "arn:aws:eks::aws:cluster-access-policy/"


def test_access_is_api_mode_entries_admins_get_admin_and_previewers_view(plan):
    values = stack_config(plan.stack)
    admins = values["eks-config-storage:adminRoleArns"]
    previewers = values.get("eks-config-storage:previewRoleArns", [])
    assert cluster(plan).inputs["accessConfig"] == {
        "authenticationMode": "API",
        "bootstrapClusterCreatorAdminPermissions": False,
    }
    entries = plan.of_type("aws:eks/accessEntry:AccessEntry")
    assert sorted(e.inputs["principalArn"] for e in entries) == sorted(admins + previewers)
    assert all(e.inputs["type"] == "STANDARD" for e in entries)
    granted = {
        a.inputs["principalArn"]: (a.inputs["policyArn"], a.inputs["accessScope"])
        for a in plan.of_type("aws:eks/accessPolicyAssociation:AccessPolicyAssociation")
    }
    assert granted == {
        **{
            arn: (ACCESS_POLICY + "AmazonEKSClusterAdminPolicy", {"type": "cluster"})
            for arn in admins
        },
        **{arn: (ACCESS_POLICY + "AmazonEKSViewPolicy", {"type": "cluster"}) for arn in previewers},
    }


def test_kubernetes_provider_waits_for_admins_not_for_previewers(plans):
    plan = plans["dev"]
    provider = plan.one("pulumi:providers:kubernetes")
    for association in plan.of_type("aws:eks/accessPolicyAssociation:AccessPolicyAssociation"):
        admin = association.inputs["policyArn"].endswith("ClusterAdminPolicy")
        assert plan.depends_on(provider, association) is admin, association.name


def test_prod_endpoint_is_private_only(plans):
    vpc = cluster(plans["prod"]).inputs["vpcConfig"]
    assert vpc["endpointPrivateAccess"] is True
    assert vpc["endpointPublicAccess"] is False
    assert not vpc.get("publicAccessCidrs")


def test_dev_public_endpoint_is_limited_to_configured_cidrs(plans):
    vpc = cluster(plans["dev"]).inputs["vpcConfig"]
    configured = stack_config("dev")["eks-config-storage:endpoint"]["publicAccessCidrs"]
    assert vpc["endpointPublicAccess"] is True
    assert vpc["publicAccessCidrs"] == configured
    for cidr in vpc["publicAccessCidrs"]:
        assert ipaddress.ip_network(cidr).prefixlen > 0, "the API must never face 0.0.0.0/0"


def test_cluster_runs_in_the_private_subnets(plan):
    private = private_subnet_ids(plan)
    assert private
    assert sorted(cluster(plan).inputs["vpcConfig"]["subnetIds"]) == private


def test_oidc_provider_serves_irsa_for_sts_only(plan):
    oidc = plan.one("aws:iam/openIdConnectProvider:OpenIdConnectProvider")
    issuer = cluster(plan).outputs["identities"][0]["oidcs"][0]["issuer"]
    assert oidc.inputs["url"] == issuer
    assert oidc.inputs["clientIdLists"] == ["sts.amazonaws.com"]
    assert plan.exports["oidcProviderArn"] == oidc.outputs["arn"]


def test_kubernetes_provider_uses_exec_auth_and_waits_for_admin_access(plan):
    provider = plan.one("pulumi:providers:kubernetes")
    kubeconfig = json.loads(provider.inputs["kubeconfig"])
    user = kubeconfig["users"][0]["user"]
    assert set(user) == {"exec"}, "no static token or client certificate"
    assert user["exec"]["command"] == "aws"
    assert user["exec"]["args"][:4] == [
        "eks",
        "get-token",
        "--cluster-name",
        plan.exports["clusterName"],
    ]
    assert user["exec"]["args"][4:6] == ["--region", aws_of(plan.stack).region]
    eks = cluster(plan)
    assert kubeconfig["clusters"][0]["cluster"]["server"] == eks.outputs["endpoint"]


def test_prod_cluster_is_protected_and_deletion_protected(plans):
    prod, dev = cluster(plans["prod"]), cluster(plans["dev"])
    assert prod.options["protect"] and prod.inputs["deletionProtection"] is True
    assert not dev.options["protect"] and dev.inputs["deletionProtection"] is False
