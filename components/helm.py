"""Upstream Helm charts, always pinned and installed atomically."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from config.schema import HelmChart


def pinned_release(
    resource_name: str,
    *,
    chart: str,
    pin: HelmChart,
    namespace: pulumi.Input[str],
    values: dict[str, Any],
    opts: pulumi.ResourceOptions,
) -> k8s.helm.v3.Release:
    """A release of ``chart`` at exactly the configured version: an upgrade is a config change
    that shows in review, and a failed install or upgrade rolls back (``atomic``)."""
    return k8s.helm.v3.Release(
        resource_name,
        name=chart,
        chart=chart,
        version=pin.chart_version,
        repository_opts={"repo": pin.repository},
        namespace=namespace,
        atomic=True,
        timeout=600,
        values=values,
        opts=opts,
    )
