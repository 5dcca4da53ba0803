"""Kubeconfig for the cluster, authenticating with ``aws eks get-token`` on every call."""

from __future__ import annotations


def exec_kubeconfig(*, cluster_name: str, endpoint: str, ca_data: str, region: str) -> dict:
    """A kubeconfig with exec authentication: no token is stored in state or on disk."""
    user = {
        "exec": {
            "apiVersion": "client.authentication.k8s.io/v1beta1",
            "command": "aws",
            "args": [
                "eks",
                "get-token",
                "--cluster-name",
                cluster_name,
                "--region",
                region,
                "--output",
                "json",
            ],
            "interactiveMode": "Never",
        }
    }
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": cluster_name,
                "cluster": {"server": endpoint, "certificate-authority-data": ca_data},
            }
        ],
        "users": [{"name": cluster_name, "user": user}],
        "contexts": [
            {"name": cluster_name, "context": {"cluster": cluster_name, "user": cluster_name}}
        ],
        "current-context": cluster_name,
    }
