"""Moving a workload between IRSA and EKS Pod Identity without leaving it without credentials.

A pod keeps the credentials it started with: web identity (IRSA) for as long as the role still
trusts the cluster's OIDC provider for its service account, Pod Identity for as long as its
association, the role's trust of ``pods.eks.amazonaws.com`` and the agent on its node remain.
The SDKs search web identity before the container provider, so creating the association first
is the documented safe order (awsdocs/amazon-eks-user-guide: latest/ug/manage-access/
aws-access/pod-id-how-it-works.adoc). Hence two rules, per ``namespace/serviceaccount``:

- one way in must survive each change: a change that removes every way the pods had, to offer
  another (IRSA dropped in the change that adds the association, or the reverse), cuts off the
  pods already running;
- the agent comes first: new pods given Pod Identity credentials in the change that installs the
  agent may start before it serves them.

And the EBS CSI role may drop ``AmazonEBSCSIDriverPolicyV2`` only once every volume and snapshot
carries ``ebs.csi.aws.com/cluster-name``, which the cluster-scoped policy requires
(kubernetes-sigs/aws-ebs-csi-driver@v1.64.0:docs/AmazonEBSCSIDriverEKSClusterScopedPolicy.json);
the driver tags only what it creates after ``k8sTagClusterId`` is set.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field

from design.identity import AGENT_ADDON

ROLE = "aws:iam/role:Role"
ADDON = "aws:eks/addon:Addon"
ASSOCIATION = "aws:eks/podIdentityAssociation:PodIdentityAssociation"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
POD_IDENTITY = "pods.eks.amazonaws.com"
# EKS add-ons run in kube-system unless namespaceConfig says otherwise (not used here).
ADDON_NAMESPACE = "kube-system"
EBS_V2 = "service-role/AmazonEBSCSIDriverPolicyV2"
EBS_CLUSTER_SCOPED = "service-role/AmazonEBSCSIDriverEKSClusterScopedPolicy"

Workload = tuple[str, str]


@dataclass
class Wiring:
    """What one plan gives each workload identity."""

    irsa: set[Workload] = field(default_factory=set)
    pod_trust: set[Workload] = field(default_factory=set)
    associated: set[Workload] = field(default_factory=set)
    agent: bool = False

    def ways(self, workload: Workload) -> set[str]:
        ways = {"IRSA"} if workload in self.irsa else set()
        if self.agent and workload in self.pod_trust and workload in self.associated:
            ways.add("Pod Identity")
        return ways

    @property
    def workloads(self) -> set[Workload]:
        return self.irsa | self.pod_trust


def _list(value) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _trust(inputs: dict) -> list[dict]:
    policy = inputs.get("assumeRolePolicy")
    if isinstance(policy, str):
        try:
            policy = json.loads(policy)
        except ValueError:
            return []
    return _list((policy or {}).get("Statement"))


def _read_trust(found: Wiring, inputs: dict) -> None:
    for stmt in _trust(inputs):
        principal = stmt.get("Principal") or {}
        equals = (stmt.get("Condition") or {}).get("StringEquals") or {}
        if any(":oidc-provider/oidc.eks." in str(p) for p in _list(principal.get("Federated"))):
            subjects = [v for k, vs in equals.items() if k.endswith(":sub") for v in _list(vs)]
            found.irsa |= {tuple(str(s).split(":")[-2:]) for s in subjects}
        elif POD_IDENTITY in _list(principal.get("Service")):
            found.pod_trust |= {
                (str(namespace), str(account))
                for namespace in _list(equals.get("aws:RequestTag/kubernetes-namespace"))
                for account in _list(equals.get("aws:RequestTag/kubernetes-service-account"))
            }


def wiring(document: dict) -> Wiring:
    found = Wiring()
    for resource in document.get("resources", []):
        kind, inputs = resource["type"], resource.get("inputs") or {}
        if kind == ROLE:
            _read_trust(found, inputs)
        elif kind == ASSOCIATION:
            found.associated.add((inputs.get("namespace"), inputs.get("serviceAccount")))
        elif kind == ADDON:
            found.agent |= inputs.get("addonName") == AGENT_ADDON
            for association in _list(inputs.get("podIdentityAssociations")):
                found.associated.add((ADDON_NAMESPACE, association.get("serviceAccount")))
    return found


def _policies(document: dict) -> set[str]:
    return {
        str((r.get("inputs") or {}).get("policyArn", "")).split(":policy/", 1)[-1]
        for r in document.get("resources", [])
        if r["type"] == ATTACHMENT
    }


def identity_rules(old: dict, new: dict) -> Iterator[tuple[str, str]]:
    """``(subject, message)`` of each step that would leave a workload without credentials;
    ``acknowledge.settings: [identity]`` accepts them (tools/transitions/rules.py)."""
    before, after = wiring(old), wiring(new)
    for workload in sorted(before.workloads & after.workloads):
        had, has = before.ways(workload), after.ways(workload)
        subject = f"identity {'/'.join(workload)}"
        if had and not had & has:
            yield (
                subject,
                f"{' and '.join(sorted(had))} -> {' and '.join(sorted(has)) or 'nothing'}: "
                "pods running now lose their credentials; move through identity `both` and "
                "restart them first (docs/identity.md)",
            )
        if "Pod Identity" in has - had and not before.agent:
            yield (
                subject,
                f"gets Pod Identity in the change that installs {AGENT_ADDON}: pods may start "
                "before the agent serves them; install the agent in an earlier change",
            )
    policies = _policies(old), _policies(new)
    if EBS_V2 in policies[0] - policies[1] and EBS_CLUSTER_SCOPED in policies[1]:
        yield (
            "identity kube-system/ebs-csi-controller-sa",
            "drops AmazonEBSCSIDriverPolicyV2: volumes and snapshots created before "
            "k8sTagClusterId was set lack ebs.csi.aws.com/cluster-name, and the driver can no "
            "longer attach, resize or delete them; tag them first (docs/identity.md)",
        )
