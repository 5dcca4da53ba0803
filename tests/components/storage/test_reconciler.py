"""The storage policy reconciler as each stack renders it: one hourly CronJob in the snapshot
namespace that maps every class (retired ones too) to the policy it reclaims with and the
stack's snapshot classes to its deletionPolicy, runs the tested script with exactly the RBAC it
uses, and cannot overlap, pile up or stop silently."""

from __future__ import annotations

import shutil

import pytest

import jobs
from config import rules
from design import reconciler as design
from tests.support.kube_harness import ScriptBin
from tests.support.plan_helpers import typed
from tools.offline import Plan, run_config

CRONJOB = "kubernetes:batch/v1:CronJob"
EXPECTED = {
    "dev": {
        "CLASS_POLICIES": "efs-burst-dev-rwx=Delete,gp3-ssd-dev-rwo=Delete",
        "SNAPSHOT_CLASSES": "ebs-retain-dev,ebs-delete-dev",
        "SNAPSHOT_DELETION_POLICY": "Delete",
        "HOME": "/tmp",
    },
    "prod": {
        "CLASS_POLICIES": (
            "efs-elastic-prod-rwx=Retain,gp3-ssd-prod-rwo=Retain,io2-ssd-db-prod-rwo=Retain"
        ),
        "SNAPSHOT_CLASSES": "ebs-retain-prod,ebs-delete-prod",
        "SNAPSHOT_DELETION_POLICY": "Retain",
        "EXEMPT_NAMESPACES": "restore-drills",
        "HOME": "/tmp",
    },
}


def reconciler(plan: Plan) -> dict:
    return plan.one(CRONJOB, "storage-policy-cronjob").inputs


def env_of(job: dict) -> dict[str, str]:
    (container,) = job["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    return {e["name"]: e["value"] for e in container["env"]}


def test_every_class_and_the_snapshot_policy_are_mapped(plan):
    cfg = typed(plan.stack)
    job = reconciler(plan)
    assert job["metadata"]["name"] == "storage-policy-reconcile"
    assert job["metadata"]["namespace"] == cfg.snapshots.namespace
    env = env_of(job)
    mapped = dict(pair.split("=") for pair in env["CLASS_POLICIES"].split(","))
    catalog = [name for name, _ in rules.storage_catalog(cfg)]
    assert sorted(mapped) == sorted([*catalog, *(r.name for r in cfg.storage.retired_classes)])
    assert set(mapped.values()) <= {"Retain", "Delete"}
    assert env["SNAPSHOT_DELETION_POLICY"] == cfg.snapshots.deletion_policy


def test_the_examples_map_their_own_classes(example_plan):
    assert env_of(reconciler(example_plan)) == EXPECTED[example_plan.stack]


def test_it_runs_hourly_without_overlap_with_bounded_history(plan):
    spec = reconciler(plan)["spec"]
    assert spec["schedule"] == "40 * * * *"
    assert spec["concurrencyPolicy"] == "Forbid"
    assert (spec["successfulJobsHistoryLimit"], spec["failedJobsHistoryLimit"]) == (3, 5)
    assert spec["startingDeadlineSeconds"] == 3600
    assert spec["jobTemplate"]["spec"]["activeDeadlineSeconds"] == 1800


def test_pod_is_restricted_and_runs_the_tested_script(plan):
    pod = reconciler(plan)["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == "storage-policy-reconciler"
    assert pod["securityContext"] == {
        "runAsNonRoot": True,
        "runAsUser": 65532,
        "runAsGroup": 65532,
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    (container,) = pod["containers"]
    assert container["command"] == ["/bin/sh", "/scripts/storage_policy_reconcile.sh"]
    assert container["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
        "capabilities": {"drop": ["ALL"]},
    }
    script = plan.one("kubernetes:core/v1:ConfigMap", "storage-policy-script")
    assert script.inputs["data"] == {design.SCRIPT_KEY: jobs.script(design.SCRIPT_KEY)}
    assert pod["volumes"][0]["configMap"]["name"] == script.inputs["metadata"]["name"]


def test_rbac_is_list_and_patch_on_pvs_and_contents_only(plan):
    role = plan.one("kubernetes:rbac.authorization.k8s.io/v1:ClusterRole", "storage-policy-role")
    assert role.inputs["rules"] == [
        {"apiGroups": [""], "resources": ["persistentvolumes"], "verbs": ["list", "patch"]},
        {
            "apiGroups": ["snapshot.storage.k8s.io"],
            "resources": ["volumesnapshotcontents"],
            "verbs": ["list", "patch"],
        },
    ]
    binding = plan.one(
        "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding", "storage-policy-binding"
    )
    assert binding.inputs["roleRef"]["name"] == role.inputs["metadata"]["name"]
    assert binding.inputs["subjects"] == [
        {
            "kind": "ServiceAccount",
            "name": "storage-policy-reconciler",
            "namespace": "storage-snapshots",
        }
    ]
    assert plan.depends_on(plan.one(CRONJOB, "storage-policy-cronjob"), binding)


def test_retired_classes_and_a_promotion_reach_the_job(dev_values):
    storage = dev_values["eks-config-storage:storage"]
    storage["reclaimPolicy"] = "Retain"
    storage["retiredClasses"] = [
        {
            "name": "gp3-ssd-old-dev-rwo",
            "backing": "gp3",
            "access": "rwo",
            "reclaimPolicy": "Delete",
        }
    ]
    dev_values["eks-config-storage:snapshots"]["deletionPolicy"] = "Retain"
    env = env_of(reconciler(run_config("dev", dev_values)))
    assert env["CLASS_POLICIES"] == (
        "efs-burst-dev-rwx=Retain,gp3-ssd-dev-rwo=Retain,gp3-ssd-old-dev-rwo=Delete"
    )
    assert env["SNAPSHOT_DELETION_POLICY"] == "Retain"


@pytest.mark.skipif(shutil.which("sh") is None, reason="no POSIX sh")
def test_the_script_accepts_the_environment_each_stack_renders(plan, tmp_path):
    env = {k: v for k, v in env_of(reconciler(plan)).items() if k != "HOME"}
    class_name, _, policy = env["CLASS_POLICIES"].split(",")[0].partition("=")
    other = "Retain" if policy == "Delete" else "Delete"
    volume = {
        "name": "pv-1",
        "storageClassName": class_name,
        "reclaimPolicy": other,
        "phase": "Bound",
        "claimRef": {"namespace": "orders", "name": "data-orders-0"},
        "volumeHandle": "vol-1",
    }
    result = ScriptBin(tmp_path, [shutil.which("sh")]).execute(
        design.SCRIPT_KEY, {"pvs": [volume], "volumes": ["vol-1"]}, env
    )
    assert result.returncode == 0, result.stderr
    assert result.state["pvs"][0]["reclaimPolicy"] == policy
