"""What every namespace the program creates gets besides its own objects."""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s


def no_default_token(
    resource_name: str, namespace: pulumi.Input[str], opts: pulumi.ResourceOptions
) -> k8s.core.v1.ServiceAccountPatch:
    """Pods that name no ServiceAccount run as ``default``: give it no API token, so only
    workloads with their own, deliberately bound account can talk to the API server."""
    return k8s.core.v1.ServiceAccountPatch(
        resource_name,
        metadata={
            "name": "default",
            "namespace": namespace,
            "annotations": {"pulumi.com/patchForce": "true"},
        },
        automount_service_account_token=False,
        opts=opts,
    )
