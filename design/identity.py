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

from typing import Literal, get_args

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
