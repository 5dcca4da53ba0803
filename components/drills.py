"""Restore drills (R7): an untested backup is no backup. Per drill a CronJob in a scratch
namespace restores the newest ready snapshot of a policy through a pre-bound Retain copy, checks
the volume with a read-only pod, records how long it took on the CronJob and deletes what it
made (components/scripts/restore_drill.sh, design.drills)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_kubernetes as k8s

from components.access import bound_role, deny_unless
from components.namespaces import no_default_token
from config.schema import RestoreDrill
from design import drills as design
from design.labels import MANAGED_BY, restricted_namespace_labels

SCRIPT = Path(__file__).parent / "scripts" / design.SCRIPT_KEY
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
        script = k8s.core.v1.ConfigMap(
            f"{name}-script",
            metadata={"name": "restore-drill-script", "namespace": ns, "labels": LABELS},
            data={design.SCRIPT_KEY: SCRIPT.read_text()},
            opts=child,
        )

        # No run before its access, and none before the policy that narrows that access.
        after = pulumi.ResourceOptions(depends_on=[role_binding, cluster_binding, policy_binding])
        self.cron_jobs = []
        for drill in args.drills:
            labels = {**LABELS, design.DRILL_LABEL: drill.name}
            spec = pulumi.Output.all(account.metadata.name, script.metadata.name).apply(
                lambda refs, drill=drill, labels=labels: design.cronjob_spec(
                    drill=drill.name,
                    policy=drill.policy,
                    schedule=drill.schedule,
                    timeout_seconds=drill.timeout_seconds,
                    image=args.image,
                    service_account=refs[0],
                    script_config_map=refs[1],
                    labels=labels,
                )
            )
            self.cron_jobs.append(
                k8s.batch.v1.CronJob(
                    f"{name}-{drill.name}",
                    metadata={
                        "name": design.cronjob_name(drill.name),
                        "namespace": ns,
                        "labels": labels,
                    },
                    spec=spec,
                    opts=pulumi.ResourceOptions.merge(child, after),
                )
            )
        self.register_outputs(
            {"namespace": ns, "drills": [design.cronjob_name(d.name) for d in args.drills]}
        )
