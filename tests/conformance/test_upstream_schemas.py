"""Upstream schemas judge what the program renders: every custom resource against its vendored
CRD, the snapshot script's VolumeSnapshot too, and every Helm release's values against its chart
(tests/upstream/, tests/support/upstream_schema.py). Broken copies show the judge can refuse."""

from __future__ import annotations

import copy
import json
import shutil

import pytest
import yaml

from design.snapshots import POLICY_LABEL
from tests.support import upstream_schema as upstream
from tests.support.snapshot_harness import Harness
from tests.support.upstream_pins import ADDON, RELEASE
from tools.offline import Plan, stack_config
from tools.offline.manifests import is_built_in, manifests

NS = "eks-config-storage"


def custom_resources(plan: Plan) -> list[dict]:
    return [m for m in manifests(plan) if not is_built_in(m)]


def rendered(plan: Plan, kind: str) -> dict:
    """A deep copy of the first rendered object of ``kind``, to break."""
    return copy.deepcopy(next(m for m in custom_resources(plan) if m["kind"] == kind))


# -- what the program renders ------------------------------------------------------------------


def test_every_custom_resource_validates_strictly_against_its_crd(plan):
    custom = custom_resources(plan)
    kinds = {m["kind"] for m in custom}
    config = stack_config(plan.stack)
    backups = {"Schedule"} if config.get(f"{NS}:backups", {}).get("enabled") else set()
    if config.get(f"{NS}:monitoring", {}).get("prometheusRules"):
        backups.add("PrometheusRule")
    assert kinds == {
        "ExternalSecret",
        "ClusterSecretStore",
        "VolumeSnapshotClass",
        "PushSecret",
        *backups,
    }
    problems = [p for m in custom for p in upstream.manifest_problems(m)]
    assert problems == []


def test_custom_resources_use_no_deprecated_api_version(plan):
    deprecated = {
        f"{m['apiVersion']} {m['kind']}"
        for m in custom_resources(plan)
        if upstream.crd_version(m["apiVersion"], m["kind"]).deprecated
    }
    assert deprecated == set()


@pytest.mark.skipif(shutil.which("sh") is None, reason="no POSIX sh")
def test_the_rotation_scripts_volume_snapshot_validates(plan, tmp_path):
    """The manifest jobs/snapshot_rotate.sh sends with ``kubectl create -f -``,
    rendered by the script itself with each CronJob's own environment."""
    cron_jobs = [
        m
        for m in manifests(plan)
        if m["kind"] == "CronJob" and POLICY_LABEL in m["metadata"]["labels"]
    ]
    assert cron_jobs
    for i, cron_job in enumerate(cron_jobs):
        pod = cron_job["spec"]["jobTemplate"]["spec"]["template"]["spec"]
        env = {e["name"]: e["value"] for e in pod["containers"][0]["env"] if e["name"] != "HOME"}
        (tmp_path / str(i)).mkdir()
        harness = Harness(tmp_path / str(i), [shutil.which("sh")])
        claim = {"namespace": "orders", "name": "data-orders-0", "labels": {}}
        claim["labels"][env["POLICY_LABEL"]] = env["POLICY"]
        result = harness.run({"pvcs": [claim]}, **env)
        assert result.returncode == 0, result.stderr
        (sent,) = result.stdins
        snapshot = yaml.safe_load(sent)
        assert snapshot["kind"] == "VolumeSnapshot"
        assert snapshot["spec"] == {
            "volumeSnapshotClassName": env["SNAPSHOT_CLASS"],
            "source": {"persistentVolumeClaimName": "data-orders-0"},
        }
        assert upstream.manifest_problems(snapshot) == []


def test_every_helm_releases_values_fit_its_chart(plan):
    releases = plan.of_type(RELEASE)
    backups = (
        {"velero"} if stack_config(plan.stack).get(f"{NS}:backups", {}).get("enabled") else set()
    )
    assert {r.inputs["chart"] for r in releases} == {"external-secrets", "sealed-secrets", *backups}
    problems = [
        p for r in releases for p in upstream.values_problems(r.inputs["chart"], r.inputs["values"])
    ]
    assert problems == []


def test_add_on_configuration_values_fit_the_drivers_chart(plan):
    """No public copy of the EBS CSI add-on's configuration schema exists, so the driver's chart
    at the same release judges its configurationValues (tests/upstream/SOURCES.yaml): host
    networking for the node plugin and the forced snapshot sidecar."""
    manifest = upstream.sources()
    judged = [
        p
        for p in manifest.pins
        if "eks_addon" in p
        and any(f["path"].endswith("values.yaml") for f in manifest.files_of(p["name"]))
    ]
    assert [p["eks_addon"] for p in judged] == ["aws-ebs-csi-driver"]
    for pin in judged:
        addon = next(a for a in plan.of_type(ADDON) if a.inputs["addonName"] == pin["eks_addon"])
        values = json.loads(addon.inputs.get("configurationValues") or "{}")
        assert upstream.values_problems(pin["name"], values) == []


# -- the judge can refuse ----------------------------------------------------------------------


def _unknown_key(m):
    m["spec"]["refreshIntervall"] = "1h"


def _wrong_enum(m):
    m["spec"]["target"]["creationPolicy"] = "Owned"


def _wrong_type(m):
    m["spec"]["data"][0]["remoteRef"]["key"] = 42


def _missing_required(m):
    del m["spec"]["data"][0]["secretKey"]


def _unserved(m):
    m["apiVersion"] = "external-secrets.io/v1beta1"


def _unknown_version(m):
    m["apiVersion"] = "external-secrets.io/v2"


def _unknown_kind(m):
    m["kind"] = "ExternalSecrets"


def _metadata_not_an_object(m):
    m["metadata"] = "orders-secrets"


@pytest.mark.parametrize(
    ("breakage", "expected"),
    [
        (_unknown_key, "spec: Additional properties are not allowed ('refreshIntervall'"),
        (_wrong_enum, "spec.target.creationPolicy: 'Owned' is not one of ['Owner', 'Orphan'"),
        (_wrong_type, "spec.data.0.remoteRef.key: 42 is not of type 'string'"),
        (_missing_required, "spec.data.0: 'secretKey' is a required property"),
        (_unserved, "external-secrets.io/v1beta1 ExternalSecret is not served (served: v1)"),
        (_unknown_version, "external-secrets.io/v2 ExternalSecret is not served (served: v1)"),
        (_unknown_kind, "no vendored CRD for ExternalSecrets in group 'external-secrets.io'"),
        (_metadata_not_an_object, "metadata: 'orders-secrets' is not of type 'object'"),
    ],
)
def test_a_broken_external_secret_is_refused(plans, breakage, expected):
    broken = rendered(plans["dev"], "ExternalSecret")
    breakage(broken)
    problems = upstream.manifest_problems(broken)
    assert any(expected in p for p in problems), problems


def test_a_broken_volume_snapshot_class_is_refused(plans):
    wrong_enum = rendered(plans["prod"], "VolumeSnapshotClass")
    wrong_enum["deletionPolicy"] = "Keep"
    assert upstream.manifest_problems(wrong_enum) == [
        "VolumeSnapshotClass ebs-retain-prod: deletionPolicy: 'Keep' is not one of "
        "['Delete', 'Retain']"
    ]
    unserved = rendered(plans["prod"], "VolumeSnapshotClass")
    unserved["apiVersion"] = "snapshot.storage.k8s.io/v1beta1"
    assert upstream.manifest_problems(unserved) == [
        "VolumeSnapshotClass ebs-retain-prod: snapshot.storage.k8s.io/v1beta1 "
        "VolumeSnapshotClass is not served (served: v1)"
    ]
    misplaced = rendered(plans["prod"], "VolumeSnapshotClass")
    misplaced["spec"] = {"driver": "ebs.csi.aws.com"}
    assert upstream.manifest_problems(misplaced) == [
        "VolumeSnapshotClass ebs-retain-prod: (root): Additional properties are not allowed "
        "('spec' was unexpected)"
    ]


def test_a_namespaced_cluster_secret_store_is_refused(plans):
    store = rendered(plans["dev"], "ClusterSecretStore")
    store["metadata"]["namespace"] = "external-secrets"
    store["spec"]["provider"]["aws"]["service"] = "SecretManager"
    problems = upstream.manifest_problems(store)
    assert any("metadata.namespace: ClusterSecretStore is cluster-scoped" in p for p in problems)
    assert any(
        "'SecretManager' is not one of ['SecretsManager', 'ParameterStore']" in p for p in problems
    )


@pytest.mark.parametrize(
    ("chart", "values", "expected"),
    [
        ("external-secrets", {"installCRD": True}, "installCRD: no such key"),
        ("external-secrets", {"installCRDs": "yes"}, "installCRDs: 'yes' is not of type 'boolean'"),
        ("external-secrets", {"serviceAccount": {"nam": "x"}}, "serviceAccount.nam: no such key"),
        ("sealed-secrets", {"fullnameOveride": "x"}, "fullnameOveride: no such key"),
        ("sealed-secrets", {"rbac": True}, "rbac: the chart's default is dict"),
        ("aws-ebs-csi-driver", {"controler": {}}, "controler: no such key"),
        (
            "velero",
            {"configuration": {"backupStorageLocation": [{"provider": "aws"}]}},
            "configuration.backupStorageLocation.0: 'bucket' is a required property",
        ),
    ],
)
def test_broken_chart_values_are_refused(chart, values, expected):
    problems = upstream.values_problems(chart, values)
    assert any(expected in p for p in problems), problems


def test_free_form_maps_of_a_chart_take_any_key():
    """``resources.requests: {}`` in values.yaml is a map of the user's own keys."""
    assert (
        upstream.values_problems("sealed-secrets", {"resources": {"requests": {"cpu": "1"}}}) == []
    )
    ebs = {"controller": {"extraVolumeTags": {"team": "platform"}}}
    assert upstream.values_problems("aws-ebs-csi-driver", ebs) == []


def test_the_crds_cel_rules_judge_the_object_too():
    """Rules the OpenAPI schema cannot say are CEL (x-kubernetes-validations): evaluated, so
    a pre-bound content without its snapshot's namespace, or an empty class name, is refused."""
    content = {
        "apiVersion": "snapshot.storage.k8s.io/v1",
        "kind": "VolumeSnapshotContent",
        "metadata": {"name": "copy"},
        "spec": {
            "deletionPolicy": "Retain",
            "driver": "ebs.csi.aws.com",
            "source": {"snapshotHandle": "snap-0123"},
            "volumeSnapshotRef": {"name": "restored", "namespace": "orders"},
        },
    }
    assert upstream.manifest_problems(content) == []
    del content["spec"]["volumeSnapshotRef"]["namespace"]
    assert upstream.manifest_problems(content) == [
        "VolumeSnapshotContent copy: spec.volumeSnapshotRef: both "
        "spec.volumeSnapshotRef.name and spec.volumeSnapshotRef.namespace must be set"
    ]
    snapshot = {
        "apiVersion": "snapshot.storage.k8s.io/v1",
        "kind": "VolumeSnapshot",
        "metadata": {"name": "data-1", "namespace": "orders"},
        "spec": {"source": {"persistentVolumeClaimName": "data"}, "volumeSnapshotClassName": ""},
    }
    (problem,) = upstream.manifest_problems(snapshot)
    assert problem.startswith(
        "VolumeSnapshot orders/data-1: spec.volumeSnapshotClassName: volumeSnapshotClassName "
        "must not be the empty string"
    )
