"""Moving a Helm-installed controller to another namespace.

A Helm release replaces on ``namespace``, new one first (pulumi/pulumi-kubernetes@94977969:
provider/pkg/provider/helm_release.go:907,932). The new release renders the same cluster-scoped
objects (ClusterRole, ClusterRoleBinding: vmware-tanzu/helm-charts@velero-12.1.0
charts/velero/templates/clusterrolebinding.yaml; bitnami-labs/sealed-secrets
helm/sealed-secrets/templates/cluster-role.yaml), and Helm refuses to adopt an object whose
``meta.helm.sh/release-namespace`` names another release (helm/helm: pkg/action/validate.go,
``checkOwnership``). The IAM trust that follows the namespace has no dependency on the release
and has already moved, so the running controller loses AWS. Helm refuses in any stack, so the
rule does not wait for protection.
"""

from __future__ import annotations

from collections.abc import Iterator

from tools.transitions.rules import Violation

RELEASE = "kubernetes:helm.sh/v3:Release"
RUNBOOK = "docs/changing-a-live-stack.md, 'Move a controller to another namespace'"
# chart -> (setting the acknowledgement names, what the old release owns, what stops)
CHARTS = {
    "velero": (
        "backups.namespace",
        "the chart's ClusterRoleBinding velero-server belongs to the old release",
        "Velero loses its bucket and every backup fails from then on",
    ),
    "sealed-secrets": (
        "sealedSecrets.namespace",
        "the chart's ClusterRole secrets-unsealer and ClusterRoleBinding belong to the old release",
        "the escrow role's trust has already moved, and a controller in the new namespace would "
        "make a new key and stop unsealing until the key is copied or restored from escrow",
    ),
    "external-secrets": (
        "externalSecrets.namespace",
        "the chart's cluster-wide objects belong to the old release",
        "the operator's IAM trust has already moved, so secret sync stops",
    ),
}


def _namespaces(document: dict, chart: str) -> list:
    return [
        r["inputs"].get("namespace")
        for r in document["resources"]
        if r["type"] == RELEASE and r["inputs"].get("chart") == chart
    ]


def release_rules(old: dict, new: dict) -> Iterator[tuple[Violation, str, str]]:
    for chart, (setting, owned, loss) in CHARTS.items():
        before, after = _namespaces(old, chart), _namespaces(new, chart)
        if len(before) == 1 and len(after) == 1 and before != after:
            yield (
                Violation(
                    setting,
                    f"{before[0]} -> {after[0]}: Helm refuses the new release ({owned}); {loss}. "
                    f"Uninstall first, then install in the new namespace (a planned outage): "
                    f"follow {RUNBOOK}",
                    "acknowledge.settings",
                ),
                "settings",
                setting,
            )
