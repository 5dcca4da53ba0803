"""Every change to protection in a protected stack is judged (day-2 review N1, N6, N13, N14, N18,
N19, N44, N47): the diff fails naming the acknowledgement and saying what goes, and accepted,
turning backups off leaves the bucket with every guard rail."""

from __future__ import annotations

import pytest

from tests.support.day2_changes import head, judged
from tools.transitions.protection import protected_stack

NS = "eks-config-storage"


def backups_off(values: dict) -> None:
    values[f"{NS}:backups"] = {"enabled": False}
    for cls in values[f"{NS}:storage"]["classes"]:
        (cls.get("protection") or {}).pop("backupSchedule", None)


def namespace_of(key: str, namespace: str):
    def change(values: dict) -> None:
        values[f"{NS}:{key}"] = {**values.get(f"{NS}:{key}", {}), "namespace": namespace}

    return change


def policy(name: str, **fields):
    def change(values: dict) -> None:
        for p in values[f"{NS}:snapshots"]["policies"]:
            if p["name"] == name:
                p.update(fields)

    return change


def io2_unprotected(values: dict) -> None:
    """N18: the io2 class's protection replaced by a reason."""
    io2 = next(c for c in values[f"{NS}:storage"]["classes"] if c["backing"] == "io2")
    io2["protection"] = {"reason": "the database replicates itself across zones"}


def hourly_dropped_from_classes(values: dict) -> None:
    """N19: the EBS classes keep only the daily policy."""
    for cls in values[f"{NS}:storage"]["classes"]:
        if "snapshotPolicies" in (cls.get("protection") or {}):
            cls["protection"]["snapshotPolicies"] = ["daily"]


CASES = [
    ("N1 backups off", backups_off, "backups.enabled", ["turning backups off uninstalls Velero"]),
    (
        "N6 Velero's namespace",
        namespace_of("backups", "velero-system"),
        "backups.namespace",
        ["velero -> velero-system: Helm refuses", "ClusterRoleBinding velero-server"],
    ),
    (
        "N47 Sealed Secrets' namespace",
        namespace_of("sealedSecrets", "sealed-secrets"),
        "sealedSecrets.namespace",
        ["kube-system -> sealed-secrets", "restored from escrow", "Move a controller"],
    ),
    (
        "N14 daily keep cut",
        policy("daily", keep=7),
        "snapshots.retention",
        ["daily: keep 14 -> 7, the next run deletes up to 7 generations per PVC"],
    ),
    (
        "N13 daily maxAge set",
        policy("daily", maxAge="8d"),
        "snapshots.retention",
        ["daily: maxAge nones -> 691200s"],
    ),
    (
        "N18 io2 protection replaced by a reason",
        io2_unprotected,
        "storage.protection",
        [
            "class io2-ssd-db-prod-rwo leaves policy daily",
            "class io2-ssd-db-prod-rwo leaves policy hourly",
            "class io2-ssd-db-prod-rwo leaves Velero schedule nightly",
            # Keep runs of each (daily keep 14, hourly keep 24): then they go.
            "stay restorable until 14d old, then the daily rotator prunes them",
            "stay restorable until 1d old, then the hourly rotator prunes them",
        ],
    ),
    (
        "N19 hourly dropped from the classes",
        hourly_dropped_from_classes,
        "storage.protection",
        ["class gp3-ssd-prod-rwo leaves policy hourly", "class io2-ssd-db-prod-rwo leaves"],
    ),
    (
        "N44 log retention cut",
        lambda v: v.update({f"{NS}:logRetentionDays": 180}),
        "logRetentionDays",
        ["365 -> 180 days", "irreversibly"],
    ),
]


@pytest.mark.parametrize(("case", "change", "key", "says"), CASES, ids=[c[0] for c in CASES])
def test_a_change_to_protection_needs_its_acknowledgement_and_says_what_goes(
    plans, case, change, key, says
):
    values = head("prod", change)
    lines, judgement = judged(plans["prod"], "prod", values)
    (found,) = [v for v in judgement.violations if v.subject == key]
    assert found.key == "acknowledge.settings", "\n".join(lines)
    for words in says:
        assert words in found.message, found.message
    acknowledge = {"reason": f"day-2 review {case}", "settings": [key]}
    deletes = [v.subject for v in judgement.violations if v.key == "acknowledge.deletes"]
    if deletes:
        acknowledge["deletes"] = deletes
    values[f"{NS}:acknowledge"] = acknowledge
    _, accepted = judged(plans["prod"], "prod", values)
    assert [v.subject for v in accepted.violations] == []


def test_backups_off_leaves_the_bucket_whole(plans):
    values = head("prod", backups_off)
    _, judgement = judged(plans["prod"], "prod", values)
    # The protected bucket and versioning still need their own acknowledgement...
    assert sorted(v.subject for v in judgement.violations) == [
        "backups-bucket",
        "backups-versioning",
        "backups.enabled",
    ]
    # ...and every guard rail is retained when Pulumi forgets it (retainOnDelete).
    guards = [
        r
        for r in plans["prod"].resources
        if r.type.startswith("aws:s3/") and r.type != "aws:s3/bucket:Bucket"
    ]
    assert len(guards) == 6
    assert all(r.options["retainOnDelete"] for r in guards), [r.name for r in guards]


def rename_schedule(values: dict) -> None:
    """N2: the nightly schedule renamed, the classes following."""
    values[f"{NS}:backups"]["schedules"][0]["name"] = "nightly-v2"
    for cls in values[f"{NS}:storage"]["classes"]:
        if (cls.get("protection") or {}).get("backupSchedule") == "nightly":
            cls["protection"]["backupSchedule"] = "nightly-v2"


def test_a_renamed_schedule_needs_its_acknowledgement(plans):
    values = head("prod", rename_schedule)
    _, judgement = judged(plans["prod"], "prod", values)
    (found,) = [v for v in judgement.violations if v.subject == "backups.schedules"]
    assert "schedule nightly removed or renamed" in found.message
    assert "backups.eks-config-storage.io/schedule=nightly are skipped" in found.message
    assert "relabel them first" in found.message


def test_the_same_changes_in_an_unprotected_stack_pass(plans):
    assert protected_stack(plans["prod"].document())
    assert not protected_stack(plans["dev"].document())
    values = head("dev", lambda v: v.update({f"{NS}:logRetentionDays": 7}))
    _, judgement = judged(plans["dev"], "dev", values)
    assert [v.subject for v in judgement.violations] == []
