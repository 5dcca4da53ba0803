"""R3: encryption beyond base64: Secrets in etcd, keys, volumes, file systems."""

from __future__ import annotations

from collections.abc import Iterator

from design import storage as sc

from .base import (
    CLUSTER,
    CUSTOMER_KEY_ARN,
    LAUNCH_TEMPLATE,
    STORAGE_CLASS,
    ResourceRule,
    Settings,
    StackRule,
    Subject,
    as_list,
    document,
    get,
)


def eks_secrets_encryption(s: Subject, _: Settings) -> Iterator[str]:
    if s.type != CLUSTER:
        return
    configs = as_list(s.props.get("encryptionConfig"))
    if not configs or "secrets" not in as_list(get(configs[0], "resources")):
        yield "Secrets are not envelope-encrypted: set encryptionConfig for 'secrets'"
        return
    key = get(configs[0], "provider", "keyArn")
    if not isinstance(key, str) or not CUSTOMER_KEY_ARN.match(key):
        yield f"envelope encryption must use a customer-managed key ARN, got {key!r}"


def kms_rotation(s: Subject, _: Settings) -> Iterator[str]:
    if s.type == "aws:kms/key:Key" and s.props.get("enableKeyRotation") is not True:
        yield "automatic key rotation must be enabled"


def efs_encrypted_tls(s: Subject, _: Settings) -> Iterator[str]:
    if s.type == "aws:efs/fileSystem:FileSystem" and (
        s.props.get("encrypted") is not True or not s.props.get("kmsKeyId")
    ):
        yield "the file system must be encrypted at rest with the stack's key (and TLS in transit)"
    if s.type == "aws:efs/fileSystemPolicy:FileSystemPolicy":
        denies = [
            stmt
            for stmt in as_list(document(s.props.get("policy")).get("Statement"))
            if stmt.get("Effect") == "Deny"
            and get(stmt, "Condition", "Bool", "aws:SecureTransport") == "false"
        ]
        if not denies:
            yield "the file-system policy must deny access without TLS (aws:SecureTransport)"


def storage_class_encrypted(s: Subject, _: Settings) -> Iterator[str]:
    """R3 for volumes: EBS with the stack's key, EFS over TLS with IAM."""
    if s.type != STORAGE_CLASS:
        return
    params = s.props.get("parameters") or {}
    if s.props.get("provisioner") == sc.EBS_PROVISIONER:
        if params.get("encrypted") != "true" or not params.get("kmsKeyId"):
            yield "EBS classes must set encrypted: 'true' and the stack's kmsKeyId"
    elif s.props.get("provisioner") == sc.EFS_PROVISIONER:
        missing = set(sc.EFS_MOUNT_OPTIONS) - set(as_list(s.props.get("mountOptions")))
        if missing:
            yield f"EFS classes must mount with {sorted(missing)}"


def node_volumes_encrypted(s: Subject, _: Settings) -> Iterator[str]:
    if s.type != LAUNCH_TEMPLATE:
        return
    for device in as_list(s.props.get("blockDeviceMappings")):
        ebs = device.get("ebs") or {}
        if str(ebs.get("encrypted")).lower() != "true" or not ebs.get("kmsKeyId"):
            yield f"volume {device.get('deviceName')} must be encrypted with the stack's key"


RESOURCE_RULES: tuple[ResourceRule, ...] = (
    ResourceRule(
        "eks-secrets-encryption",
        "R3",
        "EKS Secrets are envelope-encrypted with a customer key",
        "mandatory",
        eks_secrets_encryption,
    ),
    ResourceRule(
        "kms-key-rotation", "R3", "KMS keys rotate automatically", "mandatory", kms_rotation
    ),
    ResourceRule(
        "efs-encrypted-tls-only",
        "R3",
        "EFS is encrypted with the key and refuses non-TLS access",
        "mandatory",
        efs_encrypted_tls,
    ),
    ResourceRule(
        "storage-class-encrypted",
        "R3",
        "EBS classes use the stack's key; EFS classes mount with tls and iam",
        "mandatory",
        storage_class_encrypted,
    ),
    ResourceRule(
        "node-volumes-encrypted",
        "R3",
        "Node volumes are encrypted with the stack's key",
        "mandatory",
        node_volumes_encrypted,
    ),
)

STACK_RULES: tuple[StackRule, ...] = ()
