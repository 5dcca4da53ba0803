"""Snapshots as code: a default VolumeSnapshotClass per environment, and per policy a CronJob
that cannot overlap, keeps bounded history, runs non-root with least-privilege RBAC, and runs
the very script the offline tests exercise."""

from __future__ import annotations

import pytest

import jobs
from config import rules
from config.schedules import longest_gap
from config.schema import SnapshotPolicy
from design.snapshots import POLICY_LABEL
from tests.support.plan_helpers import typed
from tools.offline import Plan, run_config

CRONJOB = "kubernetes:batch/v1:CronJob"
SNAPSHOT_CLASS = "kubernetes:snapshot.storage.k8s.io/v1:VolumeSnapshotClass"


def policies(plan: Plan) -> list[SnapshotPolicy]:
    return list(typed(plan.stack).snapshots.policies)


def cron_jobs(plan: Plan) -> dict[str, dict]:
    """The snapshot policies' CronJobs (the reconciler and drills have their own tests)."""
    return {
        r.inputs["metadata"]["name"]: r.inputs
        for r in plan.of_type(CRONJOB)
        if POLICY_LABEL in r.inputs["metadata"]["labels"]
    }


def env_of(job: dict) -> dict[str, str]:
    (container,) = job["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    return {e["name"]: e["value"] for e in container["env"]}


@pytest.mark.parametrize(
    ("stack", "name", "policy"),
    [("dev", "ebs-delete-dev", "Delete"), ("prod", "ebs-retain-prod", "Retain")],
)
def test_default_snapshot_class_per_environment(plans, stack, name, policy):
    snapshot_class = plans[stack].one(SNAPSHOT_CLASS).inputs
    assert snapshot_class["metadata"]["name"] == name
    assert snapshot_class["driver"] == "ebs.csi.aws.com"
    assert snapshot_class["deletionPolicy"] == policy
    assert snapshot_class["metadata"]["annotations"] == {
        "snapshot.storage.kubernetes.io/is-default-class": "true"
    }


def test_snapshot_controller_addon_is_installed(plan):
    names = [a.inputs["addonName"] for a in plan.of_type("aws:eks/addon:Addon")]
    assert "snapshot-controller" in names


def test_one_cron_job_per_policy_with_its_generation_limit(plan):
    jobs = cron_jobs(plan)
    assert sorted(jobs) == sorted(f"snapshot-{p.name}" for p in policies(plan))
    snapshot_class = plan.one(SNAPSHOT_CLASS).inputs["metadata"]["name"]
    covered = rules.classes_by_policy(typed(plan.stack))
    for policy in policies(plan):
        job = jobs[f"snapshot-{policy.name}"]
        assert job["spec"]["schedule"] == policy.schedule
        env = env_of(job)
        assert sorted(env.pop("CLASSES", "").split(",")) == sorted(covered.get(policy.name, [""]))
        assert env == {
            "POLICY": policy.name,
            "SELECTOR": f"{POLICY_LABEL}={policy.name}",
            "KNOWN_POLICIES": ",".join(p.name for p in policies(plan)),
            "KEEP": str(policy.keep),
            **({"MAX_AGE_SECONDS": str(policy.max_age_seconds)} if policy.max_age else {}),
            "ORPHAN_MAX_AGE_SECONDS": str(
                policy.max_age_seconds
                or policy.keep * int(longest_gap(policy.schedule).total_seconds())
            ),
            "SNAPSHOT_CLASS": snapshot_class,
            "READY_TIMEOUT": f"{policy.ready_timeout_seconds}s",
            "POLICY_LABEL": POLICY_LABEL,
            "HOME": "/tmp",
        }
        assert int(env["KEEP"]) >= 1


def test_the_example_classes_are_covered_by_their_policies(example_plans):
    """The shipped prod stack names its daily policy on both EBS classes (the example's values)."""
    env = env_of(cron_jobs(example_plans["prod"])["snapshot-daily"])
    assert env["CLASSES"] == "gp3-ssd-prod-rwo,io2-ssd-db-prod-rwo"
    assert "CLASSES" not in env_of(cron_jobs(example_plans["dev"])["snapshot-daily"])


def test_max_age_reaches_the_job_in_seconds(dev_values):
    dev_values["eks-config-storage:snapshots"]["policies"] = [
        {"name": "daily", "schedule": "0 3 * * *", "keep": 7, "maxAge": "36h"},
        {"name": "weekly", "schedule": "0 4 * * 0", "keep": 4, "maxAge": "8w"},
        {"name": "hourly", "schedule": "15 * * * *", "keep": 24},
    ]
    jobs = cron_jobs(run_config("dev", dev_values))
    assert env_of(jobs["snapshot-daily"])["MAX_AGE_SECONDS"] == "129600"
    assert env_of(jobs["snapshot-weekly"])["MAX_AGE_SECONDS"] == str(8 * 7 * 86400)
    assert "MAX_AGE_SECONDS" not in env_of(jobs["snapshot-hourly"])
    # Orphans keep the life rotation would have given them: maxAge, else keep runs.
    assert env_of(jobs["snapshot-daily"])["ORPHAN_MAX_AGE_SECONDS"] == "129600"
    assert env_of(jobs["snapshot-weekly"])["ORPHAN_MAX_AGE_SECONDS"] == str(8 * 7 * 86400)
    assert env_of(jobs["snapshot-hourly"])["ORPHAN_MAX_AGE_SECONDS"] == str(24 * 3600)


def test_jobs_never_overlap_and_history_is_bounded(plan):
    for job in cron_jobs(plan).values():
        spec = job["spec"]
        assert spec["concurrencyPolicy"] == "Forbid"
        assert 0 < spec["successfulJobsHistoryLimit"] <= 5
        assert 0 < spec["failedJobsHistoryLimit"] <= 5
        assert spec["startingDeadlineSeconds"] > 0, "missed runs must not stop the schedule"
        assert spec["jobTemplate"]["spec"]["backoffLimit"] <= 3
        assert spec["jobTemplate"]["spec"]["activeDeadlineSeconds"] > 0


def test_pods_run_non_root_read_only_and_bounded(plan):
    for job in cron_jobs(plan).values():
        pod = job["spec"]["jobTemplate"]["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["runAsUser"] != 0
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        (container,) = pod["containers"]
        assert container["securityContext"] == {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "runAsNonRoot": True,
            "capabilities": {"drop": ["ALL"]},
        }
        assert set(container["resources"]) == {"requests", "limits"}
        assert {"cpu", "memory"} <= set(container["resources"]["limits"])
        assert all("hostPath" not in volume for volume in pod["volumes"])
        assert pod["serviceAccountName"] == "snapshot-rotator"


def test_rotator_rbac_is_exactly_what_the_script_uses(plan):
    role = plan.one("kubernetes:rbac.authorization.k8s.io/v1:ClusterRole", "snapshots-rotator")
    assert role.inputs["rules"] == [
        {"apiGroups": [""], "resources": ["persistentvolumeclaims"], "verbs": ["get", "list"]},
        {
            "apiGroups": ["snapshot.storage.k8s.io"],
            "resources": ["volumesnapshots"],
            "verbs": ["create", "delete", "get", "list", "watch"],
        },
        {
            "apiGroups": ["snapshot.storage.k8s.io"],
            "resources": ["volumesnapshotcontents"],
            "verbs": ["delete", "get", "list", "patch"],
        },
    ]
    binding = plan.one(
        "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding", "snapshots-rotator"
    )
    assert binding.inputs["roleRef"]["name"] == role.inputs["metadata"]["name"]
    assert binding.inputs["subjects"] == [
        {"kind": "ServiceAccount", "name": "snapshot-rotator", "namespace": "storage-snapshots"}
    ]
    for job in plan.of_type(CRONJOB):
        if POLICY_LABEL in job.inputs["metadata"]["labels"]:
            assert plan.depends_on(job, binding)


def test_jobs_run_the_tested_script(plan):
    config_map = plan.one("kubernetes:core/v1:ConfigMap", "snapshots-script")
    assert config_map.inputs["data"] == {"snapshot_rotate.sh": jobs.script("snapshot_rotate.sh")}
    for job in cron_jobs(plan).values():
        pod = job["spec"]["jobTemplate"]["spec"]["template"]["spec"]
        assert pod["containers"][0]["command"] == ["/bin/sh", "/scripts/snapshot_rotate.sh"]
        assert pod["volumes"][0]["configMap"]["name"] == config_map.inputs["metadata"]["name"]


def test_snapshot_namespace_enforces_restricted_pod_security(plan):
    namespace = plan.one("kubernetes:core/v1:Namespace", "snapshots-namespace")
    labels = namespace.inputs["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"


def test_class_protection_reaches_its_policies_jobs_retired_classes_too(dev_values):
    storage = dev_values["eks-config-storage:storage"]
    storage["classes"][0]["protection"] = {"snapshotPolicies": ["daily"]}
    storage["retiredClasses"] = [
        {
            "name": "gp3-ssd-old-dev-rwo",
            "backing": "gp3",
            "access": "rwo",
            "protection": {"snapshotPolicies": ["weekly", "daily"]},
        }
    ]
    dev_values["eks-config-storage:snapshots"]["policies"] += [
        {"name": "weekly", "schedule": "0 4 * * 0", "keep": 4},
        {"name": "hourly", "schedule": "15 * * * *", "keep": 24},
    ]
    jobs = cron_jobs(run_config("dev", dev_values))
    assert env_of(jobs["snapshot-daily"])["CLASSES"] == "gp3-ssd-dev-rwo,gp3-ssd-old-dev-rwo"
    assert env_of(jobs["snapshot-weekly"])["CLASSES"] == "gp3-ssd-old-dev-rwo"
    assert "CLASSES" not in env_of(jobs["snapshot-hourly"])


def test_without_policies_the_namespace_stays_and_no_rotator_is_made(dev_values):
    dev_values["eks-config-storage:snapshots"]["policies"] = []
    plan = run_config("dev", dev_values)
    assert [name for name in cron_jobs(plan) if name.startswith("snapshot-")] == []
    accounts = {
        r.inputs["metadata"]["name"] for r in plan.of_type("kubernetes:core/v1:ServiceAccount")
    }
    assert "snapshot-rotator" not in accounts
    namespace = plan.one("kubernetes:core/v1:Namespace", "snapshots-namespace")
    assert namespace.inputs["metadata"]["name"] == "storage-snapshots"
