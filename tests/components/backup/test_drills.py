"""Restore drills as each stack renders them: prod drills its daily policy weekly from a
restricted scratch namespace whose default account has no token, with the tested script, least
RBAC narrowed by an admission policy, and a CronJob that cannot overlap, pile up or stop
silently; dev has none."""

from __future__ import annotations

import shutil

import pytest

import jobs
from design import drills as design
from tests.support.admission import denials
from tests.support.drill_harness import claim, cluster, source
from tests.support.kube_harness import ScriptBin
from tests.support.plan_helpers import CRONJOB, VAP
from tools.offline import Plan, run_config

RBAC = "kubernetes:rbac.authorization.k8s.io/v1"


def drill_job(plan: Plan) -> dict:
    return plan.one(CRONJOB, "drills-weekly").inputs


def env_of(job: dict) -> dict[str, str]:
    (container,) = job["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    return {e["name"]: e["value"] for e in container["env"]}


def test_prod_drills_its_daily_policy_weekly(plans):
    job = drill_job(plans["prod"])
    assert job["metadata"]["name"] == "drill-weekly"
    assert job["metadata"]["namespace"] == "restore-drills"
    assert job["metadata"]["labels"][design.DRILL_LABEL] == "weekly"
    spec = job["spec"]
    assert spec["schedule"] == "30 4 * * 0"
    assert spec["concurrencyPolicy"] == "Forbid"
    assert (spec["successfulJobsHistoryLimit"], spec["failedJobsHistoryLimit"]) == (3, 5)
    assert spec["startingDeadlineSeconds"] == 3600
    assert spec["jobTemplate"]["spec"]["activeDeadlineSeconds"] == 1800 + 600
    assert spec["jobTemplate"]["spec"]["backoffLimit"] == 0
    image = env_of(job)["CHECK_IMAGE"]
    assert env_of(job) == {
        "DRILL": "weekly",
        "POLICY": "daily",
        "NAMESPACE": "restore-drills",
        "CRONJOB": "drill-weekly",
        "CHECK_IMAGE": image,
        "TIMEOUT_SECONDS": "1800",
        "POLL_SECONDS": "10",
        "POLICY_LABEL": "snapshots.eks-config-storage.io/policy",
        "HOME": "/tmp",
    }
    (container,) = spec["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    assert image == container["image"] and "@sha256:" in image  # the job's own, pinned image
    assert container["command"] == ["/bin/sh", "/scripts/restore_drill.sh"]


def test_dev_has_no_drills(plans):
    assert not [r for r in plans["dev"] if r.name.startswith("drills-")]


def test_the_scratch_namespace_is_restricted_and_its_default_account_has_no_token(plans):
    plan = plans["prod"]
    labels = plan.one("kubernetes:core/v1:Namespace", "drills-namespace").inputs["metadata"]
    assert labels["name"] == "restore-drills"
    assert labels["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    default = plan.one("kubernetes:core/v1:ServiceAccountPatch", "drills-default-sa").inputs
    assert default["automountServiceAccountToken"] is False


def test_rbac_is_what_the_script_uses_and_no_more(plans):
    plan = plans["prod"]
    role = plan.one(f"{RBAC}:Role", "drills-role").inputs
    assert role["metadata"]["namespace"] == "restore-drills"
    assert role["rules"] == [
        {"apiGroups": [""], "resources": ["pods"], "verbs": ["create", "delete", "get"]},
        {"apiGroups": [""], "resources": ["persistentvolumeclaims"], "verbs": ["create", "delete"]},
        {
            "apiGroups": ["snapshot.storage.k8s.io"],
            "resources": ["volumesnapshots"],
            "verbs": ["create", "delete", "get", "list", "watch"],
        },
        {
            "apiGroups": ["batch"],
            "resources": ["cronjobs"],
            "resourceNames": ["drill-weekly"],
            "verbs": ["patch"],
        },
    ]
    cluster_role = plan.one(f"{RBAC}:ClusterRole", "drills-cluster-role").inputs
    assert cluster_role["rules"] == [
        {
            "apiGroups": ["snapshot.storage.k8s.io"],
            "resources": ["volumesnapshots"],
            "verbs": ["list"],
        },
        {"apiGroups": [""], "resources": ["persistentvolumeclaims"], "verbs": ["get"]},
        {
            "apiGroups": ["snapshot.storage.k8s.io"],
            "resources": ["volumesnapshotcontents"],
            "verbs": ["create", "delete", "get"],
        },
        {"apiGroups": [""], "resources": ["persistentvolumes"], "verbs": ["patch"]},
    ]
    account = {"kind": "ServiceAccount", "name": "restore-drill", "namespace": "restore-drills"}
    for kind, name in (
        ("RoleBinding", "drills-role"),
        ("ClusterRoleBinding", "drills-cluster-role"),
    ):
        binding = plan.one(f"{RBAC}:{kind}", name)
        assert binding.inputs["subjects"] == [account]
        assert plan.depends_on(plan.one(CRONJOB, "drills-weekly"), binding)


def test_an_admission_policy_narrows_what_names_cannot(plans):
    plan = plans["prod"]
    policy = plan.one(f"{VAP}:ValidatingAdmissionPolicy", "drills-scope").inputs
    spec = policy["spec"]
    assert spec["failurePolicy"] == "Fail"
    assert spec["matchConditions"] == [
        {
            "name": "restore-drill-account",
            "expression": "request.userInfo.username == "
            "'system:serviceaccount:restore-drills:restore-drill'",
        }
    ]
    rules = {
        (tuple(r["resources"]), tuple(r["operations"]))
        for r in spec["matchConstraints"]["resourceRules"]
    }
    assert rules == {
        (("persistentvolumes",), ("UPDATE",)),
        (("volumesnapshotcontents",), ("CREATE", "DELETE")),
    }
    expressions = [v["expression"] for v in spec["validations"]]
    assert "oldObject.spec.claimRef.namespace == 'restore-drills'" in expressions[0]
    for expression, side in zip(expressions[1:], ("object", "oldObject"), strict=True):
        assert f"{side}.spec.deletionPolicy == 'Retain'" in expression
        assert f"'{design.DRILL_LABEL}' in {side}.metadata.labels" in expression
    binding = plan.one(f"{VAP}:ValidatingAdmissionPolicyBinding", "drills-scope")
    assert binding.inputs["spec"] == {
        "policyName": "restore-drill-scope",
        "validationActions": ["Deny"],
    }
    assert plan.depends_on(plan.one(CRONJOB, "drills-weekly"), binding)


DRILL = "system:serviceaccount:restore-drills:restore-drill"


def copy_content(policy: str, labelled: bool = True) -> dict:
    labels = {design.DRILL_LABEL: "weekly"} if labelled else {}
    return {
        "metadata": {"name": "drill-copy", "labels": labels},
        "spec": {"deletionPolicy": policy, "source": {"snapshotHandle": "snap-1"}},
    }


def volume(claim_namespace: str, policy: str = "Retain") -> dict:
    return {
        "metadata": {"name": "pv-1"},
        "spec": {
            "claimRef": {"namespace": claim_namespace, "name": "check"},
            "persistentVolumeReclaimPolicy": policy,
        },
    }


CONTENTS, VOLUMES = "volumesnapshotcontents", "persistentvolumes"
DRILL_REQUESTS = {
    "create a Retain copy": (("CREATE", CONTENTS, None, copy_content("Retain")), True),
    "create a Delete copy": (("CREATE", CONTENTS, None, copy_content("Delete")), False),
    "create an unlabelled copy": (("CREATE", CONTENTS, None, copy_content("Retain", False)), False),
    "delete its Retain copy": (("DELETE", CONTENTS, copy_content("Retain"), None), True),
    "delete a Delete content": (("DELETE", CONTENTS, copy_content("Delete"), None), False),
    "delete someone's content": (("DELETE", CONTENTS, copy_content("Retain", False), None), False),
    "release its own volume": (
        ("UPDATE", VOLUMES, volume("restore-drills"), volume("restore-drills", "Delete")),
        True,
    ),
    "release an app's volume": (
        ("UPDATE", VOLUMES, volume("orders"), volume("orders", "Delete")),
        False,
    ),
    "move a claim": (("UPDATE", VOLUMES, volume("restore-drills"), volume("orders")), False),
}


@pytest.mark.parametrize("case", list(DRILL_REQUESTS))
def test_the_admission_policy_admits_exactly_the_drills_own_changes(plans, case):
    """The policy's own CEL, evaluated: what the drill does passes, anything broader fails."""
    spec = plans["prod"].one(f"{VAP}:ValidatingAdmissionPolicy", "drills-scope").inputs["spec"]
    (operation, resource, old, new), admitted = DRILL_REQUESTS[case]
    request = {"operation": operation, "resource": resource, "old": old, "new": new}
    assert (denials(spec, username=DRILL, **request) == []) is admitted
    # Anyone else's requests are not this policy's to judge.
    assert denials(spec, username="system:serviceaccount:velero:velero-server", **request) == []


def test_jobs_run_the_tested_script(plans):
    config_map = plans["prod"].one("kubernetes:core/v1:ConfigMap", "drills-script")
    assert config_map.inputs["data"] == {design.SCRIPT_KEY: jobs.script(design.SCRIPT_KEY)}


def test_each_drill_gets_its_job_and_may_record_only_on_it(dev_values):
    dev_values["eks-config-storage:restoreDrills"] = [
        {"name": "weekly", "policy": "daily", "schedule": "30 4 * * 0"},
        {"name": "monthly", "policy": "daily", "schedule": "0 5 1 * *", "timeoutSeconds": 3600},
    ]
    plan = run_config("dev", dev_values)
    jobs = {r.inputs["metadata"]["name"]: r.inputs for r in plan.of_type(CRONJOB)}
    assert env_of(jobs["drill-monthly"])["TIMEOUT_SECONDS"] == "3600"
    assert jobs["drill-monthly"]["spec"]["jobTemplate"]["spec"]["activeDeadlineSeconds"] == 4200
    role = plan.one(f"{RBAC}:Role", "drills-role").inputs
    assert role["rules"][-1]["resourceNames"] == ["drill-monthly", "drill-weekly"]
    reconciler = jobs["storage-policy-reconcile"]
    assert env_of(reconciler)["EXEMPT_NAMESPACES"] == "restore-drills"


@pytest.mark.skipif(shutil.which("sh") is None, reason="no POSIX sh")
def test_the_script_accepts_the_environment_prod_renders(plans, tmp_path):
    env = {k: v for k, v in env_of(drill_job(plans["prod"])).items() if k != "HOME"}
    state = cluster(
        [source("orders", "data-daily-1", "2026-11-26T02:00:00Z")], claims=[claim("orders", "data")]
    )
    result = ScriptBin(tmp_path, [shutil.which("sh")]).execute(
        design.SCRIPT_KEY, state, env, clock=1795748400
    )
    assert result.returncode == 0, result.stderr
    assert "orders/data-daily-1" in result.state["cronjobs"][0]["annotations"][design.LAST_DRILL]
