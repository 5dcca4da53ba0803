"""policies/rules/lifecycle.py, what is kept and for how long: backups, protection, generations,
retained data, pins. For every rule a compliant and a violating case."""

from __future__ import annotations

import pytest

from policies.rules import lifecycle
from tests.support.rule_subjects import (
    DEV,
    PROD,
    assert_resource_cases,
    assert_stack_cases,
    deployment,
    drill_job,
    efs_class,
    k8s,
    protected,
    reconciler_job,
    snapshot_job,
    storage_class,
    subject,
    velero_schedule,
)

DIGEST = "sha256:" + "ab" * 32


# rule name -> (settings, compliant subjects, violating subjects, expected text in a violation)
CASES = {
    "backup-ttl-bounded": (
        DEV,
        [velero_schedule("720h"), velero_schedule("1h"), velero_schedule("8760h0m0s")],
        [
            velero_schedule(None),
            velero_schedule("0h"),
            velero_schedule("8761h"),
            velero_schedule("30d"),
        ],
        "TTL",
    ),
    "storage-class-protected": (
        PROD,
        [
            storage_class("gp3-ssd-prod-rwo", metadata=protected("snapshot-policies", "daily")),
            storage_class("gp3-ssd-prod-rwo", metadata=protected("backup-schedule", "nightly")),
            storage_class("gp3-ssd-prod-rwo", metadata=protected("unprotected-reason", "scratch")),
            efs_class("efs-burst-prod-rwx", metadata=protected("aws-backup", "true")),
        ],
        [storage_class("gp3-ssd-prod-rwo"), efs_class("efs-burst-prod-rwx")],
        "protection",
    ),
    "snapshot-generation-limit": (
        DEV,
        [snapshot_job(), snapshot_job(max_age="129600"), reconciler_job(), drill_job()],
        [
            snapshot_job(keep=""),
            snapshot_job(keep="0"),
            snapshot_job(max_age="60"),
            snapshot_job(max_age="36h"),
            snapshot_job(known="weekly"),
            snapshot_job(concurrencyPolicy="Allow"),
            snapshot_job(successfulJobsHistoryLimit=100),
            snapshot_job(startingDeadlineSeconds=None),
            reconciler_job(concurrencyPolicy="Allow"),
            reconciler_job(failedJobsHistoryLimit=None),
            reconciler_job(startingDeadlineSeconds=None),
            drill_job(concurrencyPolicy="Replace"),
            drill_job(successfulJobsHistoryLimit=0),
            drill_job(startingDeadlineSeconds=None),
            drill_job(deadline=1800),  # killed at its timeout, it could not clean up
            drill_job(deadline=None),
            drill_job(timeout=""),
        ],
        "",
    ),
    "production-retains-data": (
        PROD,
        [
            storage_class("gp3-ssd-prod-rwo", reclaimPolicy="Retain"),
            k8s("VolumeSnapshotClass", "snapshot.storage.k8s.io/v1", {"deletionPolicy": "Retain"}),
            subject("aws:efs/backupPolicy:BackupPolicy", {"backupPolicy": {"status": "ENABLED"}}),
            reconciler_job("gp3-ssd-prod-rwo=Retain,efs-elastic-prod-rwx=Retain"),
        ],
        [
            storage_class("gp3-ssd-prod-rwo"),
            k8s("VolumeSnapshotClass", "snapshot.storage.k8s.io/v1", {"deletionPolicy": "Delete"}),
            subject("aws:efs/backupPolicy:BackupPolicy", {"backupPolicy": {"status": "DISABLED"}}),
            # Existing PVs or contents of a production stack would stay deletable.
            reconciler_job("gp3-ssd-prod-rwo=Retain,efs-elastic-prod-rwx=Delete"),
            reconciler_job(snapshot="Delete"),
        ],
        "production",
    ),
    "versions-pinned": (
        DEV,
        [
            subject("kubernetes:helm.sh/v3:Release", {"chart": "c", "version": "1.2.3"}),
            subject("aws:eks/addon:Addon", {"addonName": "a", "addonVersion": "v1.0.0-eksbuild.1"}),
            deployment(),
        ],
        [
            subject("kubernetes:helm.sh/v3:Release", {"chart": "c", "version": "^1.2"}),
            subject("kubernetes:helm.sh/v3:Release", {"chart": "c"}),
            subject("aws:eks/addon:Addon", {"addonName": "a"}),
            deployment(image="nginx:latest"),
            deployment(image="nginx"),
        ],
        "pin",
    ),
}


# stack rule name -> (settings, compliant stacks, violating stacks, expected text in a violation)
STACK_CASES = {
    "protected-stack-state": (
        PROD,
        [[subject("aws:kms/key:Key", {}, "k", protect=True)]],
        [[subject("aws:efs/fileSystem:FileSystem", {}, "fs", protect=False)]],
        "holds state but is not protected",
    ),
}


def test_every_resource_rule_has_cases():
    assert set(CASES) == {r.name for r in lifecycle.RESOURCE_RULES}


@pytest.mark.parametrize("rule", lifecycle.RESOURCE_RULES, ids=lambda r: r.name)
def test_rule_passes_compliant_and_flags_violating_resources(rule):
    assert_resource_cases(rule, CASES[rule.name])


def test_every_stack_rule_has_cases():
    assert set(STACK_CASES) == {r.name for r in lifecycle.STACK_RULES}


@pytest.mark.parametrize("rule", lifecycle.STACK_RULES, ids=lambda r: r.name)
def test_stack_rule_passes_compliant_and_flags_violating_stacks(rule):
    assert_stack_cases(rule, STACK_CASES[rule.name])


def test_protected_stack_rule():
    (rule,) = [r for r in lifecycle.STACK_RULES if r.name == "protected-stack-state"]
    key = subject("aws:kms/key:Key", {}, "k", protect=True)
    fs = subject("aws:efs/fileSystem:FileSystem", {}, "fs", protect=False)
    assert list(rule.check([key, fs], PROD)) == [
        (fs.urn, "aws:efs/fileSystem:FileSystem fs holds state but is not protected")
    ]
    assert list(rule.check([key, fs], DEV)) == []


def test_production_images_are_pinned_by_digest_and_tags_pass_elsewhere():
    rule = next(r for r in lifecycle.RESOURCE_RULES if r.name == "versions-pinned")
    tagged = deployment(image="registry.example/app:1.2.3")
    pinned = deployment(image=f"registry.example/app:1.2.3@{DIGEST}")
    assert list(rule.check(tagged, DEV)) == []
    assert list(rule.check(pinned, DEV)) == list(rule.check(pinned, PROD)) == []
    assert list(rule.check(tagged, PROD)) == [
        "image 'registry.example/app:1.2.3' must be pinned by digest in production: get its "
        "digest with `crane digest <image>` and write name:tag@sha256:<digest>"
    ]
    assert list(rule.check(deployment(image="app@sha256:short"), PROD))
