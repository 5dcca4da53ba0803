"""Every chart repository the plans install from is the one its upstream documents.

A chart repository is a web site that can move: Sealed Secrets' moved from
bitnami-labs.github.io to bitnami.github.io on 2026-06-15 and the old one answers 404
(bitnami/sealed-secrets#1982), which no offline plan can see. So each release's repository URL is
tied to the `helm repo add <name> <url>` line of upstream's own install docs, vendored in
tests/upstream/ (SOURCES.yaml names the tag of each), and the moved repository's vendored index
must still list the chart version the plans pin. The runner-side check that the repository
answers is the preflight's (.github/egress-hosts.txt, tests/pipeline/test_preflight.py).
"""

from __future__ import annotations

import re

import pytest
import yaml

from tests.support.upstream_schema import UPSTREAM, sources
from tools.offline import run_config

RELEASE = "kubernetes:helm.sh/v3:Release"
SEALED = "eks-config-storage:sealedSecrets"
OLD_SEALED_SECRETS = "https://bitnami-labs.github.io/sealed-secrets"
# The install docs of each chart the program deploys (SOURCES.yaml: path, pin and upstream tag).
INSTALL_DOCS = {
    "external-secrets": "external-secrets/README.md",
    "sealed-secrets": "sealed-secrets-docs/README.md",
    "velero": "velero/README.md",
}
HELM_REPO_ADD = re.compile(r"^\$?\s*helm repo add (\S+) (https://\S+?)/?$", re.M)


def documented_repositories(path: str) -> set[str]:
    return {url for _, url in HELM_REPO_ADD.findall((UPSTREAM / path).read_text())}


def installed(plans) -> dict[str, set[str]]:
    """Repository URLs per chart, across every stack."""
    found: dict[str, set[str]] = {}
    for plan in plans.values():
        for release in plan.of_type(RELEASE):
            repository = release.inputs["repositoryOpts"]["repo"].rstrip("/")
            found.setdefault(release.inputs["chart"], set()).add(repository)
    return found


def repository_problems(plans) -> list[str]:
    problems = []
    for chart, urls in sorted(installed(plans).items()):
        if chart not in INSTALL_DOCS:
            problems.append(f"chart {chart} has no vendored install docs in tests/upstream")
            continue
        documented = documented_repositories(INSTALL_DOCS[chart])
        problems += [
            f"{chart} installs from {url}; upstream's docs ({INSTALL_DOCS[chart]}) say "
            f"{', '.join(sorted(documented))}"
            for url in sorted(urls - documented)
        ]
    return problems


def test_every_chart_comes_from_the_repository_its_upstream_documents(plans):
    assert set(installed(plans)) == set(INSTALL_DOCS)
    assert set(INSTALL_DOCS.values()) <= {entry["path"] for entry in sources().files}
    assert repository_problems(plans) == []


@pytest.mark.parametrize("chart", sorted(INSTALL_DOCS))
def test_each_install_doc_names_one_repository(chart):
    assert len(documented_repositories(INSTALL_DOCS[chart])) == 1


def test_the_old_sealed_secrets_repository_is_caught(dev_values):
    dev_values[SEALED] = {**dev_values[SEALED], "repository": OLD_SEALED_SECRETS}
    assert repository_problems({"dev": run_config("dev", dev_values)}) == [
        f"sealed-secrets installs from {OLD_SEALED_SECRETS}; upstream's docs "
        "(sealed-secrets-docs/README.md) say https://bitnami.github.io/sealed-secrets"
    ]


def test_the_expected_repositories_are_the_documented_ones():
    """The values the test above ties the plans to, spelled out so a refresh that changes one
    shows in review."""
    assert {chart: documented_repositories(path) for chart, path in INSTALL_DOCS.items()} == {
        "external-secrets": {"https://charts.external-secrets.io"},
        "sealed-secrets": {"https://bitnami.github.io/sealed-secrets"},
        "velero": {"https://vmware-tanzu.github.io/helm-charts"},
    }


def test_the_moved_repositorys_index_still_serves_the_pinned_chart(plans):
    """The new Sealed Secrets repository took over the old index: the pinned version is there
    and downloads from the project's GitHub releases (served from release-assets, a host the
    runners must reach: .github/egress-hosts.txt)."""
    index = yaml.safe_load((UPSTREAM / "sealed-secrets-index" / "index.yaml").read_text())
    versions = {
        release.inputs["version"]
        for plan in plans.values()
        for release in plan.of_type(RELEASE)
        if release.inputs["chart"] == "sealed-secrets"
    }
    assert versions == {sources().pin("sealed-secrets")["version"]}
    entries = {str(e["version"]): e for e in index["entries"]["sealed-secrets"]}
    for version in versions:
        (url,) = entries[version]["urls"]
        assert re.fullmatch(
            rf"https://github\.com/bitnami(-labs)?/sealed-secrets/releases/download/"
            rf"helm-v{re.escape(version)}/sealed-secrets-{re.escape(version)}\.tgz",
            url,
        ), url
