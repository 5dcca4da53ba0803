"""Restore as code: `python -m tools.restore` renders a PVC from a snapshot (same namespace, or
another through a pre-bound content that never deletes the original's snapshot) and a Velero
Restore of a namespace, each valid against the upstream schemas."""

from __future__ import annotations

import json

import kubernetes_validate
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from design import restore as design
from tests.support.upstream_schema import manifest_problems
from tools import restore

LABEL = "snapshots.eks-config-storage.io/policy"
K8S_VERSION = "1.35.0"


def snap(name, ts, *, pvc="data", ns="orders", policy="daily", ready=True, content=None):
    return {
        "metadata": {
            "namespace": ns,
            "name": name,
            "creationTimestamp": ts,
            "labels": {LABEL: policy} if policy else {},
        },
        "spec": {
            "volumeSnapshotClassName": "ebs-retain-prod",
            "source": {"persistentVolumeClaimName": pvc},
        },
        "status": {
            "readyToUse": ready,
            "restoreSize": "20Gi",
            "boundVolumeSnapshotContentName": content or f"snapcontent-{name}",
        },
    }


def content(name, handle):
    return {
        "metadata": {"name": name},
        "spec": {"driver": "ebs.csi.aws.com", "deletionPolicy": "Retain"},
        "status": {"snapshotHandle": handle},
    }


SNAPSHOTS = {
    "items": [
        snap("data-daily-1", "2026-11-25T03:00:00Z"),
        snap("data-daily-3", "2026-11-27T03:00:00Z"),
        snap("data-daily-4", "2026-11-28T03:00:00Z", ready=False),
        snap("data-hourly-9", "2026-11-28T05:00:00Z", policy="hourly"),
        snap("other-daily-9", "2026-11-28T03:00:00Z", pvc="other"),
    ]
}
CONTENTS = {"items": [content("snapcontent-data-daily-3", "snap-0123456789abcdef0")]}


def run(tmp_path, capsys, *argv) -> list[dict]:
    (tmp_path / "s.json").write_text(json.dumps(SNAPSHOTS))
    (tmp_path / "c.json").write_text(json.dumps(CONTENTS))
    argv = [
        a.replace("S.JSON", str(tmp_path / "s.json")).replace("C.JSON", str(tmp_path / "c.json"))
        for a in argv
    ]
    assert restore.main(list(argv)) == 0
    return list(yaml.safe_load_all(capsys.readouterr().out))


def valid(manifest: dict) -> None:
    if manifest["apiVersion"] == "v1":
        kubernetes_validate.validate(manifest, K8S_VERSION, strict=True)
    else:
        assert manifest_problems(manifest) == []


def test_the_newest_ready_snapshot_of_a_policy_restores_in_place(tmp_path, capsys):
    (pvc,) = run(
        tmp_path,
        capsys,
        "pvc",
        "--snapshots",
        "S.JSON",
        "--pvc",
        "orders/data",
        "--policy",
        "daily",
        "--storage-class",
        "gp3-ssd-prod-rwo",
        "--name",
        "data-back",
    )
    valid(pvc)
    assert pvc["metadata"] == {
        "name": "data-back",
        "namespace": "orders",
        "annotations": {design.RESTORED_FROM: "volumesnapshot/orders/data-daily-3"},
    }
    assert pvc["spec"]["dataSource"] == {
        "apiGroup": "snapshot.storage.k8s.io",
        "kind": "VolumeSnapshot",
        "name": "data-daily-3",
    }
    assert pvc["spec"]["resources"] == {"requests": {"storage": "20Gi"}}
    assert pvc["spec"]["storageClassName"] == "gp3-ssd-prod-rwo"


def test_another_namespace_gets_a_prebound_copy_that_never_deletes_the_original(tmp_path, capsys):
    content_copy, snapshot_copy, pvc = run(
        tmp_path,
        capsys,
        "pvc",
        "--snapshots",
        "S.JSON",
        "--contents",
        "C.JSON",
        "--snapshot",
        "orders/data-daily-3",
        "--storage-class",
        "gp3-ssd-prod-rwo",
        "--to-namespace",
        "orders-restore",
    )
    for manifest in (content_copy, snapshot_copy, pvc):
        valid(manifest)
    assert content_copy["spec"] == {
        "deletionPolicy": "Retain",
        "driver": "ebs.csi.aws.com",
        "source": {"snapshotHandle": "snap-0123456789abcdef0"},
        "volumeSnapshotRef": {
            "name": "data-daily-3-in-orders-restore",
            "namespace": "orders-restore",
        },
        "volumeSnapshotClassName": "ebs-retain-prod",
    }
    assert snapshot_copy["metadata"] == {
        "name": "data-daily-3-in-orders-restore",
        "namespace": "orders-restore",
    }
    assert snapshot_copy["spec"]["source"] == {
        "volumeSnapshotContentName": content_copy["metadata"]["name"]
    }
    assert pvc["metadata"]["namespace"] == "orders-restore"
    assert pvc["spec"]["dataSource"]["name"] == "data-daily-3-in-orders-restore"


@pytest.mark.parametrize(
    "argv",
    [
        [
            "pvc",
            "--snapshots",
            "S.JSON",
            "--pvc",
            "orders/none",
            "--policy",
            "daily",
            "--storage-class",
            "x",
        ],
        [
            "pvc",
            "--snapshots",
            "S.JSON",
            "--snapshot",
            "orders/data-daily-4",
            "--storage-class",
            "x",
        ],
        [
            "pvc",
            "--snapshots",
            "S.JSON",
            "--snapshot",
            "orders/data-daily-1",
            "--storage-class",
            "x",
            "--to-namespace",
            "y",
        ],
    ],
    ids=["nothing-ready", "unready-named", "cross-namespace-without-contents"],
)
def test_what_cannot_be_restored_is_an_error(tmp_path, capsys, argv):
    (tmp_path / "s.json").write_text(json.dumps(SNAPSHOTS))
    argv = [a.replace("S.JSON", str(tmp_path / "s.json")) for a in argv]
    assert restore.main(argv) == 1
    assert capsys.readouterr().err.startswith("error: ")


@given(
    st.lists(
        st.tuples(st.integers(1, 28), st.booleans(), st.sampled_from(["daily", "hourly"])),
        min_size=1,
        max_size=12,
    )
)
def test_newest_ready_is_the_latest_ready_snapshot_of_that_policy(entries):
    items = [
        snap(f"s{i}", f"2026-11-{day:02d}T03:00:00Z", ready=ready, policy=policy)
        for i, (day, ready, policy) in enumerate(entries)
    ]
    found = design.snapshots({"items": items})
    eligible = [s for s in found if s.ready and s.policy == "daily"]
    if not eligible:
        with pytest.raises(design.RestoreError):
            design.newest_ready(found, namespace="orders", pvc="data", policy="daily")
        return
    chosen = design.newest_ready(found, namespace="orders", pvc="data", policy="daily")
    assert chosen.ready and chosen.policy == "daily"
    assert all(s.created <= chosen.created for s in eligible)


def test_a_velero_snapshot_with_the_policy_label_is_never_a_generation():
    """Velero's VolumeSnapshot of a PVC copies its labels; left behind by a failed backup and
    newer than every generation, it must not be what a restore picks."""
    generation = snap("data-daily-1", "2026-11-20T03:00:00Z", ready=True, policy="daily")
    velero = snap("velero-data-x", "2026-11-21T01:30:00Z", ready=True, policy="daily")
    velero["metadata"]["labels"][design.VELERO_BACKUP_LABEL] = "nightly-20261121013000"
    found = design.snapshots({"items": [generation, velero]})
    chosen = design.newest_ready(found, namespace="orders", pvc="data", policy="daily")
    assert chosen.name == "data-daily-1"


def backup(name, schedule, phase, done):
    return {
        "metadata": {"name": name, "labels": {design.SCHEDULE_LABEL: schedule}},
        "status": {"phase": phase, "completionTimestamp": done},
    }


def test_a_namespace_restores_from_the_newest_completed_backup_of_its_schedule(tmp_path, capsys):
    backups = {
        "items": [
            backup("nightly-1", "nightly", "Completed", "2026-11-26T02:30:00Z"),
            backup("nightly-2", "nightly", "Completed", "2026-11-27T02:30:00Z"),
            backup("nightly-3", "nightly", "PartiallyFailed", "2026-11-28T02:30:00Z"),
            backup("weekly-9", "weekly", "Completed", "2026-11-28T04:00:00Z"),
        ]
    }
    (tmp_path / "b.json").write_text(json.dumps(backups))
    assert (
        restore.main(
            [
                "namespace",
                "--backups",
                str(tmp_path / "b.json"),
                "--schedule",
                "nightly",
                "--namespace",
                "orders",
                "--into",
                "orders-restored",
            ]
        )
        == 0
    )
    (manifest,) = yaml.safe_load_all(capsys.readouterr().out)
    valid(manifest)
    assert manifest["metadata"]["namespace"] == "velero"
    assert manifest["spec"] == {
        "includedNamespaces": ["orders"],
        "restorePVs": True,
        "existingResourcePolicy": "none",
        "backupName": "nightly-2",
        "namespaceMapping": {"orders": "orders-restored"},
    }


def test_without_a_listing_velero_picks_the_schedules_newest_successful_backup(capsys):
    assert restore.main(["namespace", "--schedule", "nightly", "--namespace", "orders"]) == 0
    (manifest,) = yaml.safe_load_all(capsys.readouterr().out)
    valid(manifest)
    assert manifest["spec"]["scheduleName"] == "nightly"
    assert "backupName" not in manifest["spec"] and "namespaceMapping" not in manifest["spec"]
