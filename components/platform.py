"""The platform context: what every component of the stack shares, as one typed value.

``__main__.py`` builds it once the key and the cluster exist and hands it to each component in
place of the same eight values passed one by one. The cluster's name comes twice on purpose: the
configured string (names and tags known at preview) and the cluster's output (a dependency on the
cluster, for what must wait for it).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components.irsa import OidcIdentity
from config.catalog import Catalog
from design.aws import AwsContext


@dataclass(frozen=True)
class Platform:
    cluster_name: str
    """The configured cluster name."""
    environment: str
    protect: bool
    """Stateful resources are protected (``protect``)."""
    identity: str
    """design.identity: the stack's mode (irsa, both, podIdentity)."""
    cluster_arn: str
    """The cluster's ARN, known before it exists: what Pod Identity trust conditions on."""
    aws: AwsContext
    key_arn: pulumi.Input[str]
    """The stack's envelope key."""
    cluster: pulumi.Input[str]
    """The cluster's name as its output: waits for the cluster."""
    oidc: OidcIdentity
    provider: k8s.Provider
    """The cluster's Kubernetes provider."""
    catalog: Catalog
