"""Rotation and Velero side by side: the hourly and daily rotators run for days with a nightly
Velero backup in between, on the stand-in cluster that models Velero's CSI behaviour
(tests/support/fake_velero.py), and each PVC keeps exactly its designed generations.

Velero's backup takes over every VolumeSnapshot of a namespace it backs up and deletes it from
the cluster when it finalizes (velero-io/velero@v1.18.1:
pkg/backup/actions/csi/volumesnapshot_action.go:87-93). The rotator's generations carry
``velero.io/exclude-from-backup=true`` and so never meet it; Velero's own snapshots are counted
apart, and live as long as their backup.
"""

from __future__ import annotations

from collections import Counter

import pytest

from tests.support import fake_velero as velero
from tests.support.rotation_cluster import (
    KEEP,
    NIGHTLY,
    PVCS,
    START,
    Cluster,
    dated_harness,
)
from tests.support.snapshot_harness import CLASS, IMAGE_SHELL, LABEL, pvc, snap


@pytest.fixture(params=IMAGE_SHELL)
def harness(request, tmp_path):
    return dated_harness(tmp_path, request.param)


def never_beyond_keep(cluster: Cluster, hour: int) -> None:
    """After every step, the rotator's physical snapshots per PVC stay within ``keep``."""
    for policy, keep in KEEP.items():
        assert max(cluster.physical(policy).values(), default=0) <= keep, (policy, hour)


@pytest.mark.parametrize("deletion_policy", ["Delete", "Retain"])
def test_rotation_keeps_its_generations_through_nightly_backups(harness, deletion_policy):
    cluster = Cluster(harness, deletion_policy)
    cluster.days(4, check=never_beyond_keep)

    every_pvc = {f"{ns}/{name}" for ns, name in PVCS}
    for policy, keep in KEEP.items():
        assert cluster.in_cluster(policy) == dict.fromkeys(every_pvc, keep), policy
        assert cluster.physical(policy) == dict.fromkeys(every_pvc, keep), policy
    # Velero never took a generation over; its own snapshots are its backups' alone: the
    # nightly of the last two days (TTL 2 days), one per PVC each, and none in the cluster.
    assert cluster.adopted == []
    assert cluster.physical("velero") == dict.fromkeys(every_pvc, 2)
    assert [b.name for b in cluster.backups] == ["nightly-20261203", "nightly-20261204"]
    assert not any(velero.BACKUP_NAME_LABEL in s["labels"] for s in cluster.state["snapshots"])


def test_without_the_exclusion_label_velero_takes_the_generations(harness):
    """The finding the label fixes: the model reproduces it, so the test above can fail."""
    cluster = Cluster(harness, "Delete", strip_exclusion=True)
    cluster.days(2)

    # Each nightly adopted every ready generation and deleted it from the cluster, so the
    # daily policy never holds more than the one made since, and its physical snapshots pile
    # up under the backups instead of being pruned.
    assert cluster.adopted
    assert max(cluster.in_cluster("daily").values()) == 1
    assert max(cluster.in_cluster("hourly").values()) <= 6
    handles_owned_by_backups = {h for b in cluster.backups for h in b.handles}
    adopted_physical = Counter(
        cluster.origin[h][0] for h in handles_owned_by_backups if h in cluster.state["physical"]
    )
    assert adopted_physical["hourly"] > KEEP["hourly"]


def test_a_velero_snapshot_with_the_policy_label_is_never_a_generation(harness):
    """Velero's snapshot of a PVC labelled for a policy copies that label
    (pkg/backup/actions/csi/pvc_action.go:243-247); one left behind by a failed backup must not
    be counted or pruned as a generation."""
    labelled = pvc("orders", "db", labels={LABEL: "daily"}, storage_class="gp3")
    left_behind = snap("orders", "velero-db-nightly-1", "2026-11-01T01:30:00Z", "db", rotator=False)
    left_behind["labels"][velero.BACKUP_NAME_LABEL] = "nightly-1"
    state = {"pvcs": [labelled], "snapshots": [left_behind]}
    run = harness.run(state, KEEP="1", KNOWN_POLICIES="daily,hourly", FAKE_EPOCH=str(START))

    assert run.returncode == 0, run.stderr
    assert run.deleted() == []
    names = {s["name"] for s in run.state["snapshots"]}
    assert "velero-db-nightly-1" in names and len(names) == 2


def test_the_model_honours_velero_resource_filters_and_the_exclusion_label():
    """Velero's own snapshot of a selected PVC is made and handed to its backup; another
    VolumeSnapshot is taken over unless it is labelled or its resource is filtered out."""
    labelled = {"namespace": "app", "name": "kept", "labels": {velero.EXCLUDE_LABEL: "true"}}
    plain = {"namespace": "app", "name": "taken", "labels": {}}
    skipped_ns = {"namespace": "velero", "name": "other-ns", "labels": {}}

    def cluster() -> dict:
        state = {
            "pvcs": [pvc("app", "db", labels={}, storage_class="gp3")],
            "snapshots": [],
            "contents": [],
            "physical": [],
            "classes": {CLASS: "Retain"},
        }
        for i, s in enumerate((labelled, plain, skipped_ns)):
            content = f"old-{i}"
            state["snapshots"].append({**s, "pvc": "db", "boundVolumeSnapshotContentName": content})
            state["contents"].append({"name": content, "snapshotHandle": f"snap-old-{i}"})
            state["physical"].append(f"snap-old-{i}")
        return state

    state = cluster()
    record = velero.backup(state, "nightly-1", NIGHTLY, now=START, snapshot_class=CLASS)
    assert record.adopted == ["app/taken"]
    assert sorted(s["name"] for s in state["snapshots"]) == ["kept", "other-ns"]
    # Its own snapshot of app/db and the adopted one belong to the backup, Retain'd.
    assert sorted(record.handles.values()) == ["app/db", "app/db"]
    assert "snap-old-1" in record.handles and set(record.handles) <= set(state["physical"])
    assert velero.expire(state, [record], now=START + NIGHTLY.ttl_seconds) == []
    assert not set(record.handles) & set(state["physical"])

    filtered = velero.Schedule(
        excluded_namespaces=NIGHTLY.excluded_namespaces,
        excluded_resources=(velero.SNAPSHOTS,),
        snapshot_classes=(),
    )
    state = cluster()
    record = velero.backup(state, "nightly-2", filtered, now=START, snapshot_class=CLASS)
    assert record.adopted == [] and record.handles == {}
    assert len(state["snapshots"]) == 3
