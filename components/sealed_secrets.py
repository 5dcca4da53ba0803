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
    # A restored sealing key, which must be in place before the controller starts.
    key: Sequence[pulumi.Resource] = ()


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
                # One key for the controller's life while it is escrowed (design.escrow):
                # "--key-renew-period ... automatic rotation disabled if 0"
                # (bitnami-labs/sealed-secrets@helm-v2.17.3:helm/sealed-secrets/values.yaml).
                **({"keyrenewperiod": "0"} if args.chart.escrow else {}),
            },
            opts=pulumi.ResourceOptions(
                parent=self, provider=args.provider, depends_on=[*args.nodes, *args.key]
            ),
        )
        self.register_outputs({"controller": CONTROLLER_NAME, "namespace": args.chart.namespace})
