"""A pin bump without refreshed upstream files fails here: every chart and judged add-on the
plans deploy must have its vendored files at exactly that version, and those files must still be
the upstream bytes SOURCES.yaml names."""

from __future__ import annotations

import copy

import yaml

from tests.support.upstream_pins import chart_problems, deployed, file_problems, pin_problems
from tests.support.upstream_schema import UPSTREAM, sources
from tools.offline import run_config

ESO = "eks-config-storage:externalSecrets"
ADDONS = "eks-config-storage:addons"


def test_the_plans_deploy_exactly_the_vendored_versions(plans):
    assert pin_problems(plans.values(), sources()) == []


def test_the_judged_pins_are_the_ones_the_plans_deploy(plans):
    """The pins this suite guards, read from the plans (stack pins, config defaults and the
    add-on version EKS answers for an unpinned add-on alike)."""
    versions = deployed(plans.values())
    assert versions[("helm_chart", "external-secrets")] == {"0.20.4"}
    assert versions[("helm_chart", "sealed-secrets")] == {"2.17.3"}
    assert versions[("helm_chart", "velero")] == {"12.1.0"}
    assert versions[("eks_addon", "snapshot-controller")] == {"v8.3.0-eksbuild.1"}
    assert versions[("eks_addon", "aws-ebs-csi-driver")] == {"v1.48.0-eksbuild.1"}


def test_a_pin_bump_without_refreshed_files_fails(dev_values):
    dev_values[ESO] = {**dev_values[ESO], "chartVersion": "0.21.0"}
    dev_values[ADDONS] = {"snapshotController": "v8.4.0-eksbuild.1"}
    dev_values["eks-config-storage:backups"] = {"enabled": True}  # every vendored chart deployed
    bumped = run_config("dev", dev_values)
    assert pin_problems([bumped], sources()) == [
        "snapshot-controller is deployed at v8.4.0-eksbuild.1 but tests/upstream holds "
        "v8.3.0-eksbuild.1: run python -m tools.refresh_upstream "
        "--set snapshot-controller=v8.4.0-eksbuild.1",
        "external-secrets is deployed at 0.21.0 but tests/upstream holds 0.20.4: "
        "run python -m tools.refresh_upstream --set external-secrets=0.21.0",
    ]


def test_a_chart_without_vendored_files_fails(plans):
    manifest = sources()
    manifest.pins = [p for p in manifest.pins if p["name"] != "sealed-secrets"]
    assert pin_problems(plans.values(), manifest) == [
        "chart sealed-secrets has no vendored upstream files in SOURCES.yaml"
    ]


def test_a_pin_no_plan_deploys_fails(plans):
    manifest = sources()
    manifest.pin("prometheus-operator")["helm_chart"] = "kube-prometheus-stack"
    assert pin_problems(plans.values(), manifest) == [
        "pin prometheus-operator names helm_chart kube-prometheus-stack, which no plan deploys"
    ]


def test_vendored_files_are_the_upstream_bytes_at_their_pins_tag():
    assert file_problems(sources()) == []
    assert chart_problems(sources()) == []


def test_a_moved_pin_or_an_edited_file_is_caught(tmp_path):
    copied = tmp_path / "upstream"
    copied.mkdir()
    manifest = sources()
    for entry in manifest.files:
        target = copied / entry["path"]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes((UPSTREAM / entry["path"]).read_bytes())
    (copied / "sealed-secrets" / "values.yaml").write_text("edited: true\n")
    (copied / "stray.yaml").write_text("{}\n")
    moved = copy.deepcopy(manifest)
    moved.pin("external-secrets")["version"] = "0.21.0"
    problems = file_problems(moved, copied)
    assert "stray.yaml: not listed in SOURCES.yaml" in problems
    assert (
        "sealed-secrets/values.yaml: sha256 differs from SOURCES.yaml (edited after vendoring?)"
        in problems
    )
    moved_eso = [p for p in problems if "pin external-secrets is at" in p]
    assert len(moved_eso) == len(manifest.files_of("external-secrets"))
    assert "external-secrets/external-secrets@helm-chart-0.21.0" in moved_eso[0]
    assert "Chart.yaml: version 0.20.4, pin 0.21.0" in " ".join(chart_problems(moved))


def test_the_manifest_reads_the_same_with_a_yaml_parser():
    """The refresh script reads SOURCES.yaml without PyYAML; both must see the same data."""
    manifest = sources()
    parsed = yaml.safe_load((UPSTREAM / "SOURCES.yaml").read_text())
    assert parsed == {"pins": manifest.pins, "files": manifest.files}
    assert {p["name"] for p in manifest.pins} == {
        "external-secrets",
        "sealed-secrets",
        "sealed-secrets-docs",
        "sealed-secrets-index",
        "snapshot-controller",
        "aws-ebs-csi-driver",
        "velero",
        "prometheus-operator",
        "pulumi",
    }
