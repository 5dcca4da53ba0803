"""IAM and KMS policy documents as plain dicts.

Components serialise these with ``json.dumps`` inside ``Output.apply``, so the exact document a
role or key receives is what the tests and the policy pack read back.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

VERSION = "2012-10-17"
STS_AUDIENCE = "sts.amazonaws.com"

KEY_DATA_ACTIONS = [
    "kms:Encrypt",
    "kms:Decrypt",
    "kms:ReEncrypt*",
    "kms:GenerateDataKey*",
    "kms:DescribeKey",
]
KEY_GRANT_ACTIONS = ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"]
# Spelled out rather than "kms:Create*"-style, so this policy gives administrators no data action.
# The AccountRoot statement still lets IAM policies grant any KMS action (AWS's default key
# policy), so an admin role whose own IAM policy allows kms:Decrypt (AdministratorAccess) can
# decrypt: keep admin roles' IAM policies free of KMS data actions on this key.
KEY_ADMIN_ACTIONS = [
    "kms:CancelKeyDeletion",
    "kms:CreateAlias",
    "kms:DeleteAlias",
    "kms:DescribeKey",
    "kms:DisableKey",
    "kms:DisableKeyRotation",
    "kms:EnableKey",
    "kms:EnableKeyRotation",
    "kms:GetKeyPolicy",
    "kms:GetKeyRotationStatus",
    "kms:ListAliases",
    "kms:ListGrants",
    "kms:ListKeyPolicies",
    "kms:ListKeyRotations",
    "kms:ListResourceTags",
    "kms:PutKeyPolicy",
    "kms:RevokeGrant",
    "kms:RotateKeyOnDemand",
    "kms:ScheduleKeyDeletion",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:UpdateAlias",
    "kms:UpdateKeyDescription",
]
GRANT_FOR_AWS_RESOURCE = {"Bool": {"kms:GrantIsForAWSResource": "true"}}


def document(statements: Iterable[dict]) -> dict:
    return {"Version": VERSION, "Statement": list(statements)}


def service_trust_policy(service: str, tag_session: bool = False) -> dict:
    """Trust an AWS service (``eks.amazonaws.com``, ``ec2.amazonaws.com``) to assume a role."""
    actions = ["sts:AssumeRole", "sts:TagSession"] if tag_session else ["sts:AssumeRole"]
    return document([{"Effect": "Allow", "Principal": {"Service": service}, "Action": actions}])


def issuer_host(issuer_url: str) -> str:
    """The OIDC issuer as IAM condition keys spell it: without ``https://``."""
    return issuer_url.removeprefix("https://")


def service_account_subject(namespace: str, service_account: str) -> str:
    return f"system:serviceaccount:{namespace}:{service_account}"


def irsa_trust_policy(
    provider_arn: str, issuer_url: str, service_accounts: Sequence[tuple[str, str]]
) -> dict:
    """Trust exactly the given ``(namespace, service account)`` pairs of one cluster.

    StringEquals on both ``sub`` and ``aud``: StringLike or a missing ``aud`` would let other
    service accounts, or tokens minted for other audiences, assume the role.
    """
    if not service_accounts:
        raise ValueError("an IRSA role must trust at least one service account")
    host = issuer_host(issuer_url)
    subjects = sorted({service_account_subject(ns, sa) for ns, sa in service_accounts})
    return document(
        [
            {
                "Effect": "Allow",
                "Principal": {"Federated": provider_arn},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {
                        f"{host}:sub": subjects[0] if len(subjects) == 1 else subjects,
                        f"{host}:aud": STS_AUDIENCE,
                    }
                },
            }
        ]
    )


def _principals(arns: Iterable[str]) -> dict:
    unique = sorted(set(arns))
    return {"AWS": unique[0] if len(unique) == 1 else unique}


def key_policy(
    *,
    root_arn: str,
    admin_arns: Sequence[str],
    user_arns: Sequence[str],
    service_user_arns: Sequence[str],
) -> dict:
    """Policy of the envelope key.

    - the account root keeps full control, so the key can never become unmanageable and IAM
      policies in the account can still be used to delegate (AWS's default key policy);
    - administrators manage the key; this policy grants them no data action;
    - users (the cluster role) encrypt and decrypt;
    - service users (roles that make AWS services encrypt on their behalf: EBS volumes created by
      the CSI driver, instance root volumes launched by Auto Scaling) also manage grants, but only
      grants for AWS resources.
    """
    statements = [
        {
            "Sid": "AccountRoot",
            "Effect": "Allow",
            "Principal": {"AWS": root_arn},
            "Action": "kms:*",
            "Resource": "*",
        }
    ]
    if admin_arns:
        statements.append(
            {
                "Sid": "KeyAdministrators",
                "Effect": "Allow",
                "Principal": _principals(admin_arns),
                "Action": KEY_ADMIN_ACTIONS,
                "Resource": "*",
            }
        )
    data_users = [*user_arns, *service_user_arns]
    if data_users:
        statements.append(
            {
                "Sid": "KeyUsers",
                "Effect": "Allow",
                "Principal": _principals(data_users),
                "Action": KEY_DATA_ACTIONS,
                "Resource": "*",
            }
        )
    if service_user_arns:
        statements.append(
            {
                "Sid": "KeyServiceGrants",
                "Effect": "Allow",
                "Principal": _principals(service_user_arns),
                "Action": KEY_GRANT_ACTIONS,
                "Resource": "*",
                "Condition": GRANT_FOR_AWS_RESOURCE,
            }
        )
    return document(statements)


def cluster_encryption_policy(key_arn: str) -> dict:
    """What the EKS control plane needs on the key to envelope-encrypt Secrets."""
    return document(
        [
            {
                "Sid": "EnvelopeEncryption",
                "Effect": "Allow",
                "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ListGrants", "kms:DescribeKey"],
                "Resource": key_arn,
            }
        ]
    )


def ebs_csi_key_policy(key_arn: str) -> dict:
    """What the EBS CSI controller needs on the stack's key, and nothing on any other key.

    Without these, EBS accepts CreateVolume and then deletes the volume when it cannot use
    the key, and the driver retries forever (aws-ebs-csi-driver #935, #1140, #1951).
    """
    return document(
        [
            {
                "Sid": "GrantsForEbs",
                "Effect": "Allow",
                "Action": KEY_GRANT_ACTIONS,
                "Resource": key_arn,
                "Condition": GRANT_FOR_AWS_RESOURCE,
            },
            {
                "Sid": "EncryptVolumes",
                "Effect": "Allow",
                "Action": KEY_DATA_ACTIONS,
                "Resource": key_arn,
            },
        ]
    )


def efs_csi_policy(*, file_system_arn: str, access_point_arns: str, cluster_tag: str) -> dict:
    """EFS CSI controller and node permissions, limited to the stack's file system.

    Access points can only be created carrying the driver's cluster tag, and only access
    points carrying it can be tagged or deleted, so the driver cannot touch anyone else's.
    ``ec2:DescribeAvailabilityZones`` has no resource-level permissions, hence its ``*``.
    """
    return document(
        [
            {
                "Sid": "Describe",
                "Effect": "Allow",
                "Action": [
                    "elasticfilesystem:DescribeAccessPoints",
                    "elasticfilesystem:DescribeFileSystems",
                    "elasticfilesystem:DescribeMountTargets",
                ],
                "Resource": [file_system_arn, access_point_arns],
            },
            {
                "Sid": "DescribeZones",
                "Effect": "Allow",
                "Action": "ec2:DescribeAvailabilityZones",
                "Resource": "*",
            },
            {
                "Sid": "CreateTaggedAccessPoints",
                "Effect": "Allow",
                "Action": "elasticfilesystem:CreateAccessPoint",
                "Resource": file_system_arn,
                "Condition": {"StringEquals": {f"aws:RequestTag/{cluster_tag}": "true"}},
            },
            {
                "Sid": "TagOwnAccessPoints",
                "Effect": "Allow",
                "Action": "elasticfilesystem:TagResource",
                "Resource": access_point_arns,
                "Condition": {"StringEquals": {f"aws:ResourceTag/{cluster_tag}": "true"}},
            },
            {
                "Sid": "DeleteOwnAccessPoints",
                "Effect": "Allow",
                "Action": "elasticfilesystem:DeleteAccessPoint",
                "Resource": access_point_arns,
                "Condition": {"StringEquals": {f"aws:ResourceTag/{cluster_tag}": "true"}},
            },
            {
                "Sid": "MountThroughMountTargets",
                "Effect": "Allow",
                "Action": ["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"],
                "Resource": file_system_arn,
                "Condition": {"Bool": {"elasticfilesystem:AccessedViaMountTarget": "true"}},
            },
        ]
    )


def efs_file_system_policy(*, file_system_arn: str, account_root_arn: str) -> dict:
    """Refuse every connection without TLS; mounts through mount targets are left to the IAM
    policies of the account's principals (the EFS CSI role's grants ClientMount/ClientWrite)."""
    return document(
        [
            {
                "Sid": "DenyWithoutTls",
                "Effect": "Deny",
                "Principal": {"AWS": "*"},
                "Action": "*",
                "Resource": file_system_arn,
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            },
            {
                "Sid": "AccountMountsThroughTargets",
                "Effect": "Allow",
                "Principal": {"AWS": account_root_arn},
                "Action": ["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"],
                "Resource": file_system_arn,
                "Condition": {"Bool": {"elasticfilesystem:AccessedViaMountTarget": "true"}},
            },
        ]
    )
