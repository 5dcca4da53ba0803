"""Backups off the cluster with Velero, as plain data: the bucket's and the role's policies, the
chart values, the schedules and the volume policies that select volumes by storage class.

Volumes are backed up as CSI snapshots (Velero's built-in CSI support, no data mover): the EBS
CSI driver takes them with the stack's key, they live in the account and region, not the
cluster, and a restore provisions through the class, so with ``WaitForFirstConsumer`` the new
volume lands in whatever zone the pod is scheduled in, a lost zone included. The objects and the
snapshot references go to the bucket. So the Velero role needs the bucket and the key through S3,
and no EC2 rights: the AWS plugin only serves the object store here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import yaml

from design.aws import AwsContext
from design.iam import document

PLUGIN_MOUNT = "/target"  # where the chart's plugins volume is mounted in init containers
SCHEDULE_LABEL = "backups.eks-config-storage.io/schedule"
POLICY_KEY = "policies.yaml"
# internal/resourcepolicies/volume_resources_validator.go: currentSupportDataVersion
POLICY_VERSION = "v1"
SERVICE_ACCOUNT = "velero-server"
EBS_DRIVER = "ebs.csi.aws.com"


def bucket_name(cluster: str, account_id: str) -> str:
    """Deterministic, so a team rebuilding a lost cluster knows where its backups are."""
    return f"{cluster}-velero-{account_id}"


SSE_HEADER = "s3:x-amz-server-side-encryption"
SSE_KEY_HEADER = "s3:x-amz-server-side-encryption-aws-kms-key-id"
READ_ACTIONS = ("s3:GetObject", "s3:GetObjectVersion")


def bucket_policy(*, bucket_arn: str, key_arn: str, readers: Sequence[str]) -> dict:
    """TLS only; nothing written under another key than the stack's; objects read only by
    ``readers`` (Velero's role and the named break-glass principals).

    The key rules match only requests that carry the encryption headers. S3 takes them on
    PutObject, CopyObject, POST and CreateMultipartUpload; UploadPart and
    CompleteMultipartUpload are authorised as ``s3:PutObject`` but carry none (S3 API Reference,
    https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateMultipartUpload.html and
    API_UploadPart.html: on UploadPart only the SSE-C headers). A negated operator is true when
    its key is absent, and ``...IfExists`` makes an absent key true too ("If the key that you
    specify in a policy condition is not present in the request context ... and the policy
    condition requires that the key is not matched, such as StringNotLike ... the condition is
    true", IAM User Guide, reference_policies_elements_condition_operators.html): so each rule
    pairs ``StringNotEquals`` with ``Null: false`` on the same key, and the conditions of a
    statement must all hold. A request without headers gets the bucket's default, the stack key
    (BucketServerSideEncryptionConfiguration); one naming ``aws:kms`` without a key would get
    the AWS managed key aws/s3 ("If you specify x-amz-server-side-encryption:aws:kms, but don't
    provide x-amz-server-side-encryption-aws-kms-key-id, Amazon S3 uses the Amazon Web Services
    managed key", API_CreateMultipartUpload.html), so that is refused too.

    Reads: a backup holds every Secret of the namespaces it covers, so the key policy's
    delegation to IAM must not make any principal with s3:GetObject and kms:Decrypt a reader.
    ``aws:PrincipalArn`` is the role's ARN for a role session (IAM User Guide,
    reference_policies_condition-keys.html#condition-keys-principalarn)."""
    objects = f"{bucket_arn}/*"
    return document(
        [
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [bucket_arn, objects],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            },
            {
                "Sid": "DenyOtherKeys",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:PutObject",
                "Resource": objects,
                "Condition": {
                    "StringNotEquals": {SSE_KEY_HEADER: key_arn},
                    "Null": {SSE_KEY_HEADER: "false"},
                },
            },
            {
                "Sid": "DenyOtherEncryption",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:PutObject",
                "Resource": objects,
                "Condition": {
                    "StringNotEquals": {SSE_HEADER: "aws:kms"},
                    "Null": {SSE_HEADER: "false"},
                },
            },
            {
                "Sid": "DenyTheAwsManagedKey",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:PutObject",
                "Resource": objects,
                "Condition": {
                    "StringEquals": {SSE_HEADER: "aws:kms"},
                    "Null": {SSE_KEY_HEADER: "true"},
                },
            },
            {
                "Sid": "DenyOtherReaders",
                "Effect": "Deny",
                "Principal": "*",
                "Action": list(READ_ACTIONS),
                "Resource": objects,
                "Condition": {"ArnNotEquals": {"aws:PrincipalArn": sorted(set(readers))}},
            },
        ]
    )


def velero_policy(*, bucket: str, key_arn: str, aws: AwsContext) -> dict:
    """The bucket's objects and listing (velero-io/velero-plugin-for-aws@v1.14.2:README.md,
    minus the EC2 snapshot actions CSI snapshots make unnecessary), and the key only as S3 uses
    it for SSE-KMS objects."""
    bucket_arn = f"arn:{aws.partition}:s3:::{bucket}"
    return document(
        [
            {
                "Sid": "BackupObjects",
                "Effect": "Allow",
                "Action": [
                    "s3:GetObject",
                    "s3:DeleteObject",
                    "s3:PutObject",
                    # The plugin sends the BSL's tagging with every upload
                    # (velero-plugin-for-aws@release-1.14:velero-plugin-for-aws/object_store.go).
                    "s3:PutObjectTagging",
                    "s3:AbortMultipartUpload",
                    "s3:ListMultipartUploadParts",
                ],
                "Resource": f"{bucket_arn}/*",
            },
            {
                "Sid": "BackupListing",
                "Effect": "Allow",
                "Action": "s3:ListBucket",
                "Resource": bucket_arn,
            },
            {
                "Sid": "KeyThroughS3Only",
                "Effect": "Allow",
                "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
                "Resource": key_arn,
                "Condition": {"StringEquals": {"kms:ViaService": aws.via_service("s3")}},
            },
        ]
    )


def velero_values(
    *,
    bucket: str,
    key_arn: str,
    region: str,
    role_arn: str | None,
    plugin_image: str,
    service_monitor_labels: Mapping[str, str] | None = None,
) -> dict:
    """Chart values (vmware-tanzu/helm-charts@velero-12.1.0:charts/velero/values.yaml). With
    ``service_monitor_labels`` (clusters that run the Prometheus Operator), a ServiceMonitor
    with those labels, so the operator scrapes the metrics the backup alerts read."""
    metrics: dict = {"enabled": True}
    if service_monitor_labels is not None:
        # templates/servicemonitor.yaml renders only with serviceMonitor.enabled (and the
        # monitoring.coreos.com/v1 API present, as autodetect checks).
        metrics["serviceMonitor"] = {
            "enabled": True,
            "additionalLabels": dict(service_monitor_labels),
        }
    return {
        "initContainers": [
            {
                "name": "velero-plugin-for-aws",
                "image": plugin_image,
                "imagePullPolicy": "IfNotPresent",
                "volumeMounts": [{"mountPath": PLUGIN_MOUNT, "name": "plugins"}],
            }
        ],
        "configuration": {
            # Without it Velero skips every CSI action and records each PV as skipped, and the
            # backup still ends Completed (velero-io/velero@v1.18.1: pkg/util/csi/util.go
            # ShouldSkipAction, pkg/backup/item_backupper.go). It picks the driver's default
            # VolumeSnapshotClass, the one this program annotates as such
            # (pkg/util/csi/volume_snapshot.go GetVolumeSnapshotClassForStorageClass).
            "features": "EnableCSI",
            "backupStorageLocation": [
                {
                    "name": "default",
                    "provider": "aws",
                    "bucket": bucket,
                    "default": True,
                    # velero-io/velero-plugin-for-aws@v1.14.2:backupstoragelocation.md: with
                    # kmsKeyId, serverSideEncryption is aws:kms.
                    "config": {"region": region, "kmsKeyId": key_arn},
                }
            ],
        },
        # CSI snapshots need no VolumeSnapshotLocation (that is for the plugin's EBS snapshots).
        "snapshotsEnabled": False,
        "deployNodeAgent": False,
        "credentials": {"useSecret": False},
        "serviceAccount": {
            "server": {
                "create": True,
                "name": SERVICE_ACCOUNT,
                # None with Pod Identity: its association names the role (design.identity).
                "annotations": {"eks.amazonaws.com/role-arn": role_arn} if role_arn else {},
            }
        },
        "metrics": metrics,
    }


def volume_policies(*, snapshot: Sequence[str], skip: Sequence[str], schedule: str) -> str:
    """Velero resource policies (velero-io/velero@v1.18.1:internal/resourcepolicies): snapshot
    the volumes of the classes this schedule protects and of PVCs that opt in by label, skip the
    volumes of every other class the platform knows. The first matching policy wins."""
    policies = []
    if snapshot:
        policies.append(
            {"conditions": {"storageClass": sorted(snapshot)}, "action": {"type": "snapshot"}}
        )
    # Only EBS volumes opt in by label: Velero takes the first match, and a snapshot of an EFS
    # (or any non-snapshottable) volume fails for want of a VolumeSnapshotClass, which ends
    # every backup PartiallyFailed (velero-io/velero@v1.18.1:
    # pkg/util/csi/volume_snapshot.go:451-457). The csi condition matches the PV's driver
    # (internal/resourcepolicies/volume_resources.go:205-235); other labelled volumes fall
    # through to the skip rule.
    policies.append(
        {
            "conditions": {
                "pvcLabels": {SCHEDULE_LABEL: schedule},
                "csi": {"driver": EBS_DRIVER},
            },
            "action": {"type": "snapshot"},
        }
    )
    if skip:
        policies.append({"conditions": {"storageClass": sorted(skip)}, "action": {"type": "skip"}})
    return yaml.safe_dump({"version": POLICY_VERSION, "volumePolicies": policies}, sort_keys=False)


# Kubernetes' own namespaces hold no workload data, and EKS recreates what is in them.
KUBERNETES_NAMESPACES = ("kube-system", "kube-public", "kube-node-lease")


def excluded_namespaces(*, velero: str, sealing_key: str, scratch: Sequence[str]) -> list[str]:
    """What a schedule leaves out: Kubernetes' own namespaces, Velero's, the sealing key's (it
    has its own escrow, with its own narrow access) and the drills' scratch namespace. Every
    other namespace is in, so a PVC on a protected class is covered wherever it is."""
    return sorted({*KUBERNETES_NAMESPACES, velero, sealing_key, *scratch})


def schedule_spec(
    *, schedule: str, ttl: str, excluded: Sequence[str], resource_policy: str
) -> dict:
    """A Velero Schedule: every namespace but the ``excluded``, CSI snapshots by the volume
    policies, no data mover, and a TTL after which Velero deletes the backup and its
    snapshots."""
    return {
        "schedule": schedule,
        "useOwnerReferencesInBackup": False,
        "template": {
            "includedNamespaces": ["*"],
            "excludedNamespaces": list(excluded),
            "snapshotVolumes": True,
            "snapshotMoveData": False,
            "defaultVolumesToFsBackup": False,
            "storageLocation": "default",
            "ttl": ttl,
            "resourcePolicy": {"kind": "configmap", "name": resource_policy},
        },
    }
