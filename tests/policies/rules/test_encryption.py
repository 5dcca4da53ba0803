"""policies/rules/encryption.py, encrypted at rest and in transit: the cluster's secrets, keys, the
bucket, EFS, classes, node volumes. For every rule a compliant and a violating case."""

from __future__ import annotations

import json

import pytest

from policies.rules import encryption
from tests.support.rule_subjects import (
    DEV,
    KEY,
    PUBLIC_BLOCK,
    PUBLIC_FLAGS,
    SSE,
    TLS_ONLY,
    VERSIONING,
    assert_resource_cases,
    cluster,
    efs_class,
    sse,
    storage_class,
    subject,
    template,
)

# rule name -> (settings, compliant subjects, violating subjects, expected text in a violation)
CASES = {
    "bucket-encrypted-tls-private": (
        DEV,
        [
            subject(SSE, {"rules": [sse(bucketKeyEnabled=True)]}),
            subject("aws:s3/bucketPolicy:BucketPolicy", {"policy": TLS_ONLY}),
            subject(PUBLIC_BLOCK, dict.fromkeys(PUBLIC_FLAGS, True)),
            subject(VERSIONING, {"versioningConfiguration": {"status": "Enabled"}}),
        ],
        [
            subject(SSE, {"rules": [sse(sseAlgorithm="AES256", bucketKeyEnabled=True)]}),
            subject(SSE, {"rules": [sse(kmsMasterKeyId="alias/aws/s3", bucketKeyEnabled=True)]}),
            subject(SSE, {"rules": [sse()]}),
            subject("aws:s3/bucketPolicy:BucketPolicy", {"policy": json.dumps({"Statement": []})}),
            subject(
                PUBLIC_BLOCK, {**dict.fromkeys(PUBLIC_FLAGS, True), "blockPublicPolicy": False}
            ),
            subject(VERSIONING, {"versioningConfiguration": {"status": "Suspended"}}),
        ],
        "bucket",
    ),
    "eks-secrets-encryption": (
        DEV,
        [cluster()],
        [
            subject("aws:eks/cluster:Cluster", {"vpcConfig": {}}),
            subject(
                "aws:eks/cluster:Cluster",
                {
                    "encryptionConfig": [
                        {"resources": ["secrets"], "provider": {"keyArn": "alias/aws/eks"}}
                    ]
                },
            ),
        ],
        "encrypt",
    ),
    "kms-key-rotation": (
        DEV,
        [subject("aws:kms/key:Key", {"enableKeyRotation": True})],
        [subject("aws:kms/key:Key", {})],
        "rotation",
    ),
    "efs-encrypted-tls-only": (
        DEV,
        [
            subject("aws:efs/fileSystem:FileSystem", {"encrypted": True, "kmsKeyId": KEY}),
            subject("aws:efs/fileSystemPolicy:FileSystemPolicy", {"policy": TLS_ONLY}),
        ],
        [
            subject("aws:efs/fileSystem:FileSystem", {"encrypted": False}),
            subject(
                "aws:efs/fileSystemPolicy:FileSystemPolicy",
                {
                    "policy": json.dumps(
                        {
                            "Statement": [
                                {"Effect": "Allow", "Action": "elasticfilesystem:ClientMount"}
                            ]
                        }
                    )
                },
            ),
        ],
        "TLS",
    ),
    "storage-class-encrypted": (
        DEV,
        [storage_class(), efs_class()],
        [
            storage_class(parameters={"type": "gp3", "encrypted": "false"}),
            efs_class(mountOptions=["tls"]),
        ],
        "must",
    ),
    "node-volumes-encrypted": (DEV, [template()], [template(encrypted="false")], "encrypted"),
}


def test_every_resource_rule_has_cases():
    assert set(CASES) == {r.name for r in encryption.RESOURCE_RULES}


@pytest.mark.parametrize("rule", encryption.RESOURCE_RULES, ids=lambda r: r.name)
def test_rule_passes_compliant_and_flags_violating_resources(rule):
    assert_resource_cases(rule, CASES[rule.name])
