"""A Kubernetes object whose fields sit beside ``metadata`` rather than under ``spec``.

pulumi-kubernetes' Python ``CustomResource`` only passes ``spec`` (pulumi-kubernetes #3549), so
kinds such as ``VolumeSnapshotClass`` (``driver``, ``deletionPolicy``) are registered here with
their fields as the API has them. The type token is the one the provider uses for the kind.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib.metadata import version
from typing import Any

import pulumi

_PROVIDER_VERSION = version("pulumi-kubernetes")


class KubernetesObject(pulumi.CustomResource):
    def __init__(
        self, name: str, obj: Mapping[str, Any], opts: pulumi.ResourceOptions | None = None
    ):
        opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(version=_PROVIDER_VERSION))
        super().__init__(f"kubernetes:{obj['apiVersion']}:{obj['kind']}", name, dict(obj), opts)
