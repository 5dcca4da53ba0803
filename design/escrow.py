"""The sealing key survives the cluster: without the Sealed Secrets private key every
SealedSecret in Git is unreadable on a new cluster (bitnami-labs/sealed-secrets#25, #262).

The controller's active key (a Secret labelled ``sealedsecrets.bitnami.com/sealed-secrets-key:
active``) is pushed by External Secrets (PushSecret) to Secrets Manager, encrypted with the
stack's key, under ``<environment>/sealed-secrets/<cluster>/generation-<n>``: one entry per
cluster and per key generation, never overwritten (IfNotExists). A rebuilt cluster pulls the
generations it names back (one ExternalSecret each) before the controller starts.

Every key gets its own entry through the generation, not through one PushSecret per key
Secret: a PushSecret pushes every Secret it selects to one remote key, without templating
(external-secrets/external-secrets@v0.20.4:pkg/controllers/pushsecret/pushsecret_controller.go;
per-Secret names are external-secrets#4720, #6945, open), and enumerating the key Secrets
ourselves needs ``list`` on Secrets, which rule rbac-least-privilege refuses. Key renewal is
off, so a cluster has one key, and a new one appears only when a cluster starts without
restoring its key. The escrow check (jobs/escrow_check.sh, hourly) compares the
certificate the controller serves (``/v1/cert.pem``, bitnami-labs/sealed-secrets@v0.30.0:
pkg/controller/server.go:92-103) with the one escrowed under the current generation and fails
its Job when they differ or nothing is escrowed: the backup alerts then say the escrow lags the
cluster's key, and the runbook says to restore the escrowed generation or to escrow the new key
under the next one (``sealedSecrets.escrowGeneration``), the earlier entries staying.

Earlier versions escrowed one key per environment at ``<environment>/sealed-secrets/
sealing-key``; ``restoreEscrowedKey`` still restores it.
"""

from __future__ import annotations

from design.aws import AwsContext
from design.iam import document

KEY_LABEL = "sealedsecrets.bitnami.com/sealed-secrets-key"  # bitnami-labs/sealed-secrets
SERVICE_ACCOUNT = "sealing-key-escrow"
STORE = "sealing-key-escrow"
RESTORED_SECRET = "sealed-secrets-key-restored"
CHECK = "sealing-key-escrow-check"
CHECK_SCRIPT_KEY = "escrow_check.sh"
# Hourly, off the hour: a key that is not escrowed fails a Job within the hour.
CHECK_SCHEDULE = "20 * * * *"
# The escrowed certificate (public), synced for the check; the private key never leaves Secrets
# Manager for it.
ESCROWED_CERT = "sealing-key-escrowed-cert"
CONTROLLER_PORT = 8080  # helm-v2.17.3:helm/sealed-secrets/values.yaml service.port
# ExternalSecret and PushSecret APIs at the pinned chart (helm-chart-0.20.4 CRDs).
PUSH_API = "external-secrets.io/v1alpha1"
ESO_API = "external-secrets.io/v1"


def remote_key(environment: str) -> str:
    """The single entry of earlier versions, per environment."""
    return f"{environment}/sealed-secrets/sealing-key"


def remote_prefix(environment: str, cluster: str) -> str:
    """This cluster's entries; under the environment's platform prefix, which no app may be
    given (design.apps.PLATFORM_SECRET_PREFIX)."""
    return f"{environment}/sealed-secrets/{cluster}"


def generation_key(environment: str, cluster: str, generation: int) -> str:
    return f"{remote_prefix(environment, cluster)}/generation-{generation}"


def escrow_policy(*, aws: AwsContext, environment: str, cluster: str, key_arn: str) -> dict:
    """Write and read exactly this cluster's entries (and read the earlier per-environment one);
    the stack key only through Secrets Manager. The actions are the ones External Secrets' push
    calls (DescribeSecret, CreateSecret with its managed-by tag, GetSecretValue, PutSecretValue,
    TagResource: v0.20.4:pkg/provider/aws/secretsmanager/secretsmanager.go). Granted on the
    name prefix, not ``-??????``: before an entry exists its ARN has no suffix, and External
    Secrets takes only ResourceNotFoundException as "absent" (secretsmanager.go:214-236)."""
    secret = aws.arn("secretsmanager", f"secret:{remote_prefix(environment, cluster)}/*")
    return document(
        [
            {
                "Sid": "TheClustersSealingKeys",
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
                "Sid": "TheEarlierEntry",
                "Effect": "Allow",
                "Action": ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"],
                "Resource": aws.arn("secretsmanager", f"secret:{remote_key(environment)}-??????"),
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


def push_spec(*, remote: str, key_arn: str) -> dict:
    """Push the active key, the whole Secret as JSON, encrypted with the stack's key. Never
    over an escrowed key: a cluster rebuilt without restoring makes a new key, and replacing
    the escrowed one with it would strand every SealedSecret in Git. IfNotExists asks first,
    with GetSecretValue (external-secrets/external-secrets@v0.20.4:
    pkg/controllers/pushsecret/pushsecret_controller.go, pkg/provider/aws/secretsmanager/
    secretsmanager.go SecretExists); the escrow check catches the new key it then leaves out."""
    return {
        "refreshInterval": "1h",
        "updatePolicy": "IfNotExists",
        "deletionPolicy": "None",
        "secretStoreRefs": [{"name": STORE, "kind": "ClusterSecretStore"}],
        "selector": {"secret": {"selector": {"matchLabels": {KEY_LABEL: "active"}}}},
        "data": [
            {
                "match": {"remoteRef": {"remoteKey": remote}},
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


def restore_spec(*, remote: str, target: str = RESTORED_SECRET) -> dict:
    """Bring an escrowed key back as an active sealing key (type TLS, the controller's label)."""
    return {
        "refreshInterval": "0",
        "secretStoreRef": {"name": STORE, "kind": "ClusterSecretStore"},
        "target": {
            "name": target,
            # The key must outlive this ExternalSecret (removed once the rebuild is done).
            "creationPolicy": "Orphan",
            "deletionPolicy": "Retain",
            "template": {
                "type": "kubernetes.io/tls",
                "metadata": {"labels": {KEY_LABEL: "active"}},
            },
        },
        "dataFrom": [{"extract": {"key": remote}}],
    }


def escrowed_cert_spec(*, remote: str) -> dict:
    """Only the certificate of the current generation's entry (the public half), refreshed
    hourly, for the escrow check to compare with the controller's."""
    return {
        "refreshInterval": "1h",
        "secretStoreRef": {"name": STORE, "kind": "ClusterSecretStore"},
        "target": {"name": ESCROWED_CERT, "creationPolicy": "Owner", "deletionPolicy": "Delete"},
        "data": [{"secretKey": "tls.crt", "remoteRef": {"key": remote, "property": "tls.crt"}}],
    }


def check_rules() -> list[dict]:
    """The check reads the escrowed certificate's Secret by name, nothing else."""
    return [
        {
            "apiGroups": [""],
            "resources": ["secrets"],
            "resourceNames": [ESCROWED_CERT],
            "verbs": ["get"],
        }
    ]


def check_env(*, namespace: str, controller: str, remote: str, generation: int) -> dict[str, str]:
    return {
        "NAMESPACE": namespace,
        "ESCROW_OBJECT": ESCROWED_CERT,
        "CONTROLLER_URL": f"http://{controller}.{namespace}.svc:{CONTROLLER_PORT}/v1/cert.pem",
        "REMOTE": remote,
        "GENERATION": str(generation),
    }
