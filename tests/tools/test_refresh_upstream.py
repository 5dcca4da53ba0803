"""tools/refresh_upstream.py against a local stand-in for raw.githubusercontent.com: which URLs
a pin move asks for, and how the files and SOURCES.yaml are rewritten (or left alone)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools import refresh_upstream as refresh
from tools.refresh_upstream import sha256

RAW = "https://raw.githubusercontent.com"
HEADER = "# Upstream files (header kept across rewrites).\n"
MANIFEST = (
    HEADER
    + """pins:
  - name: "external-secrets"
    version: "0.20.4"
    repo: "external-secrets/external-secrets"
    tag: "helm-chart-{version}"
    helm_chart: "external-secrets"
    app_version: "v0.20.4"
  - name: "snapshot-controller"
    version: "v8.3.0-eksbuild.1"
    repo: "kubernetes-csi/external-snapshotter"
    tag: "{upstream}"
    eks_addon: "snapshot-controller"
files:
  - path: "external-secrets/crd.yaml"
    pin: "external-secrets"
    source: "external-secrets/external-secrets@helm-chart-0.20.4:config/crds/bases/es.yaml"
    sha256: "old"
  - path: "external-secrets/Chart.yaml"
    pin: "external-secrets"
    source: "external-secrets/external-secrets@helm-chart-0.20.4:deploy/charts/es/Chart.yaml"
    sha256: "old"
  - path: "snapshot-controller/vsc.yaml"
    pin: "snapshot-controller"
    source: "kubernetes-csi/external-snapshotter@v8.3.0:client/config/crd/vsc.yaml"
    sha256: "old"
"""
)
ESO_021 = {
    f"{RAW}/external-secrets/external-secrets/helm-chart-0.21.0/config/crds/bases/es.yaml": (
        b"kind: CustomResourceDefinition # 0.21.0\n"
    ),
    f"{RAW}/external-secrets/external-secrets/helm-chart-0.21.0/deploy/charts/es/Chart.yaml": (
        b'name: external-secrets\nversion: "0.21.0"\nappVersion: "v0.21.0"\n'
    ),
}


class FakeRaw:
    """Serves a fixed set of URLs and records what was asked."""

    def __init__(self, files: dict[str, bytes]):
        self.files = files
        self.asked: list[str] = []

    def __call__(self, url: str) -> bytes:
        self.asked.append(url)
        if url not in self.files:
            raise OSError("HTTP Error 404: Not Found")
        return self.files[url]


@pytest.fixture
def root(tmp_path) -> Path:
    (tmp_path / "SOURCES.yaml").write_text(MANIFEST)
    for entry in refresh.read(MANIFEST).files:
        (tmp_path / entry["path"]).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / entry["path"]).write_bytes(b"old bytes\n")
    return tmp_path


def test_setting_a_pin_fetches_its_files_at_the_new_tag_and_rewrites_the_manifest(root, capsys):
    fake = FakeRaw(ESO_021)
    assert refresh.main(["--set", "external-secrets=0.21.0"], fetch=fake, root=root) == 0
    assert fake.asked == list(ESO_021)
    assert (root / "external-secrets/crd.yaml").read_bytes() == next(iter(ESO_021.values()))
    assert (root / "snapshot-controller/vsc.yaml").read_bytes() == b"old bytes\n"
    manifest = refresh.read((root / "SOURCES.yaml").read_text())
    eso = manifest.pin("external-secrets")
    assert (eso["version"], eso["app_version"]) == ("0.21.0", "v0.21.0")
    assert eso["tag"] == "helm-chart-{version}"
    crd, chart, vsc = manifest.files
    assert crd["source"] == (
        "external-secrets/external-secrets@helm-chart-0.21.0:config/crds/bases/es.yaml"
    )
    assert crd["sha256"] == sha256((root / "external-secrets/crd.yaml").read_bytes())
    assert chart["sha256"] == sha256((root / "external-secrets/Chart.yaml").read_bytes())
    assert (vsc["sha256"], manifest.pin("snapshot-controller")["version"]) == (
        "old",
        "v8.3.0-eksbuild.1",
    )
    assert (root / "SOURCES.yaml").read_text().startswith(HEADER + "pins:\n")
    assert "external-secrets/crd.yaml <- external-secrets/external-secrets@helm-chart-0.21.0" in (
        capsys.readouterr().out
    )


def test_an_eks_add_on_version_maps_to_the_upstream_release_tag(root):
    url = f"{RAW}/kubernetes-csi/external-snapshotter/v8.4.0/client/config/crd/vsc.yaml"
    fake = FakeRaw({url: b"v8.4.0\n"})
    assert refresh.main(["--set", "snapshot-controller=v8.4.0-eksbuild.2"], fake, root) == 0
    assert fake.asked == [url]
    manifest = refresh.read((root / "SOURCES.yaml").read_text())
    assert manifest.pin("snapshot-controller")["version"] == "v8.4.0-eksbuild.2"
    assert manifest.files[2]["source"].startswith("kubernetes-csi/external-snapshotter@v8.4.0:")


def test_a_failed_download_changes_nothing(root, capsys):
    only_one = dict(list(ESO_021.items())[:1])
    before = {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}
    assert refresh.main(["--set", "external-secrets=0.21.0"], FakeRaw(only_one), root) == 1
    assert {p: p.read_bytes() for p in root.rglob("*") if p.is_file()} == before
    err = capsys.readouterr().err
    assert "cannot fetch external-secrets/external-secrets@helm-chart-0.21.0:deploy/" in err
    assert "404" in err


def test_all_fetches_every_pin_at_its_recorded_version(root):
    fake = FakeRaw({})
    assert refresh.main(["--all"], fake, root) == 1
    assert fake.asked == [
        f"{RAW}/external-secrets/external-secrets/helm-chart-0.20.4/config/crds/bases/es.yaml"
    ]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--set", "velero=12.2.0"], "no pin 'velero' in SOURCES.yaml"),
        (["--set", "external-secrets"], "--set takes PIN=VERSION"),
    ],
)
def test_bad_requests_are_refused(root, capsys, argv, message):
    assert refresh.main(argv, FakeRaw({}), root) == 1
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("pins:\n  - name: external-secrets\n", "values are double-quoted strings"),
        ('pins:\n    version: "1"\n', "a key before any '- '"),
        ('pins:\n  name: "x"\n', "line 2 is not in the manifest's form"),
    ],
)
def test_the_manifest_form_is_enforced(text, message):
    with pytest.raises(refresh.ManifestError, match=message):
        refresh.read(text)


def test_a_source_names_repository_tag_and_path():
    with pytest.raises(refresh.ManifestError, match="not owner/repo@tag:path"):
        refresh.Source.parse("external-secrets/external-secrets:config/crd.yaml")
    source = refresh.Source.parse("bitnami-labs/sealed-secrets@helm-v2.17.3:helm/values.yaml")
    assert source.url == f"{RAW}/bitnami-labs/sealed-secrets/helm-v2.17.3/helm/values.yaml"


def test_the_manifest_round_trips():
    assert refresh.write(refresh.read(MANIFEST)) == MANIFEST
    real = refresh.MANIFEST.read_text()
    assert refresh.write(refresh.read(real)) == real
