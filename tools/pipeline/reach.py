"""Prove that this runner reaches the stack's API server and that the role is let in, before a
preview or an update depends on it.

    python -m tools.pipeline.reach dev

pulumi-kubernetes does not fail a plain preview when it cannot use the cluster: an unreachable
endpoint or rejected credentials mark the cluster "unreachable", and Create and Update previews
then return their inputs without a word (pulumi/pulumi-kubernetes@v4.32.0:
provider/pkg/provider/provider.go:987-1000, 1723-1735, 2367-2371). A preview would pass without
having seen the cluster. So this asks the API server for /version with the role's token, as the
provider's `aws eks get-token` exec credential does. A missing access entry answers 401 ("You must
be logged in to the server (Unauthorized)": awsdocs/amazon-eks-user-guide,
troubleshooting.adoc). A cluster that does not exist yet passes: the preview shows it being
created.
"""

from __future__ import annotations

import base64
import json
import os
import ssl
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable

from tools.offline import stack_config
from tools.offline.runner import typed_config

Run = Callable[[list[str]], subprocess.CompletedProcess]
Get = Callable[[str, str, str], int]


def run(argv: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(argv, capture_output=True, text=True, check=False)


def get_version(endpoint: str, ca_pem: str, token: str) -> int:
    """HTTP status of GET /version, or 0 when the endpoint cannot be reached."""
    with tempfile.NamedTemporaryFile("w", suffix=".pem") as ca:
        ca.write(ca_pem)
        ca.flush()
        context = ssl.create_default_context(cafile=ca.name)
        request = urllib.request.Request(
            f"{endpoint}/version", headers={"Authorization": f"Bearer {token}"}
        )
        try:
            with urllib.request.urlopen(request, timeout=15, context=context) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code
        except (urllib.error.URLError, TimeoutError, OSError):
            return 0


def check(cluster: str, region: str, run: Run = run, get: Get = get_version) -> str | None:
    """None when the role is let in (or the cluster is yet to be created); else the problem."""
    described = run(
        [
            "aws",
            "eks",
            "describe-cluster",
            "--name",
            cluster,
            "--region",
            region,
            "--output",
            "json",
        ]
    )
    if described.returncode != 0:
        if "ResourceNotFoundException" in described.stderr:
            print(f"Cluster {cluster} does not exist yet: the preview shows it being created.")
            return None
        return f"cannot describe cluster {cluster}: {described.stderr.strip()}"
    info = json.loads(described.stdout)["cluster"]
    token = run(
        [
            "aws",
            "eks",
            "get-token",
            "--cluster-name",
            cluster,
            "--region",
            region,
            "--output",
            "json",
        ]
    )
    if token.returncode != 0:
        return f"cannot get a token for {cluster}: {token.stderr.strip()}"
    ca_pem = base64.b64decode(info["certificateAuthority"]["data"]).decode()
    status = get(info["endpoint"], ca_pem, json.loads(token.stdout)["status"]["token"])
    if status == 200:
        print(f"The API server of {cluster} answers this role ({info['endpoint']}).")
        return None
    if status == 0:
        return (
            f"this runner cannot reach the API server of {cluster} ({info['endpoint']}): its "
            "address must be admitted by the stack's endpoint settings (.github/runners.yml, "
            "'reaches'; docs/pipeline-setup.md, 'Runner groups')"
        )
    return (
        f"the API server of {cluster} answered {status} to this role: it needs an EKS access "
        "entry (adminRoleArns for deploy roles, previewRoleArns for preview roles) from a deploy "
        "of that stack"
    )


def main(argv: list[str] | None = None, run: Run = run, get: Get = get_version) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m tools.pipeline.reach STACK", file=sys.stderr)
        return 2
    values = stack_config(args[0])
    cluster = typed_config(args[0], values).cluster_name
    region = values.get("aws:region") or os.environ.get("AWS_REGION", "")
    problem = check(cluster, region, run, get)
    if problem:
        print(f"::error::{problem}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
