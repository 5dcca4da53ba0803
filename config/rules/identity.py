"""Identity modes: which workloads use IRSA, Pod Identity or both, and what Pod Identity needs
of the rest of the config."""

from __future__ import annotations

import re
from collections.abc import Iterator

from config.rules.base import Problem
from config.schema import App, StackConfig
from design.identity import needs_agent, trusts_pod_identity

# The driver tags volumes and snapshots with ebs.csi.aws.com/cluster-name, which the
# cluster-scoped policy requires, from v1.58.0 when k8sTagClusterId is set
# (kubernetes-sigs/aws-ebs-csi-driver@v1.64.0:CHANGELOG.md, #2899; docs/tagging.md).
EBS_CLUSTER_NAME_TAG_SINCE = (1, 58, 0)


def app_identity(cfg: StackConfig, app: App) -> str:
    return app.identity or cfg.identity


def workload_modes(cfg: StackConfig) -> list[str]:
    """Every mode some workload of the stack runs in: the controllers follow the stack."""
    return [cfg.identity, *(app_identity(cfg, app) for app in cfg.apps)]


def agent_needed(cfg: StackConfig) -> bool:
    """A pin alone installs it too: a stack moving to Pod Identity installs the agent in a
    change of its own, before any workload relies on it (docs/identity.md)."""
    return needs_agent(workload_modes(cfg)) or cfg.addons.pod_identity_agent is not None


def _version(pinned: str) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", pinned)[:3])


def identity(cfg: StackConfig) -> Iterator[Problem]:
    pinned = cfg.addons.ebs_csi_driver
    if trusts_pod_identity(cfg.identity) and (
        not pinned or _version(pinned) < EBS_CLUSTER_NAME_TAG_SINCE
    ):
        # EKS's default version for a Kubernetes minor may be older: only a pin is certain.
        yield (
            "addons.ebsCsiDriver",
            f"identity {cfg.identity!r} puts the EBS CSI driver on the cluster-scoped policy, "
            "which needs volumes tagged ebs.csi.aws.com/cluster-name: pin v1.58.0 or later, the "
            f"first release that tags them (found {pinned or 'unset'})",
        )
