"""Per-pod IAM in either mode: trust documents, what each mode registers for the controllers and
the apps, the rules that judge a Pod Identity trust, and the config rules of the mode."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from design import iam, identity
from design.identity import ebs_csi_policies
from policies.rules import Settings, Subject
from policies.rules.identity import pod_identity_trust_exact
from tests.support.identity_stacks import stack_in
from tests.support.plan_helpers import aws_of, doc, rejected
from tests.support.stack_values import NS
from tools import plan as plan_cli
from tools.offline import Plan, run_config
from tools.policy_config import settings_for

CLUSTER_ARN = "arn:aws:eks:eu-west-1:123456789012:cluster/eks-dev"
PROVIDER = "arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABC"
ISSUER = "https://oidc.eks.eu-west-1.amazonaws.com/id/ABC"
DEV = Settings("dev", False, False)

labels = st.from_regex(r"[a-z][a-z0-9-]{0,10}[a-z0-9]", fullmatch=True)


def role_subject(trust: dict) -> Subject:
    return Subject("aws:iam/role:Role", "r", "urn:r", {"assumeRolePolicy": json.dumps(trust)})


def admitted(trust: dict) -> set[tuple[str, str]]:
    """The (namespace, service account) pairs a Pod Identity trust lets EKS assume it for."""
    found = set()
    for stmt in trust["Statement"]:
        equals = stmt["Condition"]["StringEquals"]
        namespaces = equals["aws:RequestTag/kubernetes-namespace"]
        accounts = equals["aws:RequestTag/kubernetes-service-account"]
        for ns in namespaces if isinstance(namespaces, list) else [namespaces]:
            for sa in accounts if isinstance(accounts, list) else [accounts]:
                found.add((ns, sa))
    return found


# -- trust documents -----------------------------------------------------------------------------


@given(st.lists(st.tuples(labels, labels), min_size=1, max_size=6))
def test_pod_identity_trust_admits_exactly_the_listed_accounts_of_one_cluster(accounts):
    trust = iam.document(identity.pod_identity_trust_statements(CLUSTER_ARN, accounts))
    assert admitted(trust) == set(accounts)
    for stmt in trust["Statement"]:
        assert stmt["Principal"] == {"Service": "pods.eks.amazonaws.com"}
        assert stmt["Action"] == ["sts:AssumeRole", "sts:TagSession"]
        assert stmt["Condition"]["StringEquals"]["aws:RequestTag/eks-cluster-arn"] == CLUSTER_ARN
    assert list(pod_identity_trust_exact(role_subject(trust), DEV)) == []


def test_irsa_mode_keeps_the_irsa_document_byte_for_byte():
    accounts = [("kube-system", "ebs-csi-controller-sa")]
    kwargs = {"provider_arn": PROVIDER, "issuer_url": ISSUER, "service_accounts": accounts}
    assert identity.workload_trust_policy(
        irsa=True, pod_identity=False, cluster_arn=CLUSTER_ARN, **kwargs
    ) == iam.irsa_trust_policy(PROVIDER, ISSUER, accounts)
    both = identity.workload_trust_policy(
        irsa=True, pod_identity=True, cluster_arn=CLUSTER_ARN, **kwargs
    )
    assert [s["Action"] for s in both["Statement"]] == [
        "sts:AssumeRoleWithWebIdentity",
        ["sts:AssumeRole", "sts:TagSession"],
    ]
    with pytest.raises(ValueError):
        identity.workload_trust_policy(irsa=False, pod_identity=False, cluster_arn="", **kwargs)


def test_a_trust_without_session_tags_is_a_violation():
    bare = iam.document(identity.pod_identity_trust_statements(CLUSTER_ARN, [("a", "b")]))
    del bare["Statement"][0]["Condition"]
    (message,) = pod_identity_trust_exact(role_subject(bare), DEV)
    assert "StringEquals only" in message and "no condition" in message
    other_clusters = iam.document(identity.pod_identity_trust_statements(CLUSTER_ARN, [("a", "b")]))
    other_clusters["Statement"][0]["Condition"]["StringEquals"].pop(
        "aws:RequestTag/eks-cluster-arn"
    )
    assert list(pod_identity_trust_exact(role_subject(other_clusters), DEV)) == [
        "statement PodIdentityA: Pod Identity trust must condition aws:RequestTag/eks-cluster-arn"
    ]


def test_ebs_csi_policies_follow_the_mode():
    assert ebs_csi_policies("irsa") == ["AmazonEBSCSIDriverPolicyV2"]
    assert ebs_csi_policies("both") == [
        "AmazonEBSCSIDriverPolicyV2",
        "AmazonEBSCSIDriverEKSClusterScopedPolicy",
    ]
    assert ebs_csi_policies("podIdentity") == ["AmazonEBSCSIDriverEKSClusterScopedPolicy"]


# -- what each mode registers ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def pod_plan() -> Plan:
    return run_config("prod", stack_in("podIdentity", "prod"))


@pytest.fixture(scope="module")
def both_plan() -> Plan:
    return run_config("prod", stack_in("both", "prod"))


def trust_of(plan: Plan, role: str) -> dict:
    return doc(plan.one("aws:iam/role:Role", f"{role}-role"), "assumeRolePolicy")


def associations(plan: Plan) -> dict[tuple[str, str], dict]:
    return {
        (r.inputs["namespace"], r.inputs["serviceAccount"]): r.inputs
        for r in plan.of_type("aws:eks/podIdentityAssociation:PodIdentityAssociation")
    }


def test_pod_identity_stack_installs_the_agent_before_what_uses_it(pod_plan):
    agent = pod_plan.one("aws:eks/addon:Addon", "pod-identity-eks-pod-identity-agent")
    assert agent.inputs["addonName"] == "eks-pod-identity-agent"
    assert agent.inputs.get("serviceAccountRoleArn") is None
    assert pod_plan.depends_on(agent, pod_plan.one("aws:eks/nodeGroup:NodeGroup", "nodes-general"))
    for name in ("drivers-aws-ebs-csi-driver", "drivers-aws-efs-csi-driver"):
        assert pod_plan.depends_on(pod_plan.named(name), agent), name
    for chart in ("external-secrets", "velero"):
        (release,) = [
            r
            for r in pod_plan.of_type("kubernetes:helm.sh/v3:Release")
            if r.inputs.get("chart") == chart
        ]
        assert pod_plan.depends_on(release, agent), chart


def test_add_ons_make_their_own_associations_and_drop_irsa(pod_plan):
    ebs = pod_plan.one("aws:eks/addon:Addon", "drivers-aws-ebs-csi-driver").inputs
    ebs_role = pod_plan.one("aws:iam/role:Role", "controllers-ebs-csi-role")
    assert ebs.get("serviceAccountRoleArn") is None
    assert ebs["podIdentityAssociations"] == [
        {"serviceAccount": "ebs-csi-controller-sa", "roleArn": ebs_role.outputs["arn"]}
    ]
    assert json.loads(ebs["configurationValues"])["controller"] == {
        "k8sTagClusterId": pod_plan.exports["clusterName"]
    }
    efs = pod_plan.one("aws:eks/addon:Addon", "drivers-aws-efs-csi-driver").inputs
    assert [a["serviceAccount"] for a in efs["podIdentityAssociations"]] == [
        "efs-csi-controller-sa"
    ]
    # The managed EFS add-on cannot associate its node (aws-efs-csi-driver#1759): standalone.
    standalone = associations(pod_plan)
    efs_role = pod_plan.one("aws:iam/role:Role", "efs-csi-role")
    assert standalone[("kube-system", "efs-csi-node-sa")]["roleArn"] == efs_role.outputs["arn"]
    assert ("kube-system", "ebs-csi-controller-sa") not in standalone
    assert ("kube-system", "efs-csi-controller-sa") not in standalone
    attached = {
        r.inputs["policyArn"].rsplit("/", 1)[-1]
        for r in pod_plan.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        if r.name.startswith("controllers-ebs-csi")
    }
    assert attached == {"AmazonEBSCSIDriverEKSClusterScopedPolicy"}


def test_every_workload_role_trusts_only_its_accounts_of_this_cluster(pod_plan):
    expected = {
        "controllers-ebs-csi": {("kube-system", "ebs-csi-controller-sa")},
        "efs-csi": {("kube-system", "efs-csi-controller-sa"), ("kube-system", "efs-csi-node-sa")},
        "controllers-external-secrets": {("external-secrets", "external-secrets")},
        "backups-velero": {("velero", "velero-server")},
        **{f"app-{a}-irsa": {(a, a)} for a in ("orders", "catalog", "reports")},
    }
    cluster_arn = aws_of("prod").arn("eks", f"cluster/{pod_plan.exports['clusterName']}")
    for role, accounts in expected.items():
        trust = trust_of(pod_plan, role)
        assert admitted(trust) == accounts, role
        assert all("Federated" not in s["Principal"] for s in trust["Statement"]), role
        for stmt in trust["Statement"]:
            assert stmt["Condition"]["StringEquals"]["aws:RequestTag/eks-cluster-arn"] == (
                cluster_arn
            )
    # Every account not made by an add-on has its own association, to its own role.
    for role, accounts in expected.items():
        arn = pod_plan.one("aws:iam/role:Role", f"{role}-role").outputs["arn"]
        for account in accounts - {
            ("kube-system", "ebs-csi-controller-sa"),
            ("kube-system", "efs-csi-controller-sa"),
        }:
            assert associations(pod_plan)[account]["roleArn"] == arn, account


def test_pod_identity_workloads_are_not_pointed_at_irsa(pod_plan):
    for store in ("aws-secrets-manager", "aws-parameter-store"):
        spec = pod_plan.named(f"external-secrets-{store}").inputs["spec"]
        assert "auth" not in spec["provider"]["aws"], store
    for sa in ("app-orders-sa", "app-catalog-sa"):
        assert not pod_plan.named(sa).inputs["metadata"].get("annotations"), sa
    charts = {
        r.inputs["chart"]: r.inputs["values"]
        for r in pod_plan.of_type("kubernetes:helm.sh/v3:Release")
        if r.inputs.get("chart") in ("external-secrets", "velero")
    }
    assert charts["external-secrets"]["serviceAccount"]["annotations"] == {}
    assert charts["velero"]["serviceAccount"]["server"]["annotations"] == {}


def test_the_sealing_key_escrow_stays_on_irsa(pod_plan):
    """Its store names the escrow's service account, which ESO cannot do with Pod Identity
    (external-secrets@helm-chart-0.20.4:docs/snippets/provider-aws-access.md)."""
    (stmt,) = trust_of(pod_plan, "sealing-key-role")["Statement"]
    assert stmt["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert ("kube-system", "sealing-key-escrow") not in associations(pod_plan)


def test_both_keeps_irsa_beside_pod_identity(both_plan):
    for role in ("controllers-ebs-csi", "controllers-external-secrets", "app-orders-irsa"):
        actions = [s["Action"] for s in trust_of(both_plan, role)["Statement"]]
        assert actions == ["sts:AssumeRoleWithWebIdentity", ["sts:AssumeRole", "sts:TagSession"]]
    ebs = both_plan.one("aws:eks/addon:Addon", "drivers-aws-ebs-csi-driver").inputs
    role = both_plan.one("aws:iam/role:Role", "controllers-ebs-csi-role")
    assert ebs["serviceAccountRoleArn"] == role.outputs["arn"]
    assert ebs["podIdentityAssociations"][0]["roleArn"] == role.outputs["arn"]
    attached = {
        r.inputs["policyArn"].rsplit("/", 1)[-1]
        for r in both_plan.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        if r.name.startswith("controllers-ebs-csi")
    }
    assert attached == {
        "AmazonEBSCSIDriverPolicyV2",
        "AmazonEBSCSIDriverEKSClusterScopedPolicy",
    }
    # New pods get Pod Identity: nothing names the role on their service accounts.
    assert not both_plan.named("app-orders-sa").inputs["metadata"].get("annotations")


def test_the_dev_example_mixes_modes(plans):
    dev = plans["dev"]
    assert dev.one("aws:eks/addon:Addon", "pod-identity-eks-pod-identity-agent")
    assert set(associations(dev)) == {("catalog", "catalog")}
    (orders,) = trust_of(dev, "app-orders-irsa")["Statement"]
    assert orders["Action"] == "sts:AssumeRoleWithWebIdentity"
    (catalog,) = trust_of(dev, "app-catalog-irsa")["Statement"]
    assert catalog["Principal"] == {"Service": "pods.eks.amazonaws.com"}
    ebs = dev.one("aws:eks/addon:Addon", "drivers-aws-ebs-csi-driver").inputs
    assert ebs.get("podIdentityAssociations") is None and ebs["serviceAccountRoleArn"]
    assert plans["prod"].of_type("aws:eks/podIdentityAssociation:PodIdentityAssociation") == []


@settings(max_examples=6, deadline=None)
@given(
    st.sampled_from(["irsa", "both", "podIdentity"]),
    st.dictionaries(
        st.sampled_from(["orders", "catalog"]), st.sampled_from(["irsa", "both", "podIdentity"])
    ),
)
def test_any_mix_of_modes_passes_every_mandatory_rule(stack_mode, app_modes):
    plan = run_config("dev", stack_in(stack_mode, **app_modes))
    for verdict in plan_cli.verdicts(plan, settings_for("dev")):
        if verdict.enforcement == "mandatory":
            assert not verdict.violations, (verdict.name, verdict.violations)
    has_agent = any(
        r.name == "pod-identity-eks-pod-identity-agent" for r in plan.of_type("aws:eks/addon:Addon")
    )
    assert has_agent == any(m != "irsa" for m in [stack_mode, *app_modes.values()])


def test_an_unconditioned_pod_identity_trust_fails_the_plan_by_rule(monkeypatch, capsys):
    unconditioned = identity.pod_identity_trust_statements

    def without_conditions(cluster_arn, accounts):
        return [
            {k: v for k, v in s.items() if k != "Condition"}
            for s in unconditioned(cluster_arn, accounts)
        ]

    monkeypatch.setattr(identity, "pod_identity_trust_statements", without_conditions)
    assert plan_cli.main(["dev"]) == 1
    captured = capsys.readouterr()
    assert "mandatory rules violated: pod-identity-trust-exact" in captured.err


# -- config rules --------------------------------------------------------------------------------


def test_pod_identity_needs_an_ebs_driver_that_tags_the_cluster_name():
    values = stack_in("podIdentity")
    values[f"{NS}:addons"] = {"ebsCsiDriver": "v1.48.0-eksbuild.1"}
    assert "pin v1.58.0 or later" in rejected("dev", values, "addons.ebsCsiDriver")
    values[f"{NS}:addons"] = {}
    assert "found unset" in rejected("dev", values, "addons.ebsCsiDriver")


def test_an_agent_pin_alone_installs_the_agent_and_changes_nothing_else(plans):
    values = stack_in("irsa")
    values[f"{NS}:addons"] = {"podIdentityAgent": "v1.3.9-eksbuild.3"}
    plan = run_config("dev", values)
    agent = plan.one("aws:eks/addon:Addon", "pod-identity-eks-pod-identity-agent")
    assert agent.inputs["addonVersion"] == "v1.3.9-eksbuild.3"
    assert associations(plan) == {}


def test_production_on_pod_identity_or_both_passes_every_mandatory_rule(pod_plan, both_plan):
    """With the stack's own settings: its boundary on every role, associations' roles included."""
    production = settings_for("prod")
    assert production.permissions_boundary
    for plan in (pod_plan, both_plan):
        for verdict in plan_cli.verdicts(plan, production):
            if verdict.enforcement == "mandatory":
                assert not verdict.violations, (verdict.name, verdict.violations)
