"""Checks of the checks: for every rule a compliant and a violating resource, the real stacks
pass every mandatory rule, and breaking a component makes the offline plan fail by rule name."""

from __future__ import annotations

import copy
import json

import pytest

from components import nodes
from design import drills as drills_design
from design import reconciler as reconciler_design
from design import snapshots as snapshot_design
from design import storage as storage_design
from policies import rules
from policies.rules import Settings, Subject
from tools import plan as plan_cli

DEV = Settings(environment="dev", production=False, protect=False)
PROD = Settings(environment="prod", production=True, protect=True)
KEY = "arn:aws:kms:eu-west-1:123456789012:key/0b0b0b0b-0000-4000-8000-000000000000"
ISSUER = "oidc.eks.eu-west-1.amazonaws.com/id/ABC"


def subject(type_: str, props: dict, name: str = "r", protect: bool = False) -> Subject:
    return Subject(type_, name, f"urn:pulumi:t::p::{type_}::{name}", props, protect)


def k8s(kind: str, api: str, body: dict, name: str = "x", namespace: str | None = "ns") -> Subject:
    meta = {"name": name, **({"namespace": namespace} if namespace else {})}
    body = {
        "apiVersion": api.split("/", 1)[1] if api.startswith("core/") else api,
        "kind": kind,
        "metadata": meta,
        **body,
    }
    return subject(f"kubernetes:{api}:{kind}", body, name)


def cluster(**vpc) -> Subject:
    return subject(
        "aws:eks/cluster:Cluster",
        {
            "encryptionConfig": [{"resources": ["secrets"], "provider": {"keyArn": KEY}}],
            "vpcConfig": {"endpointPublicAccess": False, **vpc},
        },
    )


def trust(condition: dict) -> Subject:
    return subject(
        "aws:iam/role:Role",
        {
            "assumeRolePolicy": json.dumps(
                {
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {
                                "Federated": f"arn:aws:iam::123456789012:oidc-provider/{ISSUER}"
                            },
                            "Action": "sts:AssumeRoleWithWebIdentity",
                            "Condition": condition,
                        }
                    ]
                }
            )
        },
    )


GOOD_TRUST = {
    "StringEquals": {
        f"{ISSUER}:sub": "system:serviceaccount:apps:orders",
        f"{ISSUER}:aud": "sts.amazonaws.com",
    }
}


GITHUB = "token.actions.githubusercontent.com"


def github_trust(condition: dict) -> Subject:
    statement = {
        "Effect": "Allow",
        "Principal": {"Federated": f"arn:aws:iam::123456789012:oidc-provider/{GITHUB}"},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": condition,
    }
    return subject(
        "aws:iam/role:Role", {"assumeRolePolicy": json.dumps({"Statement": [statement]})}
    )


def policy(*statements: dict) -> Subject:
    return subject(
        "aws:iam/rolePolicy:RolePolicy",
        {"policy": json.dumps({"Version": "2012-10-17", "Statement": list(statements)})},
    )


def template(tokens: str = "required", hops: int = 1, encrypted: str = "true") -> Subject:
    return subject(
        "aws:ec2/launchTemplate:LaunchTemplate",
        {
            "metadataOptions": {"httpTokens": tokens, "httpPutResponseHopLimit": hops},
            "blockDeviceMappings": [
                {"deviceName": "/dev/xvda", "ebs": {"encrypted": encrypted, "kmsKeyId": KEY}}
            ],
        },
    )


def storage_class(name: str = "gp3-ssd-dev-rwo", **overrides) -> Subject:
    body = {
        "provisioner": "ebs.csi.aws.com",
        "parameters": {"type": "gp3", "encrypted": "true", "kmsKeyId": KEY},
        "reclaimPolicy": "Delete",
        "volumeBindingMode": "WaitForFirstConsumer",
        "allowVolumeExpansion": True,
        **overrides,
    }
    return k8s("StorageClass", "storage.k8s.io/v1", body, name=name, namespace=None)


def efs_class(name: str = "efs-burst-dev-rwx", **overrides) -> Subject:
    efs = {
        "provisioner": "efs.csi.aws.com",
        "parameters": {"provisioningMode": "efs-ap", "fileSystemId": "fs-1"},
        "mountOptions": ["tls", "iam"],
    }
    return storage_class(name, **{**efs, **overrides})


def pod(volumes=(), env=(), image: str = "registry.example/app:1.2.3") -> dict:
    return {
        "containers": [{"name": "c", "image": image, "env": list(env)}],
        "volumes": list(volumes),
    }


def deployment(**kw) -> Subject:
    return k8s("Deployment", "apps/v1", {"spec": {"template": {"spec": pod(**kw)}}})


def snapshot_job(
    keep: str = "7", max_age: str | None = None, known: str = "daily,weekly", **spec
) -> Subject:
    env = [{"name": "KEEP", "value": keep}, {"name": "KNOWN_POLICIES", "value": known}]
    if max_age is not None:
        env.append({"name": "MAX_AGE_SECONDS", "value": max_age})
    body = {
        "spec": {
            "schedule": "@daily",
            "concurrencyPolicy": "Forbid",
            "successfulJobsHistoryLimit": 3,
            "failedJobsHistoryLimit": 5,
            "startingDeadlineSeconds": 3600,
            "jobTemplate": {"spec": {"template": {"spec": pod(env=env)}}},
            **spec,
        }
    }
    job = k8s("CronJob", "batch/v1", body)
    job.props["metadata"]["labels"] = {snapshot_design.POLICY_LABEL: "daily"}
    return job


def reconciler_job(
    classes: str = "gp3-ssd-prod-rwo=Retain",
    snapshot_classes: str = "ebs-retain-prod,ebs-delete-prod",
    snapshot: str = "Retain",
    **spec,
) -> Subject:
    job = snapshot_job(**spec)
    job.props["metadata"]["labels"] = {"app.kubernetes.io/name": reconciler_design.APP_NAME}
    job.props["spec"]["jobTemplate"]["spec"]["template"]["spec"] = pod(
        env=[
            {"name": "CLASS_POLICIES", "value": classes},
            {"name": "SNAPSHOT_CLASSES", "value": snapshot_classes},
            {"name": "SNAPSHOT_DELETION_POLICY", "value": snapshot},
        ]
    )
    return job


def drill_job(timeout: str = "1800", deadline: int | None = 2400, **spec) -> Subject:
    job = snapshot_job(**spec)
    job.props["metadata"]["labels"] = {"app.kubernetes.io/name": drills_design.APP_NAME}
    template = job.props["spec"]["jobTemplate"]["spec"]
    template["template"]["spec"] = pod(env=[{"name": "TIMEOUT_SECONDS", "value": timeout}])
    if deadline is not None:
        template["activeDeadlineSeconds"] = deadline
    return job


def snapshot_class(name: str, policy: str) -> Subject:
    body = {"driver": "ebs.csi.aws.com", "deletionPolicy": policy}
    return k8s("VolumeSnapshotClass", "snapshot.storage.k8s.io/v1", body, name=name, namespace=None)


ROTATOR_NS, ROTATOR = "storage-snapshots", "snapshot-rotator"
ROTATOR_RULES = snapshot_design.rotator_rules  # kept, for tests that replace the design's


def rotator_job(account: str = ROTATOR) -> Subject:
    job = snapshot_job()
    job.props["metadata"]["namespace"] = ROTATOR_NS
    job.props["spec"]["jobTemplate"]["spec"]["template"]["spec"]["serviceAccountName"] = account
    return job


def cluster_role(rules_: list, name: str = "rotator") -> Subject:
    body = {"rules": rules_}
    return k8s("ClusterRole", "rbac.authorization.k8s.io/v1", body, name=name, namespace=None)


def binding_to(
    subject_: dict | None = None, kind_: str = "ClusterRoleBinding", role_name: str = "rotator"
) -> Subject:
    subject_ = subject_ or {"kind": "ServiceAccount", "name": ROTATOR, "namespace": ROTATOR_NS}
    body = {
        "roleRef": {
            "apiGroup": "rbac.authorization.k8s.io",
            "kind": "ClusterRole",
            "name": role_name,
        },
        "subjects": [subject_],
    }
    return k8s(kind_, "rbac.authorization.k8s.io/v1", body, name="rotator", namespace=None)


def rotator_rules_without(resource: str, verb: str) -> list[dict]:
    """The rotator's real rules with one verb on one resource taken away."""
    out = copy.deepcopy(ROTATOR_RULES())
    for rule in out:
        if resource in rule["resources"]:
            rule["verbs"].remove(verb)
    return out


def namespace(level: str | None) -> Subject:
    ns = k8s("Namespace", "core/v1", {}, namespace=None)
    if level:
        ns.props["metadata"]["labels"] = {"pod-security.kubernetes.io/enforce": level}
    return ns


def role(rules_: list) -> Subject:
    return k8s("Role", "rbac.authorization.k8s.io/v1", {"rules": rules_})


# rule name -> (settings, compliant subjects, violating subjects, expected text in a violation)
SSE = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
PUBLIC_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
PUBLIC_FLAGS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"
TLS_ONLY = json.dumps(
    {"Statement": [{"Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}
)


def sse(**overrides) -> dict:
    default = {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": KEY}
    rule = {"applyServerSideEncryptionByDefault": default}
    for key, value in overrides.items():
        (default if key in ("sseAlgorithm", "kmsMasterKeyId") else rule)[key] = value
    return rule


def velero_schedule(ttl: str | None) -> Subject:
    template = {"ttl": ttl} if ttl else {}
    return subject(
        "kubernetes:velero.io/v1:Schedule", {"spec": {"schedule": "@daily", "template": template}}
    )


def protected(kind: str, value: str) -> dict:
    return {"annotations": {f"protection.eks-config-storage.io/{kind}": value}}


CASES = {
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
    "irsa-trust-exact": (
        DEV,
        [trust(GOOD_TRUST)],
        [
            trust(
                {
                    "StringLike": {
                        f"{ISSUER}:sub": "system:serviceaccount:apps:*",
                        f"{ISSUER}:aud": "sts.amazonaws.com",
                    }
                }
            ),
            trust({"StringEquals": {f"{ISSUER}:sub": "system:serviceaccount:apps:orders"}}),
            trust(
                {
                    "StringEquals": {
                        f"{ISSUER}:sub": "system:serviceaccount:apps:orders",
                        f"{ISSUER}:aud": "other",
                    }
                }
            ),
        ],
        "IRSA",
    ),
    "iam-no-wildcards": (
        DEV,
        [
            policy({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/p/*"}),
            policy({"Effect": "Allow", "Action": "ec2:DescribeAvailabilityZones", "Resource": "*"}),
            policy({"Effect": "Deny", "Action": "*", "Resource": "*"}),
        ],
        [
            policy({"Effect": "Allow", "Action": "*", "Resource": "arn:aws:s3:::b"}),
            policy({"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::b"}),
            policy({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}),
            policy({"Effect": "Allow", "NotAction": "iam:*", "Resource": "arn:aws:s3:::b"}),
        ],
        "statement",
    ),
    "iam-no-escalation": (
        DEV,
        [
            policy(
                {
                    "Effect": "Allow",
                    "Action": "iam:CreateRole",
                    "Resource": "arn:aws:iam::1:role/eks-dev-*",
                    "Condition": {"StringEquals": {"iam:PermissionsBoundary": "arn:b"}},
                }
            ),
            policy({"Effect": "Deny", "Action": "iam:*", "Resource": "*"}),
        ],
        [
            policy({"Effect": "Allow", "Action": "iam:CreateRole", "Resource": "*"}),
            policy({"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*"}),
        ],
        "statement",
    ),
    "iam-roles-carry-boundary": (
        Settings("dev", False, False, permissions_boundary="arn:b"),
        [subject("aws:iam/role:Role", {"permissionsBoundary": "arn:b"})],
        [subject("aws:iam/role:Role", {})],
        "permissions boundary",
    ),
    "github-oidc-trust": (
        DEV,
        [
            github_trust(
                {
                    "StringEquals": {
                        f"{GITHUB}:aud": "sts.amazonaws.com",
                        f"{GITHUB}:sub": "repo:o@1/r@2:environment:dev",
                        f"{GITHUB}:repository": "o/r",
                    }
                }
            )
        ],
        [
            github_trust({"StringLike": {f"{GITHUB}:sub": "repo:o/*"}}),
            github_trust({"StringEquals": {f"{GITHUB}:aud": "sts.amazonaws.com"}}),
        ],
        "GitHub trust",
    ),
    "rbac-least-privilege": (
        DEV,
        [
            role(
                [
                    {
                        "apiGroups": [""],
                        "resources": ["secrets"],
                        "resourceNames": ["a"],
                        "verbs": ["get"],
                    },
                ]
            )
        ],
        [
            role([{"apiGroups": ["*"], "resources": ["pods"], "verbs": ["get"]}]),
            role([{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]}]),
            role(
                [
                    {
                        "apiGroups": [""],
                        "resources": ["secrets"],
                        "resourceNames": ["a"],
                        "verbs": ["get", "list"],
                    }
                ]
            ),
        ],
        "rule 0",
    ),
    "nodes-imdsv2-hop-limit-1": (
        DEV,
        [template()],
        [template(tokens="optional"), template(hops=2)],
        "metadata",
    ),
    "eks-endpoint-exposure": (
        DEV,
        [cluster(), cluster(endpointPublicAccess=True, publicAccessCidrs=["203.0.113.0/24"])],
        [
            cluster(endpointPublicAccess=True, publicAccessCidrs=["0.0.0.0/0"]),
            cluster(endpointPublicAccess=True),
        ],
        "public",
    ),
    "namespaces-pod-security-restricted": (
        DEV,
        [namespace(None), namespace("restricted")],
        [
            namespace("baseline"),
        ],
        "baseline",
    ),
    "configmap-no-secrets": (
        DEV,
        [k8s("ConfigMap", "core/v1", {"data": {"LOG_LEVEL": "info"}})],
        [
            k8s("ConfigMap", "core/v1", {"data": {"DB_PASSWORD": "x"}}),
        ],
        "looks like a secret",
    ),
    "env-no-literal-secrets": (
        DEV,
        [
            deployment(
                env=[{"name": "LOG_LEVEL", "value": "info"}, {"name": "API_TOKEN", "valueFrom": {}}]
            )
        ],
        [
            deployment(env=[{"name": "API_TOKEN", "value": "abc"}]),
        ],
        "literal secret",
    ),
    "no-secret-data": (
        DEV,
        [k8s("Secret", "core/v1", {"type": "Opaque"})],
        [
            k8s("Secret", "core/v1", {"data": {"a": "YQ=="}}),
            k8s("Secret", "core/v1", {"stringData": {"a": "a"}}),
        ],
        "Secret with data",
    ),
    "backup-ttl-bounded": (
        DEV,
        [velero_schedule("720h"), velero_schedule("1h"), velero_schedule("8760h0m0s")],
        [
            velero_schedule(None),
            velero_schedule("0h"),
            velero_schedule("8761h"),
            velero_schedule("30d"),
        ],
        "TTL",
    ),
    "storage-class-protected": (
        PROD,
        [
            storage_class("gp3-ssd-prod-rwo", metadata=protected("snapshot-policies", "daily")),
            storage_class("gp3-ssd-prod-rwo", metadata=protected("backup-schedule", "nightly")),
            storage_class("gp3-ssd-prod-rwo", metadata=protected("unprotected-reason", "scratch")),
            efs_class("efs-burst-prod-rwx", metadata=protected("aws-backup", "true")),
        ],
        [storage_class("gp3-ssd-prod-rwo"), efs_class("efs-burst-prod-rwx")],
        "protection",
    ),
    "ebs-classes-wait-for-first-consumer": (
        DEV,
        [storage_class()],
        [storage_class(volumeBindingMode="Immediate")],
        "WaitForFirstConsumer",
    ),
    "classes-wait-for-first-consumer": (
        DEV,
        [efs_class()],
        [efs_class(volumeBindingMode="Immediate")],
        "WaitForFirstConsumer",
    ),
    "storage-class-sla-name": (
        DEV,
        [
            storage_class(),
            efs_class(),
            storage_class("io2-ssd-db-dev-rwo", parameters={"type": "io2"}),
        ],
        [
            storage_class("fast"),
            storage_class("gp3-ssd-prod-rwo"),
            storage_class("io2-ssd-dev-rwo"),
            efs_class("efs-burst-dev-rwo"),
        ],
        "does not follow",
    ),
    "storage-class-expandable": (
        DEV,
        [storage_class(), efs_class(allowVolumeExpansion=False)],
        [storage_class(allowVolumeExpansion=False), efs_class(allowVolumeExpansion=True)],
        "allowVolumeExpansion",
    ),
    "snapshot-generation-limit": (
        DEV,
        [snapshot_job(), snapshot_job(max_age="129600"), reconciler_job(), drill_job()],
        [
            snapshot_job(keep=""),
            snapshot_job(keep="0"),
            snapshot_job(max_age="60"),
            snapshot_job(max_age="36h"),
            snapshot_job(known="weekly"),
            snapshot_job(concurrencyPolicy="Allow"),
            snapshot_job(successfulJobsHistoryLimit=100),
            snapshot_job(startingDeadlineSeconds=None),
            reconciler_job(concurrencyPolicy="Allow"),
            reconciler_job(failedJobsHistoryLimit=None),
            reconciler_job(startingDeadlineSeconds=None),
            drill_job(concurrencyPolicy="Replace"),
            drill_job(successfulJobsHistoryLimit=0),
            drill_job(startingDeadlineSeconds=None),
            drill_job(deadline=1800),  # killed at its timeout, it could not clean up
            drill_job(deadline=None),
            drill_job(timeout=""),
        ],
        "",
    ),
    "production-retains-data": (
        PROD,
        [
            storage_class("gp3-ssd-prod-rwo", reclaimPolicy="Retain"),
            k8s("VolumeSnapshotClass", "snapshot.storage.k8s.io/v1", {"deletionPolicy": "Retain"}),
            subject("aws:efs/backupPolicy:BackupPolicy", {"backupPolicy": {"status": "ENABLED"}}),
            reconciler_job("gp3-ssd-prod-rwo=Retain,efs-elastic-prod-rwx=Retain"),
        ],
        [
            storage_class("gp3-ssd-prod-rwo"),
            k8s("VolumeSnapshotClass", "snapshot.storage.k8s.io/v1", {"deletionPolicy": "Delete"}),
            subject("aws:efs/backupPolicy:BackupPolicy", {"backupPolicy": {"status": "DISABLED"}}),
            # Existing PVs or contents of a production stack would stay deletable.
            reconciler_job("gp3-ssd-prod-rwo=Retain,efs-elastic-prod-rwx=Delete"),
            reconciler_job(snapshot="Delete"),
        ],
        "production",
    ),
    "no-host-path": (
        DEV,
        [deployment(volumes=[{"name": "tmp", "emptyDir": {}}])],
        [
            deployment(volumes=[{"name": "data", "hostPath": {"path": "/data"}}]),
            k8s(
                "PersistentVolume",
                "core/v1",
                {"spec": {"hostPath": {"path": "/d"}}},
                namespace=None,
            ),
        ],
        "hostPath",
    ),
    "versions-pinned": (
        DEV,
        [
            subject("kubernetes:helm.sh/v3:Release", {"chart": "c", "version": "1.2.3"}),
            subject("aws:eks/addon:Addon", {"addonName": "a", "addonVersion": "v1.0.0-eksbuild.1"}),
            deployment(),
        ],
        [
            subject("kubernetes:helm.sh/v3:Release", {"chart": "c", "version": "^1.2"}),
            subject("kubernetes:helm.sh/v3:Release", {"chart": "c"}),
            subject("aws:eks/addon:Addon", {"addonName": "a"}),
            deployment(image="nginx:latest"),
            deployment(image="nginx"),
        ],
        "pin",
    ),
}

# The advisory namespace rule needs a relaxed namespace as its violating case.

CONTENTS_ONLY_NAMED = [
    *rotator_rules_without("volumesnapshotcontents", "patch"),
    {
        "apiGroups": ["snapshot.storage.k8s.io"],
        "resources": ["volumesnapshotcontents"],
        "resourceNames": ["snapcontent-1"],
        "verbs": ["patch"],
    },
]

# What a dev stack has: one class reclaiming Delete, its default snapshot class.
DEV_CLASSES = [storage_class(), snapshot_class("ebs-delete-dev", "Delete")]
DEV_RECONCILER = {
    "classes": "gp3-ssd-dev-rwo=Delete,gp3-ssd-old-dev-rwo=Retain",
    "snapshot_classes": "ebs-retain-dev,ebs-delete-dev",
    "snapshot": "Delete",
}

# stack rule name -> (settings, compliant stacks, violating stacks, expected text in a violation)
STACK_CASES = {
    "existing-volumes-follow-policy": (
        DEV,
        [
            [*DEV_CLASSES, reconciler_job(**DEV_RECONCILER)],
            [reconciler_job(**DEV_RECONCILER)],  # no class yet: nothing to reconcile
        ],
        [
            DEV_CLASSES,  # no reconciler
            [*DEV_CLASSES, reconciler_job(**{**DEV_RECONCILER, "classes": "efs-x=Delete"})],
            [
                *DEV_CLASSES,
                reconciler_job(**{**DEV_RECONCILER, "classes": "gp3-ssd-dev-rwo=Retain"}),
            ],
            [
                *DEV_CLASSES,
                reconciler_job(**{**DEV_RECONCILER, "snapshot_classes": "ebs-retain-dev"}),
            ],
            [*DEV_CLASSES, reconciler_job(**{**DEV_RECONCILER, "snapshot": "Retain"})],
        ],
        "reconciler",
    ),
    "snapshot-rotator-can-prune": (
        DEV,
        [
            [rotator_job(), cluster_role(snapshot_design.rotator_rules()), binding_to()],
            [
                rotator_job(),
                cluster_role(snapshot_design.rotator_rules()),
                binding_to({"kind": "Group", "name": f"system:serviceaccounts:{ROTATOR_NS}"}),
            ],
            [binding_to()],  # no snapshot job: nothing to prune
        ],
        [
            [
                rotator_job(),
                cluster_role(rotator_rules_without("volumesnapshotcontents", "patch")),
                binding_to(),
            ],
            [
                rotator_job(),
                cluster_role(rotator_rules_without("volumesnapshots", "delete")),
                binding_to(),
            ],
            [rotator_job(), cluster_role(CONTENTS_ONLY_NAMED), binding_to()],
            [rotator_job("default"), cluster_role(snapshot_design.rotator_rules()), binding_to()],
            [rotator_job(), cluster_role(snapshot_design.rotator_rules())],
            [
                rotator_job(),
                cluster_role(snapshot_design.rotator_rules()),
                binding_to(kind_="RoleBinding"),
            ],
            [
                rotator_job(),
                cluster_role(snapshot_design.rotator_rules()),
                binding_to(role_name="other"),
            ],
        ],
        "runs as storage-snapshots/",
    ),
    "protected-stack-state": (
        PROD,
        [[subject("aws:kms/key:Key", {}, "k", protect=True)]],
        [[subject("aws:efs/fileSystem:FileSystem", {}, "fs", protect=False)]],
        "holds state but is not protected",
    ),
}


def test_every_resource_rule_has_cases():
    assert set(CASES) == {r.name for r in rules.RESOURCE_RULES}


@pytest.mark.parametrize("rule", rules.RESOURCE_RULES, ids=lambda r: r.name)
def test_rule_passes_compliant_and_flags_violating_resources(rule):
    settings, good, bad, text = CASES[rule.name]
    for s in good:
        assert list(rule.check(s, settings)) == [], s
    for s in bad:
        messages = list(rule.check(s, settings))
        assert messages, f"{rule.name} missed {s.props}"
        assert any(text in m for m in messages), messages


def test_rules_ignore_resources_they_do_not_govern():
    unrelated = subject("aws:s3/bucket:Bucket", {"bucket": "b"})
    for rule in rules.RESOURCE_RULES:
        assert list(rule.check(unrelated, PROD)) == []


def test_every_stack_rule_has_cases():
    assert set(STACK_CASES) == {r.name for r in rules.STACK_RULES}


@pytest.mark.parametrize("rule", rules.STACK_RULES, ids=lambda r: r.name)
def test_stack_rule_passes_compliant_and_flags_violating_stacks(rule):
    settings, good, bad, text = STACK_CASES[rule.name]
    for stack in good:
        assert list(rule.check(stack, settings)) == [], stack
    for stack in bad:
        violations = list(rule.check(stack, settings))
        assert violations, f"{rule.name} missed {[s.props for s in stack]}"
        assert all(urn in {s.urn for s in stack} for urn, _ in violations)
        assert any(text in message for _, message in violations), violations


def test_rotator_rule_names_what_is_missing():
    (rule,) = [r for r in rules.STACK_RULES if r.name == "snapshot-rotator-can-prune"]
    job = rotator_job()
    stack = [job, cluster_role(rotator_rules_without("volumesnapshotcontents", "patch"))]
    assert list(rule.check([*stack, binding_to()], DEV)) == [
        (
            job.urn,
            "snapshot job x runs as storage-snapshots/snapshot-rotator, which no ClusterRole "
            "binding lets patch volumesnapshotcontents: pruning would fail and generations "
            "pile up",
        )
    ]


def test_protected_stack_rule():
    (rule,) = [r for r in rules.STACK_RULES if r.name == "protected-stack-state"]
    key = subject("aws:kms/key:Key", {}, "k", protect=True)
    fs = subject("aws:efs/fileSystem:FileSystem", {}, "fs", protect=False)
    assert list(rule.check([key, fs], PROD)) == [
        (fs.urn, "aws:efs/fileSystem:FileSystem fs holds state but is not protected")
    ]
    assert list(rule.check([key, fs], DEV)) == []


DIGEST = "sha256:" + "ab" * 32


def test_production_images_are_pinned_by_digest_and_tags_pass_elsewhere():
    rule = next(r for r in rules.RESOURCE_RULES if r.name == "versions-pinned")
    tagged = deployment(image="registry.example/app:1.2.3")
    pinned = deployment(image=f"registry.example/app:1.2.3@{DIGEST}")
    assert list(rule.check(tagged, DEV)) == []
    assert list(rule.check(pinned, DEV)) == list(rule.check(pinned, PROD)) == []
    assert list(rule.check(tagged, PROD)) == [
        "image 'registry.example/app:1.2.3' must be pinned by digest in production: get its "
        "digest with `crane digest <image>` and write name:tag@sha256:<digest>"
    ]
    assert list(rule.check(deployment(image="app@sha256:short"), PROD))


def test_production_rules_only_apply_in_production():
    assert list(rules.lifecycle.production_retains_data(storage_class(), DEV)) == []
    public = cluster(endpointPublicAccess=True, publicAccessCidrs=["203.0.113.0/24"])
    assert list(rules.identity.eks_endpoint_exposure(public, DEV)) == []
    assert list(rules.identity.eks_endpoint_exposure(public, PROD))


def test_real_stacks_pass_every_mandatory_rule(plans):
    for name, plan in plans.items():
        settings = Settings(plan.exports["environment"], name == "prod", name == "prod")
        for verdict in plan_cli.verdicts(plan, settings):
            if verdict.enforcement == "mandatory":
                assert not verdict.violations, (name, verdict.name, verdict.violations)


@pytest.mark.parametrize(
    "broken",
    [
        (
            nodes,
            "metadata_options",
            lambda: {"http_tokens": "optional", "http_put_response_hop_limit": 2},
            "nodes-imdsv2-hop-limit-1",
        ),
        (snapshot_design, "STARTING_DEADLINE_SECONDS", 0, "snapshot-generation-limit"),
        (reconciler_design, "STARTING_DEADLINE_SECONDS", 0, "snapshot-generation-limit"),
        (reconciler_design, "HISTORY_SUCCESS", 0, "snapshot-generation-limit"),
        (
            reconciler_design,
            "class_policies",
            lambda policies: "gp3-ssd-dev-rwo=Delete",
            "existing-volumes-follow-policy",
        ),
        (snapshot_design, "HISTORY_FAILED", 50, "snapshot-generation-limit"),
        (
            snapshot_design,
            "rotator_rules",
            lambda: rotator_rules_without("volumesnapshotcontents", "patch"),
            "snapshot-rotator-can-prune",
        ),
    ],
)
def test_breaking_a_component_fails_the_offline_plan_by_rule(monkeypatch, capsys, broken):
    module, attribute, replacement, rule = broken
    monkeypatch.setattr(module, attribute, replacement)
    assert plan_cli.main(["dev"]) == 1
    captured = capsys.readouterr()
    assert "FAIL  " in captured.out and rule in captured.out
    assert f"mandatory rules violated: {rule}" in captured.err


def test_a_class_that_binds_immediately_fails_the_plan(monkeypatch, capsys):
    original = storage_design.storage_class_object

    def immediate(**kwargs):
        obj = copy.deepcopy(original(**kwargs))
        obj["volumeBindingMode"] = "Immediate"
        return obj

    monkeypatch.setattr(storage_design, "storage_class_object", immediate)
    assert plan_cli.main(["prod"]) == 1
    err = capsys.readouterr().err
    assert "ebs-classes-wait-for-first-consumer" in err


def test_existing_volumes_rule_names_each_class_left_behind():
    (rule,) = [r for r in rules.STACK_RULES if r.name == "existing-volumes-follow-policy"]
    gp3, efs, snapshots = (
        storage_class("gp3-ssd-prod-rwo", reclaimPolicy="Retain"),
        efs_class("efs-elastic-prod-rwx", reclaimPolicy="Retain"),
        snapshot_class("ebs-retain-prod", "Retain"),
    )
    job = reconciler_job("gp3-ssd-prod-rwo=Delete", "ebs-retain-prod,ebs-delete-prod", "Retain")
    assert list(rule.check([gp3, efs, snapshots, job], PROD)) == [
        (gp3.urn, "the reconciler maps class gp3-ssd-prod-rwo to Delete, but it reclaims Retain"),
        (
            efs.urn,
            "no reconciler maps class efs-elastic-prod-rwx: its existing PVs keep the policy "
            "they were provisioned with",
        ),
    ]


def test_a_production_reconciler_that_releases_existing_volumes_fails_the_plan(monkeypatch, capsys):
    original = reconciler_design.class_policies
    monkeypatch.setattr(
        reconciler_design,
        "class_policies",
        lambda policies: original({name: "Delete" for name in policies}),
    )
    assert plan_cli.main(["prod"]) == 1
    err = capsys.readouterr().err
    assert "production-retains-data" in err
    assert "existing-volumes-follow-policy" in err


@pytest.mark.parametrize(
    ("attribute", "value"), [("CLEANUP_SECONDS", 0), ("STARTING_DEADLINE_SECONDS", 0)]
)
def test_a_drill_that_could_not_clean_up_or_stop_silently_fails_the_plan(
    monkeypatch, capsys, attribute, value
):
    monkeypatch.setattr(drills_design, attribute, value)
    assert plan_cli.main(["prod"]) == 1
    assert "mandatory rules violated: snapshot-generation-limit" in capsys.readouterr().err
