"""Restore drills (R7): an untested backup is no backup. Per drill a CronJob in a scratch
namespace restores the newest ready snapshot of a policy through a pre-bound Retain copy, checks
the volume with a read-only pod, records how long it took on the CronJob and deletes what it
made (jobs/restore_drill.sh, design.drills)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial

import pulumi
import pulumi_kubernetes as k8s

from components.access import bound_role, deny_unless
from components.jobs import cron_job, script_job
from components.namespaces import no_default_token
from config.schema import RestoreDrill
from design import drills as design
from design.labels import MANAGED_BY, restricted_namespace_labels

LABELS = {"app.kubernetes.io/name": design.APP_NAME, **MANAGED_BY}


@dataclass(frozen=True)
class RestoreDrillsArgs:
    drills: Sequence[RestoreDrill]
    image: str
    """The snapshot jobs' image (kubectl and a shell); the check pod runs it too."""
    provider: k8s.Provider


class RestoreDrills(pulumi.ComponentResource):
    namespace: pulumi.Output[str]
    scratch_namespace: str
    """The namespace's name, known before it exists: the reconciler leaves its PVs alone."""
    cron_jobs: list[k8s.batch.v1.CronJob]

    def __init__(
        self, name: str, args: RestoreDrillsArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("eks-config-storage:storage:RestoreDrills", name, None, opts)
        self.scratch_namespace = design.NAMESPACE
        child = pulumi.ResourceOptions(parent=self, provider=args.provider)
        namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata={
                "name": design.NAMESPACE,
                "labels": {**LABELS, **restricted_namespace_labels()},
            },
            opts=child,
        )
        ns = self.namespace = namespace.metadata.name
        # The check pod runs as the default account: no token, no access.
        no_default_token(f"{name}-default-sa", ns, child)
        account = k8s.core.v1.ServiceAccount(
            f"{name}-account",
            metadata={"name": design.SERVICE_ACCOUNT, "namespace": ns, "labels": LABELS},
            opts=child,
        )
        subject = (account.metadata.name, ns)
        role_binding = bound_role(
            f"{name}-role",
            f"{name}-role",
            name=design.APP_NAME,
            namespace=ns,
            rules=design.role_rules([d.name for d in args.drills]),
            account=subject,
            labels=LABELS,
            opts=child,
        )
        cluster_binding = bound_role(
            f"{name}-cluster-role",
            f"{name}-cluster-role",
            name=f"{design.NAMESPACE}-{design.APP_NAME}",
            namespace=None,
            rules=design.cluster_rules(),
            account=subject,
            labels=LABELS,
            opts=child,
        )
        policy_binding = deny_unless(
            f"{name}-scope", design.ADMISSION_POLICY, design.admission_policy(), LABELS, child
        )
        # No run before its access, and none before the policy that narrows that access.
        job = script_job(
            f"{name}-script",
            script=design.SCRIPT_KEY,
            config_map="restore-drill-script",
            namespace=ns,
            account=account.metadata.name,
            labels=LABELS,
            opts=child,
            after=[role_binding, cluster_binding, policy_binding],
        )
        self.cron_jobs = []
        for drill in args.drills:
            labels = {**LABELS, design.DRILL_LABEL: drill.name}
            spec = partial(
                design.cronjob_spec,
                drill=drill.name,
                policy=drill.policy,
                schedule=drill.schedule,
                timeout_seconds=drill.timeout_seconds,
                image=args.image,
                labels=labels,
            )
            self.cron_jobs.append(
                cron_job(
                    job,
                    f"{name}-{drill.name}",
                    name=design.cronjob_name(drill.name),
                    labels=labels,
                    spec=spec,
                )
            )
        self.register_outputs(
            {"namespace": ns, "drills": [design.cronjob_name(d.name) for d in args.drills]}
        )
