"""Sealing-key escrow (design in ``design.escrow``): the Sealed Secrets controller's key, pushed
to Secrets Manager with the stack's key under this cluster's current generation, checked hourly
against the key the controller serves, and pulled back on a rebuilt cluster."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial

import pulumi
import pulumi_kubernetes as k8s

from components.access import bound_role
from components.irsa import IrsaRole, IrsaRoleArgs
from components.jobs import cron_job, script_job
from components.platform import Platform
from design import escrow as design
from design import naming
from design.jobs import script_cronjob_spec
from design.labels import MANAGED_BY

# pulumi-kubernetes waits for this before what depends on the ExternalSecret goes ahead
# (pulumi/pulumi-kubernetes@v4.32.0:provider/pkg/metadata/overrides.go, ReadyCondition).
WAIT_FOR_SYNC = {"pulumi.com/waitFor": "condition=Ready"}
# The escrowed certificate exists only after the first push: nothing may wait for it
# (pulumi/pulumi-kubernetes@v4.32.0:provider/pkg/metadata/overrides.go, SkipAwait).
NO_WAIT = {"pulumi.com/skipAwait": "true"}


@dataclass(frozen=True)
class SealingKeyEscrowArgs:
    platform: Platform
    namespace: str
    restore: bool
    # The generation new keys are escrowed under, and those to pull back on a rebuilt cluster.
    generation: int
    restore_generations: Sequence[int]
    # The controller's Service (the chart's fullname) and the check's image.
    controller: str
    image: str
    # External Secrets' CRDs (its release).
    after: Sequence[pulumi.Resource]


class SealingKeyEscrow(pulumi.ComponentResource):
    """``restored`` is what the controller must wait for: the key back in place, or nothing."""

    restored: list[pulumi.Resource]

    def __init__(
        self, name: str, args: SealingKeyEscrowArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("eks-config-storage:secrets:SealingKeyEscrow", name, None, opts)
        role = IrsaRole(
            f"{name}-role",
            IrsaRoleArgs(
                role_name=naming.role_name(args.platform.cluster_name, "sealing-key-escrow"),
                oidc=args.platform.oidc,
                permissions_boundary=args.platform.aws.permissions_boundary,
                service_accounts=[(args.namespace, design.SERVICE_ACCOUNT)],
                inline_policies={
                    "escrow": pulumi.Output.from_input(args.platform.key_arn).apply(
                        lambda key_arn: design.escrow_policy(
                            aws=args.platform.aws,
                            environment=args.platform.environment,
                            cluster=args.platform.cluster_name,
                            key_arn=key_arn,
                        )
                    )
                },
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        child = pulumi.ResourceOptions(parent=self, provider=args.platform.provider)
        after_crds = pulumi.ResourceOptions.merge(
            child, pulumi.ResourceOptions(depends_on=list(args.after))
        )
        account = k8s.core.v1.ServiceAccount(
            f"{name}-sa",
            metadata={
                "name": design.SERVICE_ACCOUNT,
                "namespace": args.namespace,
                "labels": MANAGED_BY,
                "annotations": {"eks.amazonaws.com/role-arn": role.arn},
            },
            opts=child,
        )
        store = k8s.apiextensions.CustomResource(
            f"{name}-store",
            api_version=design.ESO_API,
            kind="ClusterSecretStore",
            metadata={"name": design.STORE, "labels": MANAGED_BY},
            spec=design.store_spec(region=args.platform.aws.region, namespace=args.namespace),
            opts=pulumi.ResourceOptions.merge(
                after_crds, pulumi.ResourceOptions(depends_on=[account])
            ),
        )
        after_store = pulumi.ResourceOptions.merge(
            after_crds, pulumi.ResourceOptions(depends_on=[store])
        )
        current = design.generation_key(
            args.platform.environment, args.platform.cluster_name, args.generation
        )
        k8s.apiextensions.CustomResource(
            f"{name}-push",
            api_version=design.PUSH_API,
            kind="PushSecret",
            metadata={
                "name": "sealing-key-escrow",
                "namespace": args.namespace,
                "labels": MANAGED_BY,
            },
            spec=pulumi.Output.from_input(args.platform.key_arn).apply(
                lambda key_arn: design.push_spec(remote=current, key_arn=key_arn)
            ),
            opts=after_store,
        )
        # The earlier per-environment entry, then each listed generation, back into the cluster
        # before the controller starts (it waits for them: WAIT_FOR_SYNC).
        restores = []
        if args.restore:
            earlier = design.remote_key(args.platform.environment)
            restores.append(
                (f"{name}-restore", design.RESTORED_SECRET, earlier, design.RESTORED_SECRET)
            )
        restores += [
            (
                f"{name}-restore-generation-{generation}",
                f"sealing-key-generation-{generation}",
                design.generation_key(
                    args.platform.environment, args.platform.cluster_name, generation
                ),
                f"sealed-secrets-key-generation-{generation}",
            )
            for generation in args.restore_generations
        ]
        self.restored = [
            k8s.apiextensions.CustomResource(
                resource,
                api_version=design.ESO_API,
                kind="ExternalSecret",
                metadata={
                    "name": secret,
                    "namespace": args.namespace,
                    "labels": MANAGED_BY,
                    "annotations": WAIT_FOR_SYNC,
                },
                spec=design.restore_spec(remote=remote, target=target),
                opts=after_store,
            )
            for resource, secret, remote, target in restores
        ]
        self.check = self._escrow_check(name, args, (child, after_store), current)
        self.register_outputs({"roleArn": role.arn, "remoteKey": current})

    def _escrow_check(
        self,
        name: str,
        args: SealingKeyEscrowArgs,
        opts: tuple[pulumi.ResourceOptions, pulumi.ResourceOptions],
        current: str,
    ) -> k8s.batch.v1.CronJob:
        """The escrowed certificate, and the hourly Job that compares it with the controller's
        (jobs/escrow_check.sh)."""
        child, after_store = opts
        labels = {"app.kubernetes.io/name": design.CHECK, **MANAGED_BY}
        cert = k8s.apiextensions.CustomResource(
            f"{name}-escrowed-cert",
            api_version=design.ESO_API,
            kind="ExternalSecret",
            metadata={
                "name": design.ESCROWED_CERT,
                "namespace": args.namespace,
                "labels": labels,
                "annotations": NO_WAIT,
            },
            spec=design.escrowed_cert_spec(remote=current),
            opts=after_store,
        )
        account = k8s.core.v1.ServiceAccount(
            f"{name}-check",
            metadata={"name": design.CHECK, "namespace": args.namespace, "labels": labels},
            opts=child,
        )
        binding = bound_role(
            f"{name}-check",
            f"{name}-check",
            name=design.CHECK,
            namespace=args.namespace,
            rules=design.check_rules(),
            account=(account.metadata.name, args.namespace),
            labels=labels,
            opts=child,
        )
        # The first run reads the escrowed certificate.
        job = script_job(
            f"{name}-check-script",
            script=design.CHECK_SCRIPT_KEY,
            config_map=f"{design.CHECK}-script",
            namespace=args.namespace,
            account=account.metadata.name,
            labels=labels,
            opts=child,
            after=[binding, cert],
        )
        return cron_job(
            job,
            f"{name}-check",
            name=design.CHECK,
            labels=labels,
            spec=partial(
                script_cronjob_spec,
                schedule=design.CHECK_SCHEDULE,
                container="escrow-check",
                image=args.image,
                script_key=design.CHECK_SCRIPT_KEY,
                env=design.check_env(
                    namespace=args.namespace,
                    controller=args.controller,
                    remote=current,
                    generation=args.generation,
                ),
                labels=labels,
                active_deadline_seconds=600,
                backoff_limit=1,
            ),
        )
