"""Sealed Secrets (R3, Git layer): a Secret can live in Git only encrypted to this cluster's
controller key; ``kubeseal`` seals, the controller unseals in the cluster."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components.helm import pinned_release
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
        pinned_release(
            f"{name}-release",
            chart="sealed-secrets",
            pin=args.chart,
            namespace=args.chart.namespace,
            values={
                "fullnameOverride": CONTROLLER_NAME,
                "resources": {"requests": {"cpu": "50m", "memory": "64Mi"}},
            },
            opts=pulumi.ResourceOptions(
                parent=self, provider=args.provider, depends_on=list(args.nodes)
            ),
        )
        self.register_outputs({"controller": CONTROLLER_NAME, "namespace": args.chart.namespace})
