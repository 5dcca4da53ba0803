"""How a workload gets its AWS credentials: IRSA, EKS Pod Identity, or both during a move.

- ``irsa``: the role trusts the cluster's OIDC provider for the service account, and the
  service account (or the add-on's ``serviceAccountRoleArn``) names the role.
- ``podIdentity``: the role trusts ``pods.eks.amazonaws.com`` for this cluster, namespace and
  service account (session tags), and an EKS Pod Identity association maps the account to it.
- ``both``: the step between them. The role trusts both; the association exists and the service
  account no longer names the role, so pods started from now on get Pod Identity credentials,
  while pods started before keep refreshing theirs through IRSA: the SDKs' default chain searches
  web identity before the container provider, so "those credentials will continue to be used"
  (awsdocs/amazon-eks-user-guide: latest/ug/manage-access/aws-access/pod-id-how-it-works.adoc).
  Restart the workload, then drop IRSA with ``podIdentity``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Literal, get_args

from design.iam import document, irsa_trust_policy

IdentityMode = Literal["irsa", "both", "podIdentity"]
MODES: tuple[str, ...] = get_args(IdentityMode)
AGENT_ADDON = "eks-pod-identity-agent"


def trusts_irsa(mode: str) -> bool:
    return mode in ("irsa", "both")


def trusts_pod_identity(mode: str) -> bool:
    return mode in ("both", "podIdentity")


def names_role_on_service_account(mode: str) -> bool:
    """Only in ``irsa``: from ``both`` on, new pods must not get web identity credentials, which
    the SDKs would prefer to the association's."""
    return mode == "irsa"


def needs_agent(modes: list[str]) -> bool:
    return any(trusts_pod_identity(m) for m in modes)


def ebs_csi_policies(mode: str) -> list[str]:
    """Managed policies of the EBS CSI role (names under ``service-role/``).

    With Pod Identity the cluster-scoped policy keys every write on the volume's
    ``ebs.csi.aws.com/cluster-name`` tag matching the session's ``eks-cluster-name`` tag
    (kubernetes-sigs/aws-ebs-csi-driver@v1.64.0:docs/AmazonEBSCSIDriverEKSClusterScopedPolicy.json),
    so the driver reaches no other cluster's volumes; V2 stays through ``both`` because volumes
    created before carry only ``ebs.csi.aws.com/cluster`` until they are tagged.
    """
    return {
        "irsa": ["AmazonEBSCSIDriverPolicyV2"],
        "both": ["AmazonEBSCSIDriverPolicyV2", "AmazonEBSCSIDriverEKSClusterScopedPolicy"],
        "podIdentity": ["AmazonEBSCSIDriverEKSClusterScopedPolicy"],
    }[mode]


def cluster_arn(partition: str, region: str, account_id: str, cluster_name: str) -> str:
    """The ARN EKS puts in the ``eks-cluster-arn`` session tag: known before the cluster exists,
    so trust documents are whole at preview."""
    return f"arn:{partition}:eks:{region}:{account_id}:cluster/{cluster_name}"


POD_IDENTITY_SERVICE = "pods.eks.amazonaws.com"
POD_IDENTITY_ACTIONS = ["sts:AssumeRole", "sts:TagSession"]
# Session tags EKS Pod Identity puts on every AssumeRole it makes for a pod
# (awsdocs/amazon-eks-user-guide: latest/ug/manage-access/aws-access/pod-id-abac.adoc).
CLUSTER_ARN_TAG = "aws:RequestTag/eks-cluster-arn"
NAMESPACE_TAG = "aws:RequestTag/kubernetes-namespace"
SERVICE_ACCOUNT_TAG = "aws:RequestTag/kubernetes-service-account"


def _one_or_many(values: Iterable[str]) -> str | list[str]:
    unique = sorted(set(values))
    return unique[0] if len(unique) == 1 else unique


def pod_identity_trust_statements(
    cluster_arn: str, service_accounts: Sequence[tuple[str, str]]
) -> list[dict]:
    """Trust EKS Pod Identity for exactly the given ``(namespace, service account)`` pairs of one
    cluster: one statement per namespace, so a list of names never pairs a namespace with another
    namespace's account.

    ``pods.eks.amazonaws.com`` acts for every cluster in every account: without the session-tag
    conditions any association anywhere could use the role. The tags are set by EKS, not the pod
    (latest/ug/manage-access/aws-access/pod-id-role.adoc conditions the namespace and service
    account the same way; the cluster ARN tag pins the cluster).
    """
    if not service_accounts:
        raise ValueError("a Pod Identity role must trust at least one service account")
    by_namespace: dict[str, set[str]] = {}
    for namespace, account in service_accounts:
        by_namespace.setdefault(namespace, set()).add(account)
    return [
        {
            "Sid": f"PodIdentity{''.join(p.capitalize() for p in namespace.split('-'))}",
            "Effect": "Allow",
            "Principal": {"Service": POD_IDENTITY_SERVICE},
            "Action": list(POD_IDENTITY_ACTIONS),
            "Condition": {
                "StringEquals": {
                    CLUSTER_ARN_TAG: cluster_arn,
                    NAMESPACE_TAG: namespace,
                    SERVICE_ACCOUNT_TAG: _one_or_many(accounts),
                }
            },
        }
        for namespace, accounts in sorted(by_namespace.items())
    ]


def workload_trust_policy(
    *,
    irsa: bool,
    pod_identity: bool,
    provider_arn: str,
    issuer_url: str,
    cluster_arn: str,
    service_accounts: Sequence[tuple[str, str]],
) -> dict:
    """The trust of a workload role in its identity mode: the IRSA statement, the Pod Identity
    statements, or both while a workload moves between them. IRSA alone is exactly
    ``irsa_trust_policy``, so stacks that stay on IRSA keep their documents byte for byte."""
    if not (irsa or pod_identity):
        raise ValueError("a workload role must trust IRSA, Pod Identity or both")
    statements = []
    if irsa:
        statements += irsa_trust_policy(provider_arn, issuer_url, service_accounts)["Statement"]
    if pod_identity:
        statements += pod_identity_trust_statements(cluster_arn, service_accounts)
    return document(statements)
