"""Review artefacts: rendered YAML/JSON a pull request can diff, and a plan-to-plan summary."""

from __future__ import annotations

import json

import yaml

from tools import plan as plan_cli
from tools import review, transitions
from tools.offline import run_config
from tools.offline.manifests import manifests
from tools.transitions.changes import classify


def test_every_kubernetes_object_and_policy_document_is_rendered(plans, tmp_path):
    plan = plans["prod"]
    written = review.render(plan, tmp_path)
    kube = [p for p in written if p.parts[0] == "kubernetes"]
    k8s_resources = [r for r in plan if r.type.startswith("kubernetes:")]
    assert len(kube) == len(k8s_resources) == len(set(kube))
    for manifest in manifests(plan):
        meta = manifest["metadata"]
        path = (
            tmp_path
            / "kubernetes"
            / meta.get("namespace", "_cluster")
            / (f"{manifest['kind']}-{meta['name']}.yaml")
        )
        assert yaml.safe_load(path.read_text()) == manifest
    policy = tmp_path / "iam" / "envelope-policy.key-policy.json"
    assert json.loads(policy.read_text()) == json.loads(
        plan.one("aws:kms/keyPolicy:KeyPolicy").inputs["policy"]
    )
    trust = [p for p in written if p.name.endswith(".trust.json")]
    assert len(trust) == len(plan.of_type("aws:iam/role:Role"))


def test_rendering_is_stable_and_replaces_stale_files(plans, tmp_path):
    review.render(plans["dev"], tmp_path)
    first = {p: p.read_text() for p in tmp_path.rglob("*") if p.is_file()}
    stale = tmp_path / "kubernetes" / "gone" / "ConfigMap-old.yaml"
    stale.parent.mkdir(parents=True)
    stale.write_text("old")
    review.render(plans["dev"], tmp_path)
    assert {p: p.read_text() for p in tmp_path.rglob("*") if p.is_file()} == first


def test_scripts_render_as_readable_blocks(plans, tmp_path):
    review.render(plans["dev"], tmp_path)
    text = (
        tmp_path / "kubernetes" / "storage-snapshots" / "ConfigMap-snapshot-rotate-script.yaml"
    ).read_text()
    assert "snapshot_rotate.sh: |" in text


def test_diff_marks_what_is_created_updated_replaced_and_deleted(plans, dev_values):
    before = plans["dev"].document()
    apps = dev_values["eks-config-storage:apps"]
    apps[0]["config"]["LOG_LEVEL"] = "info"
    apps.pop(1)  # catalog goes away
    apps.append({"name": "billing"})
    after = run_config("dev", dev_values).document()
    listed = transitions.changes(before, after)
    found = {(c.action, c.type, c.name): c for c in listed}
    config_map = found[("replace", "kubernetes:core/v1:ConfigMap", "app-orders-config")]
    assert config_map.delete_first and config_map.fields == ("data",)
    assert ("create", "kubernetes:core/v1:Namespace", "app-billing-namespace") in found
    namespace = found[("delete", "kubernetes:core/v1:Namespace", "app-catalog-namespace")]
    assert namespace.consequence == "deletes every workload, Secret and PVC in it"
    added = [r for r in after["resources"] if r["name"].startswith("app-billing") and r["custom"]]
    # catalog is the stack's only Pod Identity workload: the agent goes with it.
    removed = [
        r
        for r in before["resources"]
        if r["name"].startswith(("app-catalog", "pod-identity")) and r["custom"]
    ]
    assert sum(c.action == "create" for c in listed) == len(added)
    assert sum(c.action == "delete" for c in listed) == len(removed)
    assert [c for c in listed if c.action == "update"] == [], "nothing else changes"


def test_identical_plans_have_no_changes(plans):
    document = plans["prod"].document()
    lines, judgement = transitions.report(document, document, transitions.Acknowledged())
    assert lines[0] == "0 to create, 0 to update in place, 0 to replace, 0 to delete"
    assert not judgement.violations


def test_cli_renders_and_diffs(tmp_path, capsys, plans):
    old = tmp_path / "old.json"
    old.write_text(json.dumps(plans["dev"].document()))
    out = tmp_path / "render"
    assert plan_cli.main(["dev", "--render", str(out), "--diff", str(old)]) == 0
    printed = capsys.readouterr().out
    assert "Review artefacts:" in printed
    assert "0 to create, 0 to update in place, 0 to replace, 0 to delete" in printed
    assert "Transition rules: PASS" in printed
    assert (out / "kubernetes" / "_cluster" / "StorageClass-gp3-ssd-dev-rwo.yaml").exists()


def test_a_binding_whose_role_changes_is_replaced_old_first():
    """Kubernetes refuses to change a binding's roleRef: a new role means a new binding."""

    def binding(role: str) -> dict:
        return {
            "type": "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding",
            "name": "app-orders-reader",
            "options": {},
            "inputs": {
                "metadata": {"name": "orders-reader", "namespace": "orders"},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": role},
            },
        }

    change = classify(binding("orders-reader"), binding("orders-writer"))
    assert (change.action, change.fields, change.delete_first) == ("replace", ("roleRef",), True)
    assert classify(binding("orders-reader"), binding("orders-reader")) is None
