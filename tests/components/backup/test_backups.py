"""Backups off the cluster: the bucket, Velero's role, its chart values, and schedules that
select volumes by storage class and expire by themselves."""

from __future__ import annotations

import pytest
import yaml

from design import backup as design
from tests.support.plan_helpers import aws_of, doc, rejected
from tests.support.stack_values import broken
from tools import plan as plan_cli
from tools.offline import Plan, run_config, stack_config
from tools.report import protection_lines

NS = "eks-config-storage"
# The prod stack's bucket is named after the account it plans in.
BUCKET = f"eks-prod-velero-{aws_of('prod').account_id}"
POLICY_TYPE = "aws:s3/bucketPolicy:BucketPolicy"


@pytest.fixture
def prod(plans) -> Plan:
    return plans["prod"]


def key_arn(plan: Plan) -> str:
    return plan.one("aws:kms/key:Key").outputs["arn"]


def test_the_bucket_is_encrypted_with_the_stack_key_versioned_private_and_protected(prod):
    bucket = prod.one("aws:s3/bucket:Bucket")
    assert bucket.inputs["bucket"] == BUCKET
    assert bucket.protect and bucket.options["retainOnDelete"]
    sse = prod.one(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
    )
    assert sse.inputs["bucket"] == bucket.outputs["id"]
    assert sse.inputs["rules"] == [
        {
            "applyServerSideEncryptionByDefault": {
                "sseAlgorithm": "aws:kms",
                "kmsMasterKeyId": key_arn(prod),
            },
            "bucketKeyEnabled": True,
        }
    ]
    versioning = prod.one("aws:s3/bucketVersioning:BucketVersioning")
    assert versioning.inputs["versioningConfiguration"] == {"status": "Enabled"}
    assert versioning.protect
    block = prod.one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")
    for flag in (
        "blockPublicAcls",
        "blockPublicPolicy",
        "ignorePublicAcls",
        "restrictPublicBuckets",
    ):
        assert block.inputs[flag] is True, flag
    ownership = prod.one("aws:s3/bucketOwnershipControls:BucketOwnershipControls")
    assert ownership.inputs["rule"] == {"objectOwnership": "BucketOwnerEnforced"}
    lifecycle = prod.one("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")
    assert lifecycle.inputs["rules"] == [
        {
            "id": "expire-earlier-versions",
            "status": "Enabled",
            "filter": {},
            "noncurrentVersionExpiration": {"noncurrentDays": 30},
            "abortIncompleteMultipartUpload": {"daysAfterInitiation": 7},
            "expiration": {"expiredObjectDeleteMarker": True},
        }
    ]
    # Turning backups off in a protected stack leaves every guard rail on the retained bucket.
    for guard in (sse, versioning, block, ownership, lifecycle, prod.one(POLICY_TYPE)):
        assert guard.options["retainOnDelete"], guard.name


def test_the_bucket_policy_is_the_designed_one_with_velero_as_reader(prod):
    """Request by request in test_bucket_policy.py; here, what the stack renders."""
    bucket_arn = prod.one("aws:s3/bucket:Bucket").outputs["arn"]
    role_arn = prod.one("aws:iam/role:Role", "backups-velero-role").outputs["arn"]
    policy = prod.one(POLICY_TYPE)
    assert doc(policy) == design.bucket_policy(
        bucket_arn=bucket_arn, key_arn=key_arn(prod), readers=[role_arn]
    )
    # Written after the public access block: both at once race on a new bucket.
    assert prod.one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock").urn in (
        policy.dependencies
    )


def test_veleros_role_is_its_service_accounts_and_touches_only_its_bucket_and_the_key(prod):
    role = prod.one("aws:iam/role:Role", "backups-velero-role")
    assert role.inputs["name"] == "eks-prod-velero"
    condition = doc(role, "assumeRolePolicy")["Statement"][0]["Condition"]["StringEquals"]
    assert [v for k, v in condition.items() if k.endswith(":sub")] == [
        "system:serviceaccount:velero:velero-server"
    ]
    policy = doc(prod.one("aws:iam/rolePolicy:RolePolicy", "backups-velero-backups"))
    assert policy["Statement"] == [
        {
            "Sid": "BackupObjects",
            "Effect": "Allow",
            "Action": [
                "s3:GetObject",
                "s3:DeleteObject",
                "s3:PutObject",
                "s3:PutObjectTagging",
                "s3:AbortMultipartUpload",
                "s3:ListMultipartUploadParts",
            ],
            "Resource": f"arn:aws:s3:::{BUCKET}/*",
        },
        {
            "Sid": "BackupListing",
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": f"arn:aws:s3:::{BUCKET}",
        },
        {
            "Sid": "KeyThroughS3Only",
            "Effect": "Allow",
            "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
            "Resource": key_arn(prod),
            "Condition": {"StringEquals": {"kms:ViaService": ["s3.eu-west-1.amazonaws.com"]}},
        },
    ]


def test_velero_stores_in_the_bucket_with_the_key_and_snapshots_through_csi(prod):
    release = prod.one("kubernetes:helm.sh/v3:Release", "backups-release")
    assert (release.inputs["chart"], release.inputs["version"]) == ("velero", "12.1.0")
    values = release.inputs["values"]
    (location,) = values["configuration"]["backupStorageLocation"]
    assert location == {
        "name": "default",
        "provider": "aws",
        "bucket": BUCKET,
        "default": True,
        "config": {"region": "eu-west-1", "kmsKeyId": key_arn(prod)},
    }
    # CSI snapshots only happen with the feature on (velero@v1.18.1: ShouldSkipAction).
    assert values["configuration"]["features"] == "EnableCSI"
    assert values["snapshotsEnabled"] is False and values["deployNodeAgent"] is False
    # Prod alerts through kube-prometheus-stack: the chart's ServiceMonitor carries its label.
    assert values["metrics"] == {
        "enabled": True,
        "serviceMonitor": {
            "enabled": True,
            "additionalLabels": {"release": "kube-prometheus-stack"},
        },
    }
    assert values["credentials"] == {"useSecret": False}
    role_arn = prod.one("aws:iam/role:Role", "backups-velero-role").outputs["arn"]
    assert values["serviceAccount"]["server"]["annotations"] == {
        "eks.amazonaws.com/role-arn": role_arn
    }
    (plugin,) = values["initContainers"]
    assert plugin["image"] == stack_config("prod")[f"{NS}:backups"]["pluginImage"]
    assert "@sha256:" in plugin["image"]
    nodes = prod.one("aws:eks/nodeGroup:NodeGroup")
    assert prod.depends_on(release, nodes)
    bucket = prod.one("aws:s3/bucket:Bucket")
    assert not prod.depends_on(bucket, nodes), "the bucket never waits for the cluster"


def test_schedules_expire_their_backups_and_select_volumes_by_storage_class(prod):
    (schedule,) = prod.of_type("kubernetes:velero.io/v1:Schedule")
    spec = schedule.inputs["spec"]
    assert spec["schedule"] == "30 1 * * *"
    assert spec["template"]["ttl"] == "720h"
    # Every namespace but Kubernetes' own, Velero's, the sealing key's (escrowed on its own)
    # and the drills' scratch one: a PVC on a protected class is covered wherever it lives.
    assert spec["template"]["includedNamespaces"] == ["*"]
    assert spec["template"]["excludedNamespaces"] == [
        "kube-node-lease",
        "kube-public",
        "kube-system",
        "restore-drills",
        "velero",
    ]
    assert (spec["template"]["snapshotVolumes"], spec["template"]["snapshotMoveData"]) == (
        True,
        False,
    )
    policy_map = prod.one("kubernetes:core/v1:ConfigMap", "backups-nightly-volumes")
    assert spec["template"]["resourcePolicy"] == {
        "kind": "configmap",
        "name": policy_map.inputs["metadata"]["name"],
    }
    assert yaml.safe_load(policy_map.inputs["data"]["policies.yaml"]) == {
        "version": "v1",
        "volumePolicies": [
            {
                "conditions": {"storageClass": ["gp3-ssd-prod-rwo", "io2-ssd-db-prod-rwo"]},
                "action": {"type": "snapshot"},
            },
            {
                # Only EBS volumes opt in by label: an EFS one falls through to skip.
                "conditions": {
                    "pvcLabels": {design.SCHEDULE_LABEL: "nightly"},
                    "csi": {"driver": "ebs.csi.aws.com"},
                },
                "action": {"type": "snapshot"},
            },
            {
                "conditions": {"storageClass": ["efs-elastic-prod-rwx", "gp2"]},
                "action": {"type": "skip"},
            },
        ],
    }
    release = prod.one("kubernetes:helm.sh/v3:Release", "backups-release")
    assert prod.depends_on(schedule, release), "the Schedule CRD comes with the chart"


def test_dev_has_no_backups_and_unprotected_stacks_do_not_protect_the_bucket(plans, dev_values):
    assert not plans["dev"].of_type("aws:s3/bucket:Bucket")
    dev_values[f"{NS}:backups"] = {"enabled": True}
    bucket = run_config("dev", dev_values).one("aws:s3/bucket:Bucket")
    assert not bucket.protect and not bucket.options["retainOnDelete"]


@pytest.mark.parametrize(
    ("key", "value", "named", "says"),
    [
        ("backups.schedules.0.ttl", "9000h", "backups.schedules[0].ttl", "1h to 8760h"),
        ("backups.schedules.0.ttl", "30d", "backups.schedules[0].ttl", "pattern"),
        (
            "backups.pluginImage",
            "docker.io/velero/velero-plugin-for-aws:v1.14.2",
            "backups.pluginImage",
            "digest",
        ),
        (
            "storage.classes.0.protection.backupSchedule",
            "weekly",
            "storage.classes[0].protection.backupSchedule",
            "no backup schedule",
        ),
        (
            "storage.classes.2.protection.snapshotPolicies",
            ["daily"],
            "storage.classes[2].protection",
            "EFS volumes cannot be snapshotted",
        ),
        ("backups.enabled", False, "backups.schedules", "need backups.enabled"),
    ],
)
def test_backup_config_mistakes_are_refused_by_key(key, value, named, says):
    assert says in rejected("prod", broken(stack_config("prod"), key, value), named)


def test_a_production_class_without_protection_fails_the_plan(capsys, tmp_path):
    values = broken(stack_config("prod"), "storage.classes.0.protection", {})
    file = tmp_path / "prod.yaml"
    file.write_text(yaml.safe_dump({"config": values}))
    assert plan_cli.main(["prod", "--stack-file", str(file)]) == 1
    assert "mandatory rules violated: storage-class-protected" in capsys.readouterr().err
    values = broken(
        stack_config("prod"), "storage.classes.0.protection", {"reason": "scratch data only"}
    )
    assert (
        run_config("prod", values)
        .named("classes-gp3-ssd-prod-rwo")
        .inputs["metadata"]["annotations"]["protection.eks-config-storage.io/unprotected-reason"]
        == "scratch data only"
    )


def test_classes_show_what_protects_them(prod):
    annotations = {
        r.inputs["metadata"]["name"]: r.inputs["metadata"].get("annotations", {})
        for r in prod.of_type("kubernetes:storage.k8s.io/v1:StorageClass")
    }
    assert annotations["io2-ssd-db-prod-rwo"] == {
        "protection.eks-config-storage.io/snapshot-policies": "hourly,daily",
        "protection.eks-config-storage.io/backup-schedule": "nightly",
    }
    assert annotations["efs-elastic-prod-rwx"] == {
        "protection.eks-config-storage.io/aws-backup": "true"
    }
    # Annotation values are strings in Kubernetes.
    assert all(isinstance(v, str) for a in annotations.values() for v in a.values())


def test_the_plan_prints_what_protects_each_class(plans):
    rows = {
        line.split()[0]: line.split(maxsplit=1)[1] for line in protection_lines(plans["prod"])[1:]
    }
    assert rows["io2-ssd-db-prod-rwo"].split() == [
        "1h",
        "hourly",
        "24,",
        "daily",
        "14,",
        "nightly",
        "until",
        "720h",
        "30d",
        "Velero",
        "nightly",
        "drill-weekly",
    ]
    assert rows["gp3-ssd-prod-rwo"] == rows["io2-ssd-db-prod-rwo"]
    assert "AWS Backup" in rows["efs-elastic-prod-rwx"]
    # The drill column says what a drill proves: its policy's newest snapshot, of any class.
    assert protection_lines(plans["prod"])[-1] == (
        "  (a drill restores the newest ready snapshot of its policy, of whichever class)"
    )
    # EKS's gp2 is shown for what it is: kept, unprotected, and closed to app namespaces.
    assert rows["gp2"] == "none: EKS's class, not the default; app namespaces have zero quota on it"
    dev = [line for line in protection_lines(plans["dev"])[1:] if "gp2" not in line]
    assert len(dev) == 2
    assert all("none: no protection and no reason" in line for line in dev)


def chain_lengths(plan: Plan) -> dict[str, int]:
    """How many resources the engine creates one after another before each one can start."""
    lengths: dict[str, int] = {}

    def length(urn: str) -> int:
        if urn not in lengths:
            lengths[urn] = 1 + max(
                (length(d) for d in plan.by_urn[urn].dependencies if d in plan.by_urn), default=0
            )
        return lengths[urn]

    for resource in plan:
        length(resource.urn)
    return lengths


def test_backups_join_the_deploy_beside_the_apps_without_lengthening_it(prod):
    lengths = chain_lengths(prod)
    backups = {r.urn for r in prod if r.name.startswith("backups-")}
    apps = {r.urn for r in prod if r.name.startswith("app-")}
    assert backups and apps
    others = max(n for urn, n in lengths.items() if urn not in backups)
    # Velero waits for the nodes and its bucket, as the apps wait for theirs; nothing waits for it,
    # so the deploy's longest chain is the same with or without it.
    assert max(lengths[urn] for urn in backups) <= others
    assert not [r.name for r in prod if r.urn not in backups and set(r.dependencies) & backups]
    assert max(lengths[urn] for urn in backups) <= max(lengths[urn] for urn in apps)


def test_a_sealing_key_namespace_of_its_own_is_left_out_too():
    assert design.excluded_namespaces(
        velero="backups", sealing_key="sealed-secrets", scratch=[]
    ) == ["backups", "kube-node-lease", "kube-public", "kube-system", "sealed-secrets"]
