"""Sealed Secrets (R3, Git layer): a Secret can live in Git only encrypted to this cluster's
controller key; ``kubeseal`` seals, the controller unseals in the cluster."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from config.schema import SealedSecrets

CONTROLLER_NAME = "sealed-secrets-controller"  # kubeseal's default --controller-name


@dataclass(frozen=True)
class SealedSecretsControllerArgs:
    chart: SealedSecrets
    provider: k8s.Provider
    nodes: Sequence[pulumi.Resource]


class SealedSecretsController(pulumi.ComponentResource):
    def __init__(
        self,
        name: str,
        args: SealedSecretsControllerArgs,
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("eks-config-storage:secrets:SealedSecretsController", name, None, opts)
        k8s.helm.v3.Release(
            f"{name}-release",
            name="sealed-secrets",
            chart="sealed-secrets",
            version=args.chart.chart_version,
            repository_opts={"repo": args.chart.repository},
            namespace=args.chart.namespace,
            atomic=True,
            timeout=600,
            values={
                "fullnameOverride": CONTROLLER_NAME,
                "resources": {"requests": {"cpu": "50m", "memory": "64Mi"}},
            },
            opts=pulumi.ResourceOptions(
                parent=self, provider=args.provider, depends_on=list(args.nodes)
            ),
        )
        self.register_outputs({"controller": CONTROLLER_NAME, "namespace": args.chart.namespace})
