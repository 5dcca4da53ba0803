"""The runner egress list (.github/egress-hosts.txt) and the preflight's network checks, run for
real against a stand-in internet: every https:// URL the script hands to curl goes to a local
HTTP server instead (a `curl` on PATH rewrites it and runs the real curl). The variable and
secrets-provider checks are in tests/tools/test_pipeline_tools.py, the ruleset check in
tests/pipeline/test_ruleset.py."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from tests.support.pipeline_scripts import PREFLIGHT_ENV, fake_aws, repo_copy, run_script
from tools.offline import stack_names

ROOT = Path(__file__).resolve().parents[2]
EGRESS = ROOT / ".github" / "egress-hosts.txt"
STACK_FILE = (
    "secretsprovider: awskms://alias/pulumi-secrets-{stack}?region=eu-west-1\n"
    "encryptedkey: AQICAHh...\nconfig:\n  aws:region: eu-west-1\n"
)
PULUMI = (ROOT / ".pulumi-version").read_text().strip()
UV = re.search(r"^uv==([0-9.]+)", (ROOT / "requirements-uv.txt").read_text(), re.M).group(1)


def egress_lines() -> list[list[str]]:
    return [
        line.split()
        for line in EGRESS.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]


def expand(url: str, region: str = "eu-west-1") -> str:
    return url.replace("{region}", region).replace("{pulumi}", PULUMI).replace("{uv}", UV)


class Upstream:
    """The internet as the preflight sees it: `/<host>/<path>` answers from ``routes`` (status,
    body, headers), anything else 200; every request is recorded with its Range header."""

    def __init__(self):
        self.routes: dict[str, tuple[int, bytes, dict]] = {}
        self.seen: list[tuple[str, str | None]] = []
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                upstream.seen.append((self.path, self.headers.get("Range")))
                status, body, headers = upstream.routes.get(self.path, (200, b"ok", {}))
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    def path(self, url: str) -> str:
        return "/" + url.removeprefix("https://")

    def serve_chart(self, repository: str, chart: str, version: str) -> None:
        archive = f"https://github.com/upstream/{chart}/releases/download/v{version}/"
        archive += f"{chart}-{version}.tgz"
        index = f"entries:\n  {chart}:\n  - urls:\n    - {archive}\n    version: {version}\n"
        self.routes[self.path(f"{repository}/index.yaml")] = (200, index.encode(), {})
        assets = f"{self.base}/release-assets.githubusercontent.com/{chart}-{version}"
        self.routes[self.path(archive)] = (302, b"", {"Location": assets})


@pytest.fixture
def upstream():
    server = Upstream()
    for check, _, url, *rest in egress_lines():
        if check == "chart":
            server.serve_chart(url, rest[0], rest[1])
    yield server
    server.server.shutdown()


def preflight(tmp_path: Path, upstream: Upstream, stack: str = "dev", blocked: str = "", **env):
    """The real script, with curl sent to ``upstream`` (hosts in ``blocked`` refuse to connect)."""
    bin_dir = fake_aws(tmp_path)
    stub = bin_dir / "curl"
    stub.write_text(
        '#!/usr/bin/env bash\nargs=()\nfor a in "$@"; do\n'
        "    if [[ $a == https://* ]]; then\n"
        "        host=${a#https://}; host=${host%%/*}\n"
        f'        if [[ " {blocked} " == *" $host "* ]]; then a="http://127.0.0.1:9/"\n'
        f'        else a="{upstream.base}/${{a#https://}}"; fi\n'
        '    fi\n    args+=("$a")\ndone\n'
        f'exec {shutil.which("curl")} "${{args[@]}}"\n'
    )
    stub.chmod(0o755)
    values = {**PREFLIGHT_ENV, "STACK": stack, "PREFLIGHT_SKIP_NETWORK": "", **env}
    repo = repo_copy(tmp_path, STACK_FILE.format(stack=stack))
    if stack != "dev":
        (repo / "stacks" / "Pulumi.dev.yaml").rename(repo / "stacks" / f"Pulumi.{stack}.yaml")
    return run_script("preflight.sh", tmp_path, {**values, "CWD": repo, "PATH": str(bin_dir)})


needs_curl = pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")


def test_the_host_list_is_one_check_with_a_reason_per_line():
    known = {"{region}", "{pulumi}", "{uv}"}
    for fields in egress_lines():
        check, stacks, url = fields[:3]
        assert check in {"chart", "get", "route"}, fields
        assert stacks == "*" or set(stacks.split(",")) <= set(stack_names()), fields
        assert url.startswith("https://") and set(re.findall(r"{\w+}", url)) <= known, url
        assert len(fields) > (5 if check == "chart" else 3), f"no reason: {fields}"
    hosts = {expand(fields[2], "{region}").split("/")[2] for fields in egress_lines()}
    # Hosts the first real run needed and an earlier list missed (shared/reviews R2, B2, B3).
    assert {
        "release-assets.githubusercontent.com",
        "ssm.{region}.amazonaws.com",
        "bitnami.github.io",
        "releases.astral.sh",
    } <= hosts
    assert "bitnami-labs.github.io" not in hosts


def locked_uv() -> str:
    """The uv make runs: the one on PATH if it is the locked version, else make's own copy."""
    on_path = shutil.which("uv")
    if on_path:
        answer = subprocess.run([on_path, "--version"], capture_output=True, text=True, check=False)
        if answer.stdout.startswith(f"uv {UV} "):
            return on_path
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return f"{cache}/eks-config-storage/uv-{UV}/bin/uv"  # the Makefile's UV_HOME


def test_the_cpython_line_is_the_build_the_locked_uv_installs():
    """uv downloads the newest build of the workflows' VENV_PYTHON it knows; a uv bump moves it."""
    versions = {
        yaml.safe_load(path.read_text())["env"]["VENV_PYTHON"]
        for path in (ROOT / ".github" / "workflows").glob("*.yml")
    }
    assert versions == {"3.11"}
    uv = locked_uv()
    listing = subprocess.run(
        [
            uv,
            "python",
            "list",
            "3.11",
            "--only-downloads",
            "--show-urls",
            "--all-platforms",
            "--all-arches",
        ],
        env={**os.environ, "UV_OFFLINE": "1"},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    (url,) = re.findall(r"^cpython-3\.11\.\d+-linux-x86_64-gnu\s+(\S+)$", listing, re.M)
    listed = [fields[2] for fields in egress_lines() if "python-build-standalone" in fields[2]]
    assert listed == [url]


def test_the_setup_docs_point_to_the_host_list_rather_than_copy_it():
    docs = (ROOT / "docs" / "pipeline-setup.md").read_text()
    assert "`.github/egress-hosts.txt`" in docs
    assert "release-assets.githubusercontent.com" not in docs  # the list lives in one place


@needs_curl
@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_preflight_probes_every_listed_url_of_its_stack(tmp_path, upstream, stack):
    result = preflight(tmp_path, upstream, stack)
    assert result.returncode == 0, result.stdout
    seen = dict(upstream.seen)
    for check, stacks, url, *rest in egress_lines():
        applies = stacks == "*" or stack in stacks.split(",")
        probe = f"{url}/index.yaml" if check == "chart" else expand(url)
        assert (upstream.path(probe) in seen) == applies, probe
        if check == "get":
            assert seen[upstream.path(probe)] == "bytes=0-0"  # a release archive stays small
        if check == "chart" and applies:
            chart, version = rest[:2]
            assert seen[f"/release-assets.githubusercontent.com/{chart}-{version}"] == "bytes=0-0"


@needs_curl
def test_a_chart_repository_that_answers_404_fails_and_is_named(tmp_path, upstream):
    """What the old Sealed Secrets repository does since it moved: reachable, but 404."""
    upstream.routes[upstream.path("https://bitnami.github.io/sealed-secrets/index.yaml")] = (
        404,
        b"Not Found",
        {},
    )
    result = preflight(tmp_path, upstream)
    assert result.returncode == 1
    (error,) = [line for line in result.stdout.splitlines() if line.startswith("::error::")]
    assert error.startswith(
        "::error::chart repository https://bitnami.github.io/sealed-secrets answered HTTP 404 "
        "for index.yaml (sealed-secrets 2.17.3,"
    )
    assert "1 problem(s) above" in result.stdout


@needs_curl
def test_an_index_without_the_pinned_chart_or_an_archive_that_will_not_download_fails(
    tmp_path, upstream
):
    upstream.serve_chart("https://charts.external-secrets.io", "external-secrets", "0.99.0")
    upstream.routes["/release-assets.githubusercontent.com/sealed-secrets-2.17.3"] = (403, b"", {})
    out = preflight(tmp_path, upstream).stdout
    assert (
        "::error::chart repository https://charts.external-secrets.io does not list "
        "external-secrets 0.20.4 in its index.yaml" in out
    )
    assert re.search(
        r"::error::cannot download sealed-secrets 2\.17\.3 from https://github\.com/\S+"
        r" \(HTTP 403\)",
        out,
    )


@needs_curl
def test_get_needs_200_while_a_route_takes_any_answer_but_no_connection(tmp_path, upstream):
    cli = expand("https://get.pulumi.com/releases/sdk/pulumi-v{pulumi}-linux-x64.tar.gz")
    upstream.routes[upstream.path(cli)] = (404, b"", {})
    upstream.routes["/sts.eu-west-1.amazonaws.com/"] = (403, b"", {})  # an answer: the route works
    result = preflight(tmp_path, upstream, blocked="ssm.eu-west-1.amazonaws.com")
    errors = [line for line in result.stdout.splitlines() if line.startswith("::error::")]
    assert len(errors) == 2, errors
    assert errors[0].startswith(f"::error::{cli} answered HTTP 404, not 200 (the Pulumi CLI;")
    assert errors[1].startswith(
        "::error::cannot reach https://ssm.eu-west-1.amazonaws.com/ from this runner "
        "(the recommended node AMI release"
    )
