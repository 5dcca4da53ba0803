"""The permissions boundary every role the main program creates must carry: the most any such
role can ever do, whatever policy a deploy role puts on it. Pure.

A deploy role may create roles and write their inline policies (the program's IRSA roles need
that), so without a ceiling it could write itself an administrator. With it, a role it creates
gets at most the services the program's roles use, and never IAM, the pipeline's state or the
pipeline's secrets keys (IAM User Guide, "Permissions boundaries for IAM entities").
"""

from __future__ import annotations

from bootstrap.design.context import Account

# The services of the managed and inline policies the program's roles hold: the cluster role
# (AmazonEKSClusterPolicy: autoscaling, ec2, elasticloadbalancing, kms), the nodes (worker, CNI,
# ECR pull: ec2, eks, eks-auth, ecr), the CSI drivers (ec2, elasticfilesystem, kms), Velero (s3,
# ec2 snapshots, kms), External Secrets and the apps (secretsmanager, ssm, kms, s3), logs.
SERVICES = (
    "autoscaling",
    "ec2",
    "ecr",
    "eks",
    "eks-auth",
    "elasticfilesystem",
    "elasticloadbalancing",
    "kms",
    "logs",
    "s3",
    "secretsmanager",
    "ssm",
)
PIPELINE_KEY_ALIASES = ["alias/pulumi-secrets-*", "alias/pulumi-state"]


def boundary_policy(account: Account) -> dict:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ProgramServices",
                "Effect": "Allow",
                "Action": [f"{service}:*" for service in SERVICES],
                "Resource": "*",
            },
            {
                # AmazonEKSClusterPolicy creates the ELB service-linked role on first use.
                "Sid": "ServiceLinkedRoles",
                "Effect": "Allow",
                "Action": "iam:CreateServiceLinkedRole",
                "Resource": account.iam("role/aws-service-role/*"),
            },
            {
                "Sid": "NoPipelineState",
                "Effect": "Deny",
                "Action": "s3:*",
                "Resource": [account.bucket_arn, f"{account.bucket_arn}/*"],
            },
            {
                "Sid": "NoPipelineKeys",
                "Effect": "Deny",
                "Action": "kms:*",
                "Resource": "*",
                "Condition": {
                    "ForAnyValue:StringLike": {"kms:ResourceAliases": PIPELINE_KEY_ALIASES}
                },
            },
        ],
    }
