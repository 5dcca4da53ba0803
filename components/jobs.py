"""Every job's script ConfigMap and CronJobs, made one way for the snapshot rotator, the storage
policy reconciler, the restore drills and the escrow check.

Plain functions, not a component: they create children of the calling component, which keeps
every URN as it was (a new parent type would change the URN of each CronJob and ConfigMap).
The ServiceAccount and its access stay with each caller, since each grants different rights."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

import jobs


@dataclass(frozen=True)
class ScriptJob:
    """What a component's CronJobs share: their namespace, the ServiceAccount they run as, the
    ConfigMap of their script, and their options (parent, provider, what each waits for)."""

    namespace: pulumi.Input[str]
    account: pulumi.Input[str]
    config_map: k8s.core.v1.ConfigMap
    opts: pulumi.ResourceOptions


def script_job(
    logical: str,
    *,
    script: str,
    config_map: str,
    namespace: pulumi.Input[str],
    account: pulumi.Input[str],
    labels: Mapping[str, str],
    opts: pulumi.ResourceOptions,
    after: Sequence[pulumi.Resource],
) -> ScriptJob:
    """The ConfigMap ``config_map`` holding the built ``script`` (a job of jobs/) under its file
    name, which the CronJob spec mounts and runs. Each CronJob waits for ``after``: its access,
    the admission policy that narrows it, and whatever its first run reads."""
    payload = k8s.core.v1.ConfigMap(
        logical,
        metadata={"name": config_map, "namespace": namespace, "labels": labels},
        data={script: jobs.script(script)},
        opts=opts,
    )
    return ScriptJob(
        namespace=namespace,
        account=account,
        config_map=payload,
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=list(after))),
    )


def cron_job(
    job: ScriptJob,
    logical: str,
    *,
    name: str,
    labels: Mapping[str, str],
    spec: Callable[..., dict],
    inputs: Mapping[str, pulumi.Input] | None = None,
) -> k8s.batch.v1.CronJob:
    """The CronJob ``name`` of ``job``. ``spec`` (a design builder with its settings bound) is
    called with ``service_account`` and ``script_config_map`` once both names are known, and with
    each of ``inputs`` by its key once it is."""
    inputs = dict(inputs or {})
    keys = list(inputs)
    refs = pulumi.Output.all(job.account, job.config_map.metadata.name, *inputs.values())
    return k8s.batch.v1.CronJob(
        logical,
        metadata={"name": name, "namespace": job.namespace, "labels": labels},
        spec=refs.apply(
            lambda r: spec(
                service_account=r[0], script_config_map=r[1], **dict(zip(keys, r[2:], strict=True))
            )
        ),
        opts=job.opts,
    )
