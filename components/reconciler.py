"""Existing volumes follow policy (R7): an hourly CronJob in the snapshot namespace that sets
each PV's reclaimPolicy to its class's and each content of the stack's snapshot classes to the
stack's deletionPolicy (design.reconciler). Changing a class, or promoting a stack to
production, reaches only new PVs and contents otherwise."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import partial

import pulumi
import pulumi_kubernetes as k8s

from components.access import bound_role
from components.jobs import cron_job, script_job
from design import reconciler as design
from design.labels import MANAGED_BY

LABELS = {"app.kubernetes.io/name": design.APP_NAME, **MANAGED_BY}


@dataclass(frozen=True)
class StoragePolicyReconcilerArgs:
    namespace: pulumi.Input[str]
    """Where the job runs: the snapshot namespace (restricted Pod Security, no default token)."""
    image: str
    reclaim_policies: Mapping[str, str]
    """Every class of the catalog, retired ones included, with the reclaimPolicy it has."""
    snapshot_classes: Sequence[str]
    """Every VolumeSnapshotClass name the stack can have made contents with."""
    snapshot_deletion_policy: str
    exempt_namespaces: Sequence[str]
    """Namespaces whose claims' PVs are deleted on purpose (restore drills)."""
    provider: k8s.Provider


class StoragePolicyReconciler(pulumi.ComponentResource):
    cron_job: k8s.batch.v1.CronJob

    def __init__(
        self,
        name: str,
        args: StoragePolicyReconcilerArgs,
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("eks-config-storage:storage:StoragePolicyReconciler", name, None, opts)
        child = pulumi.ResourceOptions(parent=self, provider=args.provider)
        account = k8s.core.v1.ServiceAccount(
            f"{name}-account",
            metadata={"name": design.APP_NAME, "namespace": args.namespace, "labels": LABELS},
            opts=child,
        )
        binding = bound_role(
            f"{name}-role",
            f"{name}-binding",
            name=design.APP_NAME,
            namespace=None,
            rules=design.reconciler_rules(),
            account=(account.metadata.name, account.metadata.namespace),
            labels=LABELS,
            opts=child,
        )
        # Without its binding the first run would fail on permissions.
        job = script_job(
            f"{name}-script",
            script=design.SCRIPT_KEY,
            config_map="storage-policy-reconcile-script",
            namespace=args.namespace,
            account=account.metadata.name,
            labels=LABELS,
            opts=child,
            after=[binding],
        )
        self.cron_job = cron_job(
            job,
            f"{name}-cronjob",
            name=design.CRONJOB_NAME,
            labels=LABELS,
            spec=partial(
                design.cronjob_spec,
                reclaim_policies=args.reclaim_policies,
                snapshot_classes=args.snapshot_classes,
                snapshot_deletion_policy=args.snapshot_deletion_policy,
                exempt_namespaces=args.exempt_namespaces,
                image=args.image,
                labels=LABELS,
            ),
        )
        self.register_outputs({"cronJob": self.cron_job.metadata.name})
