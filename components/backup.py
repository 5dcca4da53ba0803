"""Backups off the cluster: Velero, its bucket encrypted with the stack's key, its own role, and
schedules whose generations expire by themselves (design in ``design.backup``).

The bucket and role do not wait for the cluster's nodes; the chart does, like every other
release, so backups join the deploy beside the apps without lengthening its critical path.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from components.helm import pinned_release
from components.irsa import IrsaRole, IrsaRoleArgs
from components.namespaces import no_default_token
from components.platform import Platform
from components.private_bucket import private_bucket
from config.schema import Backups
from design import backup as design
from design import naming
from design.identity import names_role_on_service_account
from design.labels import MANAGED_BY, POD_SECURITY_REASON

VELERO_API = "velero.io/v1"
# The Velero image runs as a named user (USER cnb:cnb on a paketo run image,
# velero-io/velero@v1.18.1:Dockerfile), which Pod Security "restricted" cannot verify as
# non-root without a numeric runAsUser the chart does not set.
BASELINE_REASON = (
    "Velero's image runs as the named non-root user cnb, which restricted cannot verify"
)


@dataclass(frozen=True)
class OffClusterBackupsArgs:
    platform: Platform
    settings: Backups
    # Namespaces the schedules leave out (design.excluded_namespaces); all others are backed up.
    excluded_namespaces: Sequence[str]
    nodes: Sequence[pulumi.Resource]
    # With the Prometheus Operator: the labels its serviceMonitorSelector matches; None without.
    service_monitor_labels: Mapping[str, str] | None = None


class OffClusterBackups(pulumi.ComponentResource):
    bucket: aws.s3.Bucket
    role_arn: pulumi.Output[str]

    def __init__(
        self, name: str, args: OffClusterBackupsArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("eks-config-storage:backup:OffClusterBackups", name, None, opts)
        settings = args.settings
        bucket_name = design.bucket_name(args.platform.cluster_name, args.platform.aws.account_id)

        role = IrsaRole(
            f"{name}-velero",
            IrsaRoleArgs(
                role_name=naming.role_name(args.platform.cluster_name, "velero"),
                oidc=args.platform.oidc,
                permissions_boundary=args.platform.aws.permissions_boundary,
                service_accounts=[(settings.namespace, design.SERVICE_ACCOUNT)],
                mode=args.platform.identity,
                cluster_arn=args.platform.cluster_arn,
                cluster_name=args.platform.cluster,
                inline_policies={
                    "backups": pulumi.Output.from_input(args.platform.key_arn).apply(
                        lambda key_arn: design.velero_policy(
                            bucket=bucket_name, key_arn=key_arn, aws=args.platform.aws
                        )
                    )
                },
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.role_arn = role.arn
        self.bucket = self._bucket(name, bucket_name, args, role.arn)

        k8s_child = pulumi.ResourceOptions(parent=self, provider=args.platform.provider)
        namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata={
                "name": settings.namespace,
                "labels": {
                    **MANAGED_BY,
                    "pod-security.kubernetes.io/enforce": "baseline",
                    "pod-security.kubernetes.io/audit": "restricted",
                    "pod-security.kubernetes.io/warn": "restricted",
                },
                "annotations": {POD_SECURITY_REASON: BASELINE_REASON},
            },
            opts=k8s_child,
        )
        ns = namespace.metadata.name
        no_default_token(f"{name}-default-sa", ns, k8s_child)
        values = pulumi.Output.all(args.platform.key_arn, role.arn, self.bucket.bucket).apply(
            lambda v: design.velero_values(
                bucket=v[2],
                key_arn=v[0],
                region=args.platform.aws.region,
                role_arn=v[1] if names_role_on_service_account(args.platform.identity) else None,
                plugin_image=settings.plugin_image,
                service_monitor_labels=args.service_monitor_labels,
            )
        )
        release = pinned_release(
            f"{name}-release",
            chart="velero",
            pin=settings,
            namespace=ns,
            values=values,
            opts=pulumi.ResourceOptions.merge(
                k8s_child, pulumi.ResourceOptions(depends_on=list(args.nodes))
            ),
        )

        self.schedules = []
        for schedule in settings.schedules:
            snapshot = list(args.platform.catalog.by_backup_schedule.get(schedule.name, ()))
            policy = k8s.core.v1.ConfigMap(
                f"{name}-{schedule.name}-volumes",
                metadata={
                    "name": f"{schedule.name}-volume-policy",
                    "namespace": ns,
                    "labels": MANAGED_BY,
                },
                data={
                    design.POLICY_KEY: design.volume_policies(
                        snapshot=snapshot,
                        skip=[c for c in args.platform.catalog.known if c not in snapshot],
                        schedule=schedule.name,
                    )
                },
                opts=k8s_child,
            )
            self.schedules.append(
                k8s.apiextensions.CustomResource(
                    f"{name}-{schedule.name}",
                    api_version=VELERO_API,
                    kind="Schedule",
                    metadata={
                        "name": schedule.name,
                        "namespace": ns,
                        "labels": {**MANAGED_BY, design.SCHEDULE_LABEL: schedule.name},
                    },
                    spec=policy.metadata.name.apply(
                        lambda policy_name, schedule=schedule: design.schedule_spec(
                            schedule=schedule.schedule,
                            ttl=schedule.ttl,
                            excluded=args.excluded_namespaces,
                            resource_policy=policy_name,
                        )
                    ),
                    # The CRDs come with the chart.
                    opts=pulumi.ResourceOptions.merge(
                        k8s_child, pulumi.ResourceOptions(depends_on=[release])
                    ),
                )
            )
        self.register_outputs({"bucket": self.bucket.bucket, "roleArn": self.role_arn})

    def _bucket(
        self,
        name: str,
        bucket_name: str,
        args: OffClusterBackupsArgs,
        velero_role_arn: pulumi.Output[str],
    ) -> aws.s3.Bucket:
        """Versioned, SSE-KMS with the stack's key and a bucket key, never public, TLS only,
        read only by Velero and the break-glass principals, and earlier versions expire;
        protected and retained in protected stacks.

        In protected stacks every guard rail is retained too: the engine deletes dependents
        first and continues past a refused protected delete (pulumi CHANGELOG, "Deployments
        continue past delete errors due to protect"), so turning backups off would otherwise
        strip the retained bucket of its policy, public access block, default encryption and
        lifecycle before stopping at the bucket."""
        child = pulumi.ResourceOptions(parent=self, retain_on_delete=args.platform.protect)
        made = private_bucket(
            name,
            bucket_name,
            args.platform.key_arn,
            kept=pulumi.ResourceOptions(
                parent=self, protect=args.platform.protect, retain_on_delete=args.platform.protect
            ),
            child=child,
            tags={"Name": bucket_name},
        )
        bucket, public_access = made.bucket, made.public_access
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-lifecycle",
            bucket=bucket.id,
            rules=[
                {
                    "id": "expire-earlier-versions",
                    "status": "Enabled",
                    "filter": {},
                    "noncurrent_version_expiration": {
                        "noncurrent_days": args.settings.noncurrent_version_days
                    },
                    "abort_incomplete_multipart_upload": {"days_after_initiation": 7},
                    # Velero deletes expired backups' objects; without this their delete
                    # markers pile up for ever in the versioned bucket.
                    "expiration": {"expired_object_delete_marker": True},
                }
            ],
            opts=child,
        )
        aws.s3.BucketPolicy(
            f"{name}-policy",
            bucket=bucket.id,
            policy=pulumi.Output.all(bucket.arn, args.platform.key_arn, velero_role_arn).apply(
                lambda v: json.dumps(
                    design.bucket_policy(
                        bucket_arn=v[0],
                        key_arn=v[1],
                        readers=[v[2], *args.settings.break_glass_readers],
                    )
                )
            ),
            # PutBucketPolicy and PutPublicAccessBlock at once on a new bucket race
            # (OperationAborted, hashicorp/terraform-provider-aws#7628).
            opts=pulumi.ResourceOptions.merge(
                child, pulumi.ResourceOptions(depends_on=[public_access])
            ),
        )
        return bucket
