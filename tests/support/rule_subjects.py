"""Subjects for the design rules (policies/rules/): resources and stacks as the engine sends them,
each builder compliant by default, and how a rule is judged against its cases."""

from __future__ import annotations

import copy
import json

from design import drills as drills_design
from design import reconciler as reconciler_design
from design import snapshots as snapshot_design
from policies.rules import Settings, Subject

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


CLUSTER_ARN = "arn:aws:eks:eu-west-1:123456789012:cluster/eks-dev"
GOOD_POD_TRUST = {
    "StringEquals": {
        "aws:RequestTag/eks-cluster-arn": CLUSTER_ARN,
        "aws:RequestTag/kubernetes-namespace": "catalog",
        "aws:RequestTag/kubernetes-service-account": "catalog",
    }
}


def pod_trust(condition: dict | None, **statement) -> Subject:
    stmt = {
        "Effect": "Allow",
        "Principal": {"Service": "pods.eks.amazonaws.com"},
        "Action": ["sts:AssumeRole", "sts:TagSession"],
        **({"Condition": condition} if condition is not None else {}),
        **statement,
    }
    return subject("aws:iam/role:Role", {"assumeRolePolicy": json.dumps({"Statement": [stmt]})})


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


def assert_resource_cases(rule, case) -> None:
    """A rule passes each compliant subject and flags each violating one with the expected text."""
    settings, good, bad, text = case
    for s in good:
        assert list(rule.check(s, settings)) == [], s
    for s in bad:
        messages = list(rule.check(s, settings))
        assert messages, f"{rule.name} missed {s.props}"
        assert any(text in m for m in messages), messages


def assert_stack_cases(rule, case) -> None:
    """A stack rule passes each compliant stack and flags each violating one, naming only
    resources of that stack, with the expected text."""
    settings, good, bad, text = case
    for stack in good:
        assert list(rule.check(stack, settings)) == [], stack
    for stack in bad:
        violations = list(rule.check(stack, settings))
        assert violations, f"{rule.name} missed {[s.props for s in stack]}"
        assert all(urn in {s.urn for s in stack} for urn, _ in violations)
        assert any(text in message for _, message in violations), violations
