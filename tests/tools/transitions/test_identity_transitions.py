"""Moving between IRSA and Pod Identity: the documented order passes the transition rules, and a
step that would leave a workload without credentials needs ``acknowledge.settings: [identity]``."""

from __future__ import annotations

import pytest

from tests.support.identity_stacks import stack_in
from tools import transitions
from tools.offline import run_config
from tools.transitions.changes import classify
from tools.transitions.workload_identity import identity_rules, wiring

ACCEPT = transitions.Acknowledged(settings=frozenset({"identity"}))
CONTROLLERS = {
    "identity kube-system/ebs-csi-controller-sa",
    "identity kube-system/efs-csi-controller-sa",
    "identity kube-system/efs-csi-node-sa",
    "identity external-secrets/external-secrets",
}
APPS = {"identity orders/orders", "identity catalog/catalog"}


@pytest.fixture(scope="module")
def documents() -> dict[str, dict]:
    """The dev stack at each step of a move, as plan documents."""
    agent = stack_in("irsa")
    agent["eks-config-storage:addons"]["podIdentityAgent"] = "v1.3.9-eksbuild.3"
    steps = {
        "irsa": stack_in("irsa"),
        "agent": agent,
        "both": stack_in("both"),
        "podIdentity": stack_in("podIdentity"),
    }
    return {step: run_config("dev", values).document() for step, values in steps.items()}


def judged(documents, old: str, new: str, accepted: transitions.Acknowledged | None = None):
    _, judgement = transitions.report(
        documents[old], documents[new], accepted or transitions.Acknowledged()
    )
    return judgement


def subjects(judgement) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for v in judgement.violations:
        assert v.key == "acknowledge.settings"
        found.setdefault(v.subject, []).append(v.message)
    return found


def test_the_documented_order_needs_no_acknowledgement_until_v2_is_dropped(documents):
    # 1. the agent comes first (its pin alone), 2. both, 3. podIdentity.
    assert judged(documents, "irsa", "agent").violations == []
    assert judged(documents, "agent", "both").violations == []
    found = subjects(judged(documents, "both", "podIdentity"))
    # Every pod restarted under `both` uses Pod Identity: only the EBS policy switch remains,
    # and that needs the volumes tagged first.
    assert list(found) == ["identity kube-system/ebs-csi-controller-sa"]
    assert (
        "drops AmazonEBSCSIDriverPolicyV2" in found["identity kube-system/ebs-csi-controller-sa"][0]
    )


def test_pod_identity_in_the_change_that_installs_the_agent_is_named(documents):
    found = subjects(judged(documents, "irsa", "both"))
    assert set(found) == CONTROLLERS | APPS
    assert all("installs eks-pod-identity-agent" in m for ms in found.values() for m in ms)


def test_skipping_both_cuts_off_running_pods(documents):
    found = subjects(judged(documents, "agent", "podIdentity"))
    # The agent is there; every workload still loses its IRSA in one step.
    assert set(found) == CONTROLLERS | APPS
    assert (
        "IRSA -> Pod Identity: pods running now lose their credentials"
        in (found["identity orders/orders"][0])
    )


def test_going_back_to_irsa_at_once_is_named_too(documents):
    found = subjects(judged(documents, "podIdentity", "irsa"))
    assert set(found) == CONTROLLERS | APPS
    assert found["identity catalog/catalog"][0].startswith("Pod Identity -> IRSA")


def test_one_acknowledgement_accepts_the_identity_steps(documents):
    judgement = judged(documents, "irsa", "podIdentity", ACCEPT)
    assert judgement.violations == []
    assert judgement.accepted and judgement.unused == []
    assert judged(documents, "irsa", "agent", ACCEPT).unused == ["settings: identity"]


def test_a_removed_workload_is_not_an_identity_step(documents):
    without_catalog = {
        **documents["both"],
        "resources": [
            r for r in documents["both"]["resources"] if not r["name"].startswith("app-catalog")
        ],
    }
    assert list(identity_rules(documents["both"], without_catalog)) == []


def test_wiring_reads_both_kinds_of_association(documents):
    found = wiring(documents["podIdentity"])
    assert found.agent
    assert ("kube-system", "ebs-csi-controller-sa") in found.associated  # the add-on's own
    assert ("kube-system", "efs-csi-node-sa") in found.associated  # standalone
    assert found.irsa == {("kube-system", "sealing-key-escrow")}
    assert found.ways(("orders", "orders")) == {"Pod Identity"}


def association(**inputs) -> dict:
    base = {"clusterName": "eks-dev", "namespace": "catalog", "serviceAccount": "catalog"}
    return {
        "type": "aws:eks/podIdentityAssociation:PodIdentityAssociation",
        "name": "app-catalog-irsa-catalog-association",
        "options": {},
        "inputs": {
            **base,
            "roleArn": "arn:aws:iam::123456789012:role/eks-dev-app-catalog",
            **inputs,
        },
    }


def test_an_association_moves_to_another_account_only_by_replacement():
    assert classify(association(), association(namespace="shop")).action == "replace"
    other_role = classify(association(), association(roleArn="arn:aws:iam::1:role/x"))
    assert other_role.action == "update"
