"""Where each scope of the permissions table points, for one stack: resource ARNs and the
conditions of its statements. ``policies`` renders statements from these."""

from __future__ import annotations

from bootstrap.design.context import Account, Stack

# Scopes whose resources carry no name of the stack (a cluster's OIDC provider is named by a
# random issuer id): in a shared account their writes are
# conditioned on the environment tag the main program puts on everything (aws:defaultTags).
TAGGED = frozenset({"ec2", "efs", "iam-oidc"})
# The key has no name either, and the account also holds the pipeline's secrets keys: always
# conditioned.
ALWAYS_TAGGED = frozenset({"kms"})
# Roles the program's roles are passed to (eks: cluster role, node role at CreateNodegroup,
# add-on roles at CreateAddon; pods.eks: workload roles at a Pod Identity association, the
# principal their trust names).
PASSED_TO = ["eks.amazonaws.com", "pods.eks.amazonaws.com"]
# Service-linked roles the program's resources need on their first use in an account.
SERVICE_LINKED = [
    "eks.amazonaws.com",
    "eks-nodegroup.amazonaws.com",
    "autoscaling.amazonaws.com",
    "elasticfilesystem.amazonaws.com",
]


def resources(scope: str, account: Account, stack: Stack) -> list[str]:
    cluster = stack.cluster
    found = {
        "any": ["*"],
        "ec2": [account.arn("ec2", "*")],
        "network-interfaces": [account.arn("ec2", "network-interface/*")],
        "eks": [
            account.arn("eks", f"cluster/{cluster}"),
            account.arn("eks", f"nodegroup/{cluster}/*"),
            account.arn("eks", f"addon/{cluster}/*"),
            account.arn("eks", f"access-entry/{cluster}/*"),
            account.arn("eks", f"podidentityassociation/{cluster}/*"),
        ],
        "iam-roles": [account.iam(f"role/{cluster}-*")],
        "pass-role": [account.iam(f"role/{cluster}-*")],
        "iam-oidc": [account.iam(f"oidc-provider/oidc.eks.{account.region}.amazonaws.com/id/*")],
        "service-linked-roles": [account.iam("role/aws-service-role/*")],
        "kms": [account.arn("kms", "key/*")],
        "kms-alias": [account.arn("kms", f"alias/{cluster}")],
        "logs": [
            account.arn("logs", f"log-group:/aws/eks/{cluster}/*"),
            account.arn("logs", f"log-group:/aws/eks/{cluster}/*:*"),
        ],
        "efs": [
            account.arn("elasticfilesystem", "file-system/*"),
            account.arn("elasticfilesystem", "access-point/*"),
        ],
        # design/backup.py: bucket_name (the one bucket the program creates).
        "backup-bucket": [f"arn:{account.partition}:s3:::{cluster}-velero-{account.account_id}"],
        "public-parameters": [account.public_parameters],
    }
    return found[scope]


def tag_conditioned(scope: str, account: Account) -> bool:
    return scope in ALWAYS_TAGGED or (account.shared and scope in TAGGED)


def existing(stack: Stack) -> dict:
    """Writes on a resource that exists: it must carry the stack's environment tag."""
    return {"StringEquals": {"aws:ResourceTag/environment": stack.environment}}


def created(stack: Stack) -> dict:
    """Creates: the request must tag the new resource with the stack's environment
    (aws:RequestTag at create, not aws:ResourceTag: AWS KMS Developer Guide, "Controlling
    access to tags"; EC2 User Guide, "Grant permission to tag resources during creation")."""
    return {
        "StringEquals": {"aws:RequestTag/environment": stack.environment},
        "ForAnyValue:StringEquals": {"aws:TagKeys": ["environment"]},
        # Only while the resource has no environment yet: a request tag alone would let this
        # role re-tag another environment's resource into its own, then change it.
        "Null": {"aws:ResourceTag/environment": "true"},
    }


def extra_conditions(scope: str) -> dict:
    if scope == "pass-role":
        return {"StringEquals": {"iam:PassedToService": PASSED_TO}}
    if scope == "service-linked-roles":
        return {"StringEquals": {"iam:AWSServiceName": SERVICE_LINKED}}
    return {}
