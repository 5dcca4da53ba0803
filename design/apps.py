"""Per-application pieces (rules R1-R3): what counts as a secret-looking setting, the app's
least-privilege IAM and RBAC, its ExternalSecret, and its storage budget."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence

from design import secret_values
from design.aws import AwsContext
from design.iam import document
from design.labels import MANAGED_BY

SECRET_WORDS = frozenset(
    {
        "password",
        "passwd",
        "pwd",
        "pass",
        "passphrase",
        "secret",
        "secrets",
        "token",
        "tokens",
        "key",
        "keys",
        "apikey",
        "credential",
        "credentials",
        "creds",
        "private",
        "privatekey",
        "cert",
        "certificate",
        "signature",
        "salt",
        "auth",
        "dsn",
    }
)
_WORD_BOUNDARY = re.compile(r"[^A-Za-z0-9]+|(?<=[a-z0-9])(?=[A-Z])")


def words(key: str) -> list[str]:
    """``dbPassword`` / ``DB_PASSWORD`` / ``db.password`` -> ``["db", "password"]``."""
    return [w.lower() for w in _WORD_BOUNDARY.split(key) if w]


def secret_reason(key: str, value: str = "") -> str | None:
    """Why a setting belongs in ``secrets:`` (its key's words, or the kinds of secret its value
    holds), or None for an ordinary setting. The one judge of config and policy alike."""
    key_words = words(key)
    if SECRET_WORDS & set(key_words) or "".join(key_words) in SECRET_WORDS:
        return "named like a secret"
    found = secret_values.findings(value, frozenset(key_words))
    return ", ".join(found) if found else None


def looks_secret(key: str, value: str = "") -> bool:
    """A setting that belongs in ``secrets:``, judged by its key's words or its value."""
    return secret_reason(key, value) is not None


def config_map_name(app: str) -> str:
    return f"{app}-config"


def secret_name(app: str) -> str:
    return f"{app}-secrets"


# Kubernetes refuses a ConfigMap whose data exceeds 1 MiB
# (kubernetes/kubernetes@v1.34.0:pkg/apis/core/validation/validation.go, ValidateConfigMap:
# core.MaxSecretSize).
CONFIG_MAP_MAX_BYTES = 1024 * 1024


def app_labels(app: str) -> dict[str, str]:
    """Labels of every object of the app's slice."""
    return {**MANAGED_BY, "app.kubernetes.io/name": app}


def config_map_manifest(app: str, namespace: str, data: Mapping[str, str]) -> dict:
    """The app's ConfigMap as the program creates it."""
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": config_map_name(app),
            "namespace": namespace,
            "labels": app_labels(app),
        },
        "data": dict(data),
    }


# client-go marshals with Go's encoding/json, which escapes these for HTML: six bytes each.
GO_ESCAPES = str.maketrans({c: f"\\u{ord(c):04x}" for c in "<>&\u2028\u2029"})


def serialized_size(manifest: Mapping) -> int:
    """Bytes of ``manifest`` as the JSON the API server receives: compact UTF-8, Go's escapes."""
    return len(
        json.dumps(manifest, separators=(",", ":"), ensure_ascii=False)
        .translate(GO_ESCAPES)
        .encode()
    )


def app_rbac_rules(*, config_map: str, secret_names: Sequence[str]) -> list[dict]:
    """``get`` on exactly the app's Secrets and ConfigMap: no list or watch (which would reveal
    every Secret in the namespace), no wildcards."""
    rules = [
        {
            "apiGroups": [""],
            "resources": ["configmaps"],
            "resourceNames": [config_map],
            "verbs": ["get"],
        }
    ]
    if secret_names:
        rules.append(
            {
                "apiGroups": [""],
                "resources": ["secrets"],
                "resourceNames": sorted(secret_names),
                "verbs": ["get"],
            }
        )
    return rules


def s3_statements(partition: str, bucket: str, prefix: str, access: str, index: int) -> list[dict]:
    objects = f"arn:{partition}:s3:::{bucket}/{prefix}*"
    actions = ["s3:GetObject"]
    if access == "readwrite":
        actions += ["s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"]
    listing: dict = {
        "Sid": f"ListBucket{index}",
        "Effect": "Allow",
        "Action": "s3:ListBucket",
        "Resource": f"arn:{partition}:s3:::{bucket}",
    }
    if prefix:
        listing["Condition"] = {"StringLike": {"s3:prefix": [f"{prefix}*"]}}
    return [
        listing,
        {"Sid": f"Objects{index}", "Effect": "Allow", "Action": actions, "Resource": objects},
    ]


def decrypt_via(key_arn: str, aws: AwsContext, services: Sequence[str]) -> dict:
    """``kms:Decrypt`` on the stack's key only, and only when one of ``services`` calls KMS on the
    principal's behalf (``kms:ViaService``, the services' regional endpoints)."""
    return {
        "Sid": "DecryptThroughTheseServicesOnly",
        "Effect": "Allow",
        "Action": "kms:Decrypt",
        "Resource": key_arn,
        "Condition": {"StringEquals": {"kms:ViaService": aws.via_service(*services)}},
    }


def app_policy(
    *,
    aws: AwsContext,
    environment: str,
    key_arn: str,
    s3: Sequence[tuple[str, str, str]],
    secrets_manager: Sequence[str],
    parameters: Sequence[str],
) -> dict | None:
    """The app role's inline policy from its constrained config, or None when it needs none.

    Secret ARNs end in ``-??????`` (the six random characters AWS appends), so a secret named
    ``dev/orders/api`` does not also match ``dev/orders/api-admin``. An app that reads its own
    secrets or SecureString parameters also needs ``kms:Decrypt`` on the key they are encrypted
    with (the stack's, as the README has users create them): "Any principal that retrieves the
    decrypted value must have kms:Decrypt permission on that key" (AWS Systems Manager user guide,
    "Restricting decryption of SecureString parameter values"; Secrets Manager alike).
    """
    statements: list[dict] = []
    for i, (bucket, prefix, access) in enumerate(s3):
        statements += s3_statements(aws.partition, bucket, prefix, access, i)
    if secrets_manager:
        statements.append(
            {
                "Sid": "ReadNamedSecrets",
                "Effect": "Allow",
                "Action": ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
                "Resource": [
                    aws.arn("secretsmanager", f"secret:{environment}/{name}-??????")
                    for name in secrets_manager
                ],
            }
        )
    if parameters:
        statements.append(
            {
                "Sid": "ReadNamedParameters",
                "Effect": "Allow",
                "Action": ["ssm:GetParameter", "ssm:GetParameters"],
                "Resource": [
                    aws.arn("ssm", f"parameter/{environment}/{name}") for name in parameters
                ],
            }
        )
    services = [s for s, used in (("secretsmanager", secrets_manager), ("ssm", parameters)) if used]
    if services:
        statements.append(decrypt_via(key_arn, aws, services))
    return document(statements) if statements else None


# Remote names under <environment>/ that belong to the platform (design.escrow).
PLATFORM_SECRET_PREFIX = "sealed-secrets/"


def eso_policy(*, aws: AwsContext, environment: str, key_arn: str) -> dict:
    """External Secrets Operator: read the environment's secrets and parameters, decrypt with
    the stack's key only when Secrets Manager or Parameter Store asks on its behalf."""
    return document(
        [
            {
                "Sid": "EnvironmentSecrets",
                "Effect": "Allow",
                "Action": ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
                "Resource": aws.arn("secretsmanager", f"secret:{environment}/*"),
            },
            {
                "Sid": "EnvironmentParameters",
                "Effect": "Allow",
                "Action": ["ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath"],
                "Resource": [
                    aws.arn("ssm", f"parameter/{environment}"),
                    aws.arn("ssm", f"parameter/{environment}/*"),
                ],
            },
            decrypt_via(key_arn, aws, ["secretsmanager", "ssm"]),
            # The operator serves every app namespace: the escrowed sealing key, under the same
            # prefix, must never be one of the secrets an app can be given.
            {
                "Sid": "NeverThePlatformsOwn",
                "Effect": "Deny",
                "Action": "secretsmanager:*",
                "Resource": aws.arn(
                    "secretsmanager", f"secret:{environment}/{PLATFORM_SECRET_PREFIX}*"
                ),
            },
        ]
    )


# Classes that exist in every EKS cluster without being part of the catalog. gp2 is EKS's own,
# unencrypted, and never removed ("We don't plan to ever remove this StorageClass",
# awsdocs/amazon-eks-user-guide: latest/ug/storage/ebs-csi-migration-faq.adoc): no app may
# provision on it.
FOREIGN_CLASSES = ("gp2",)


def quota_hard(
    budgets: dict[str, tuple[str, int]],
    all_classes: Sequence[str],
    *,
    retired: Sequence[str] = (),
    foreign: Sequence[str] = FOREIGN_CLASSES,
) -> dict[str, str]:
    """ResourceQuota ``hard``: each listed class its storage and claim budget, every other class
    of the catalog and every foreign class zero, so an app cannot quietly provision on a class
    it has no budget for. Retired classes admit no new claims, but their storage is not bounded
    here, so claims that live on them can still be expanded."""
    hard: dict[str, str] = {}
    for name in sorted({*all_classes, *foreign}):
        requests, claims = budgets.get(name, ("0", 0))
        hard[f"{name}.storageclass.storage.k8s.io/requests.storage"] = requests
        hard[f"{name}.storageclass.storage.k8s.io/persistentvolumeclaims"] = str(claims)
    for name in sorted(retired):
        hard[f"{name}.storageclass.storage.k8s.io/persistentvolumeclaims"] = "0"
    return hard


def external_secret_spec(
    *,
    app: str,
    refresh_interval: str,
    secrets_manager_store: str,
    parameter_store: str,
    items: Sequence[tuple[str, str, str, str | None]],
    environment: str,
) -> dict:
    """One ExternalSecret per app: items ``(secret key, store kind, remote name, property)``,
    remote names relative to the environment's prefix, into the Secret ``<app>-secrets``."""
    stores = {"secretsManager": secrets_manager_store, "parameter": parameter_store}
    data = []
    for key, store, name, prop in items:
        remote = {
            "key": f"{environment}/{name}"
            if store == "secretsManager"
            else f"/{environment}/{name}"
        }
        if prop:
            remote["property"] = prop
        data.append(
            {
                "secretKey": key,
                "remoteRef": remote,
                "sourceRef": {"storeRef": {"name": stores[store], "kind": "ClusterSecretStore"}},
            }
        )
    return {
        "refreshInterval": refresh_interval,
        "secretStoreRef": {"name": secrets_manager_store, "kind": "ClusterSecretStore"},
        "target": {
            "name": secret_name(app),
            "creationPolicy": "Owner",
            "deletionPolicy": "Retain",
        },
        "data": data,
    }
