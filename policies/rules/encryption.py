"""R3: encryption beyond base64: Secrets in etcd, keys, volumes, file systems."""

from __future__ import annotations

from collections.abc import Iterator

from design.storage.registry import by_provisioner

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


def _denies_plain_http(s: Subject) -> bool:
    """Whether the resource policy has a Deny on aws:SecureTransport false."""
    return any(
        stmt.get("Effect") == "Deny"
        and get(stmt, "Condition", "Bool", "aws:SecureTransport") == "false"
        for stmt in as_list(document(s.props.get("policy")).get("Statement"))
    )


def efs_encrypted_tls(s: Subject, _: Settings) -> Iterator[str]:
    if s.type == "aws:efs/fileSystem:FileSystem" and (
        s.props.get("encrypted") is not True or not s.props.get("kmsKeyId")
    ):
        yield "the file system must be encrypted at rest with the stack's key (and TLS in transit)"
    if s.type == "aws:efs/fileSystemPolicy:FileSystemPolicy" and not _denies_plain_http(s):
        yield "the file-system policy must deny access without TLS (aws:SecureTransport)"


def storage_class_encrypted(s: Subject, _: Settings) -> Iterator[str]:
    """R3 for volumes: EBS with the stack's key, EFS over TLS with IAM."""
    if s.type != STORAGE_CLASS:
        return
    backend = by_provisioner(s.props.get("provisioner"))
    if backend is not None:
        params = s.props.get("parameters") or {}
        yield from backend.encryption_problems(params, as_list(s.props.get("mountOptions")))


def node_volumes_encrypted(s: Subject, _: Settings) -> Iterator[str]:
    if s.type != LAUNCH_TEMPLATE:
        return
    for device in as_list(s.props.get("blockDeviceMappings")):
        ebs = device.get("ebs") or {}
        if str(ebs.get("encrypted")).lower() != "true" or not ebs.get("kmsKeyId"):
            yield f"volume {device.get('deviceName')} must be encrypted with the stack's key"


BUCKET_SSE = (
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
)


def bucket_protected(s: Subject, _: Settings) -> Iterator[str]:
    """R3/F4 for backups: encrypted with a customer key (and a bucket key), TLS only, never
    public, versioned."""
    if s.type == BUCKET_SSE:
        for rule in as_list(s.props.get("rules")):
            default = rule.get("applyServerSideEncryptionByDefault") or {}
            key = default.get("kmsMasterKeyId")
            if default.get("sseAlgorithm") != "aws:kms" or not (
                isinstance(key, str) and CUSTOMER_KEY_ARN.match(key)
            ):
                yield "buckets encrypt with SSE-KMS and the stack's customer-managed key"
            if rule.get("bucketKeyEnabled") is not True:
                yield "SSE-KMS buckets use a bucket key (bucketKeyEnabled)"
    if s.type == "aws:s3/bucketPolicy:BucketPolicy" and not _denies_plain_http(s):
        yield "the bucket policy must deny access without TLS (aws:SecureTransport)"
    if s.type == "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock":
        flags = (
            "blockPublicAcls",
            "blockPublicPolicy",
            "ignorePublicAcls",
            "restrictPublicBuckets",
        )
        if not all(s.props.get(flag) is True for flag in flags):
            yield f"every public access block of the bucket must be on: {', '.join(flags)}"
    versioning = get(s.props, "versioningConfiguration", "status")
    if s.type == "aws:s3/bucketVersioning:BucketVersioning" and versioning != "Enabled":
        yield "backup buckets are versioned"


RESOURCE_RULES: tuple[ResourceRule, ...] = (
    ResourceRule(
        "bucket-encrypted-tls-private",
        "R3",
        "Buckets: SSE-KMS with the stack's key and a bucket key, TLS only, private, versioned",
        "mandatory",
        bucket_protected,
    ),
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
