"""Prove that this runner reaches the stack's API server and that the role has the access its
job needs, before a preview or an update depends on it.

    python -m tools.pipeline.reach dev view     # a preview or plan role: reads, cannot write
    python -m tools.pipeline.reach dev admin    # a deploy role: can write

pulumi-kubernetes does not fail a plain preview when it cannot use the cluster: an unreachable
endpoint or rejected credentials mark the cluster "unreachable", and Create and Update previews
then return their inputs without a word (pulumi/pulumi-kubernetes@v4.32.0:
provider/pkg/provider/provider.go:987-1000, 1723-1735, 2367-2371). A preview would pass without
having seen the cluster. So this asks the API server, with the role's token as the provider's
`aws eks get-token` exec credential makes it, first for /version: a missing access entry answers
401 ("You must be logged in to the server (Unauthorized)": awsdocs/amazon-eks-user-guide,
troubleshooting.adoc). /version only proves that the role authenticates: every authenticated
identity may read it (the default `system:public-info-viewer` binding, kubernetes.io, "Using RBAC
Authorization", "Default roles and role bindings"). So it then asks a SelfSubjectAccessReview,
which every authenticated identity may create (same page: `system:basic-user`), whether the role
may do what its job needs: `list namespaces` for a view role and `create namespaces` for an
admin; and a view role must NOT be allowed to create them, since view roles run before any
approval. A cluster that does not exist yet passes: the preview shows it being created.
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
# (endpoint, CA bundle, token, path, body to POST or None to GET) -> (HTTP status or 0 when the
# endpoint cannot be reached, the JSON answer or {})
Api = Callable[[str, str, str, str, dict | None], tuple[int, dict]]

REVIEWS = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"
# What each access must and must not be allowed: (verb, resource) -> expected answer.
ACCESS = {
    "view": {("list", "namespaces"): True, ("create", "namespaces"): False},
    "admin": {("create", "namespaces"): True},
}


def run(argv: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(argv, capture_output=True, text=True, check=False)


def call_api(
    endpoint: str, ca_pem: str, token: str, path: str, body: dict | None
) -> tuple[int, dict]:
    with tempfile.NamedTemporaryFile("w", suffix=".pem") as ca:
        ca.write(ca_pem)
        ca.flush()
        context = ssl.create_default_context(cafile=ca.name)
        request = urllib.request.Request(
            f"{endpoint}{path}",
            data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            method="GET" if body is None else "POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=15, context=context) as response:
                return response.status, json.load(response)
        except urllib.error.HTTPError as error:
            return error.code, {}
        except (urllib.error.URLError, TimeoutError, OSError, ValueError):
            return 0, {}


def access_review(verb: str, resource: str) -> dict:
    return {
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SelfSubjectAccessReview",
        "spec": {"resourceAttributes": {"verb": verb, "resource": resource}},
    }


def check(
    cluster: str, region: str, access: str = "view", run: Run = run, api: Api = call_api
) -> str | None:
    """None when the role is let in with the access its job needs (or the cluster is yet to be
    created); else the problem."""
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
    endpoint, bearer = info["endpoint"], json.loads(token.stdout)["status"]["token"]
    status, _ = api(endpoint, ca_pem, bearer, "/version", None)
    if status == 0:
        return (
            f"this runner cannot reach the API server of {cluster} ({endpoint}): its "
            "address must be admitted by the stack's endpoint settings (.github/runners.yml, "
            "'reaches'; docs/pipeline-setup.md, 'Runner groups')"
        )
    if status != 200:
        return (
            f"the API server of {cluster} answered {status} to this role: it needs an EKS access "
            "entry (adminRoleArns for deploy roles, previewRoleArns for preview and plan roles) "
            "from a deploy of that stack"
        )
    problem = access_problem(
        cluster, access, lambda body: api(endpoint, ca_pem, bearer, REVIEWS, body)
    )
    if problem is None:
        print(f"The API server of {cluster} answers this role with {access} access ({endpoint}).")
    return problem


def access_problem(
    cluster: str, access: str, review: Callable[[dict], tuple[int, dict]]
) -> str | None:
    """Ask each access review of ACCESS[access]; the first answer that differs, as a problem."""
    for (verb, resource), expected in ACCESS[access].items():
        status, answer = review(access_review(verb, resource))
        if status not in {200, 201}:
            return f"the API server of {cluster} answered {status} to an access review"
        allowed = (answer.get("status") or {}).get("allowed") is True
        if allowed and not expected:
            return (
                f"this role may {verb} {resource} in {cluster}, but it is a {access} role and "
                "runs before any approval: give it the view access policy only (previewRoleArns), "
                "never adminRoleArns"
            )
        if expected and not allowed:
            needs = "adminRoleArns" if access == "admin" else "previewRoleArns"
            return (
                f"this role may not {verb} {resource} in {cluster}: its job needs {access} "
                f"access, i.e. the role in the stack's {needs}, from a deploy of that stack"
            )
    return None


def main(argv: list[str] | None = None, run: Run = run, api: Api = call_api) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2 or args[1] not in ACCESS:
        print("usage: python -m tools.pipeline.reach STACK view|admin", file=sys.stderr)
        return 2
    values = stack_config(args[0])
    cluster = typed_config(args[0], values).cluster_name
    region = values.get("aws:region") or os.environ.get("AWS_REGION", "")
    problem = check(cluster, region, args[1], run, api)
    if problem:
        print(f"::error::{problem}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
