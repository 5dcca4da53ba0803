"""Stacks in one identity mode or another, for the tests of both modes and of the moves between
them (docs/identity.md)."""

from __future__ import annotations

from tests.support.stack_values import NS, broken
from tools.offline import stack_config

# The first EBS CSI driver that tags volumes with the cluster name, which the cluster-scoped
# policy of a Pod Identity stack requires (kubernetes-sigs/aws-ebs-csi-driver CHANGELOG, #2899).
EBS_PIN = "v1.58.0-eksbuild.1"


def stack_in(mode: str, stack: str = "dev", **apps: str) -> dict:
    values = broken(stack_config(stack), "identity", mode)
    values[f"{NS}:addons"] = {"ebsCsiDriver": EBS_PIN}
    for app in values[f"{NS}:apps"]:
        app.pop("identity", None)
        if app["name"] in apps:
            app["identity"] = apps[app["name"]]
    values.pop(f"{NS}:acknowledge", None)
    return values
