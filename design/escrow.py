"""The sealing key survives the cluster: without the Sealed Secrets private key every
SealedSecret in Git is unreadable on a new cluster (bitnami-labs/sealed-secrets#25, #262).

The controller's active key (a Secret labelled ``sealedsecrets.bitnami.com/sealed-secrets-key:
active``) is pushed by External Secrets (PushSecret) to Secrets Manager under the environment's
prefix, encrypted with the stack's key; a rebuilt cluster pulls it back (an ExternalSecret) before
the controller starts. Key renewal is off, so there is exactly one key to escrow: a PushSecret
pushes every selected Secret to the same remote key (external-secrets/external-secrets@
helm-chart-0.20.4:pkg/controllers/pushsecret/pushsecret_controller.go), so with renewal on, each
renewed key would overwrite the escrow of the keys older SealedSecrets still need.
"""

from __future__ import annotations

from design.aws import AwsContext
from design.iam import document

KEY_LABEL = "sealedsecrets.bitnami.com/sealed-secrets-key"  # bitnami-labs/sealed-secrets
SERVICE_ACCOUNT = "sealing-key-escrow"
STORE = "sealing-key-escrow"
RESTORED_SECRET = "sealed-secrets-key-restored"
# ExternalSecret and PushSecret APIs at the pinned chart (helm-chart-0.20.4 CRDs).
PUSH_API = "external-secrets.io/v1alpha1"
ESO_API = "external-secrets.io/v1"


def remote_key(environment: str) -> str:
    return f"{environment}/sealed-secrets/sealing-key"


def escrow_policy(*, aws: AwsContext, environment: str, key_arn: str) -> dict:
    """Write and read exactly the escrowed key's secret; the stack key only through Secrets
    Manager. The actions are the ones External Secrets' push calls (DescribeSecret,
    CreateSecret with its managed-by tag, GetSecretValue, PutSecretValue, TagResource:
    helm-chart-0.20.4:pkg/provider/aws/secretsmanager/secretsmanager.go)."""
    secret = aws.arn("secretsmanager", f"secret:{remote_key(environment)}-??????")
    return document(
        [
            {
                "Sid": "TheSealingKeySecret",
                "Effect": "Allow",
                "Action": [
                    "secretsmanager:CreateSecret",
                    "secretsmanager:DescribeSecret",
                    "secretsmanager:GetSecretValue",
                    "secretsmanager:PutSecretValue",
                    "secretsmanager:TagResource",
                ],
                "Resource": secret,
            },
            {
                "Sid": "KeyThroughSecretsManagerOnly",
                "Effect": "Allow",
                "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
                "Resource": key_arn,
                "Condition": {
                    "StringEquals": {"kms:ViaService": aws.via_service("secretsmanager")}
                },
            },
        ]
    )


def store_spec(*, region: str, namespace: str) -> dict:
    """A store only the controller's namespace may use, as the escrow's own identity."""
    return {
        "provider": {
            "aws": {
                "service": "SecretsManager",
                "region": region,
                "auth": {
                    "jwt": {"serviceAccountRef": {"name": SERVICE_ACCOUNT, "namespace": namespace}}
                },
            }
        },
        "conditions": [{"namespaces": [namespace]}],
    }


def push_spec(*, environment: str, key_arn: str) -> dict:
    """Push the active key, the whole Secret as JSON, encrypted with the stack's key. Never
    over an escrowed key: a cluster rebuilt without ``restoreEscrowedKey`` makes a new key, and
    replacing the escrowed one with it would strand every SealedSecret in Git. IfNotExists asks
    first, with GetSecretValue (external-secrets/external-secrets@v0.20.4:
    pkg/controllers/pushsecret/pushsecret_controller.go, pkg/provider/aws/secretsmanager/
    secretsmanager.go SecretExists)."""
    return {
        "refreshInterval": "1h",
        "updatePolicy": "IfNotExists",
        "deletionPolicy": "None",
        "secretStoreRefs": [{"name": STORE, "kind": "ClusterSecretStore"}],
        "selector": {"secret": {"selector": {"matchLabels": {KEY_LABEL: "active"}}}},
        "data": [
            {
                "match": {"remoteRef": {"remoteKey": remote_key(environment)}},
                "metadata": {
                    "apiVersion": "kubernetes.external-secrets.io/v1alpha1",
                    "kind": "PushSecretMetadata",
                    "spec": {
                        "kmsKeyId": key_arn,
                        "secretPushFormat": "string",
                        "description": "Sealed Secrets sealing key (escrow)",
                    },
                },
            }
        ],
    }


def restore_spec(*, environment: str) -> dict:
    """Bring the escrowed key back as an active sealing key (type TLS, the controller's label)."""
    return {
        "refreshInterval": "0",
        "secretStoreRef": {"name": STORE, "kind": "ClusterSecretStore"},
        "target": {
            "name": RESTORED_SECRET,
            # The key must outlive this ExternalSecret (removed once the rebuild is done).
            "creationPolicy": "Orphan",
            "deletionPolicy": "Retain",
            "template": {
                "type": "kubernetes.io/tls",
                "metadata": {"labels": {KEY_LABEL: "active"}},
            },
        },
        "dataFrom": [{"extract": {"key": remote_key(environment)}}],
    }
