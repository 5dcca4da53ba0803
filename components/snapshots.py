"""Snapshots as code (R7): one CronJob per policy that snapshots every PVC labelled
``snapshots.eks-config-storage.io/policy=<policy>`` or on a class whose protection names the
policy, and prunes each PVC's snapshots beyond the policy's ``keep``, so generations never pile
up (F4) and a failed run fails the Job visibly. The namespace exists in every stack: the storage
policy reconciler runs there too, with or without policies."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial

import pulumi
import pulumi_kubernetes as k8s

from components.access import bound_role, deny_unless
from components.jobs import cron_job, script_job
from components.namespaces import no_default_token
from config.schedules import longest_gap
from config.schema import SnapshotPolicy
from design import snapshots as design
from design.labels import MANAGED_BY, restricted_namespace_labels, snapshot_cronjob_name

LABELS = {"app.kubernetes.io/name": "snapshot-rotator", **MANAGED_BY}


@dataclass(frozen=True)
class SnapshotSchedulesArgs:
    namespace: str
    image: str
    policies: Sequence[SnapshotPolicy]
    snapshot_class_name: pulumi.Input[str]
    provider: k8s.Provider
    covered: Mapping[str, Sequence[str]] = field(default_factory=dict)
    """The classes each policy covers by construction (``Catalog.by_snapshot_policy``), retired
    classes included: PVCs of a class whose ``protection.snapshotPolicies`` names a policy are
    that policy's by construction."""
    snapshot_class_names: Sequence[str] = ()
    """Every VolumeSnapshotClass the stack can have made contents with: the only contents the
    rotator may release."""


class SnapshotSchedules(pulumi.ComponentResource):
    namespace: pulumi.Output[str]
    cron_jobs: list[k8s.batch.v1.CronJob]

    def __init__(
        self, name: str, args: SnapshotSchedulesArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("eks-config-storage:storage:SnapshotSchedules", name, None, opts)
        child = pulumi.ResourceOptions(parent=self, provider=args.provider)
        namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata={
                "name": args.namespace,
                "labels": {**LABELS, **restricted_namespace_labels()},
            },
            opts=child,
        )
        self.namespace = namespace.metadata.name
        no_default_token(f"{name}-default-sa", self.namespace, child)
        self.cron_jobs = self._rotator(name, args, child) if args.policies else []
        self.register_outputs(
            {"namespace": self.namespace, "policies": [p.name for p in args.policies]}
        )

    def _rotator(
        self, name: str, args: SnapshotSchedulesArgs, child: pulumi.ResourceOptions
    ) -> list[k8s.batch.v1.CronJob]:
        ns = self.namespace
        account = k8s.core.v1.ServiceAccount(
            f"{name}-rotator",
            metadata={"name": design.ROTATOR_ACCOUNT, "namespace": ns, "labels": LABELS},
            opts=child,
        )
        binding = bound_role(
            f"{name}-rotator",
            f"{name}-rotator",
            name=f"{args.namespace}-snapshot-rotator",
            namespace=None,
            rules=design.rotator_rules(),
            account=(account.metadata.name, ns),
            labels=LABELS,
            opts=child,
        )
        scope_binding = deny_unless(
            f"{name}-rotator-scope",
            design.ADMISSION_POLICY,
            design.rotator_admission_policy(
                namespace=args.namespace, snapshot_classes=args.snapshot_class_names
            ),
            LABELS,
            child,
        )
        # No run before its access, and none before the policy that narrows it.
        job = script_job(
            f"{name}-script",
            script=design.SCRIPT_KEY,
            config_map="snapshot-rotate-script",
            namespace=ns,
            account=account.metadata.name,
            labels=LABELS,
            opts=child,
            after=[binding, scope_binding],
        )
        covered = args.covered
        known = [p.name for p in args.policies]
        cron_jobs = []
        for policy in args.policies:
            labels = {**LABELS, design.POLICY_LABEL: policy.name}
            spec = partial(
                design.cronjob_spec,
                policy=policy.name,
                known_policies=known,
                schedule=policy.schedule,
                keep=policy.keep,
                max_age_seconds=policy.max_age_seconds,
                orphan_max_age_seconds=design.orphan_max_age_seconds(
                    keep=policy.keep,
                    longest_gap_seconds=int(longest_gap(policy.schedule).total_seconds()),
                    max_age_seconds=policy.max_age_seconds,
                ),
                ready_timeout_seconds=policy.ready_timeout_seconds,
                image=args.image,
                labels=labels,
                classes=covered.get(policy.name, []),
            )
            cron_jobs.append(
                cron_job(
                    job,
                    f"{name}-{policy.name}",
                    name=snapshot_cronjob_name(policy.name),
                    labels=labels,
                    spec=spec,
                    inputs={"snapshot_class": args.snapshot_class_name},
                )
            )
        return cron_jobs
