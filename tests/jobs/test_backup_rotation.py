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

import shutil
from collections import Counter
from datetime import UTC, datetime

import pytest

from tests.support import fake_velero as velero
from tests.support.snapshot_harness import CLASS, IMAGE_SHELL, LABEL, MADE_BY, Harness, pvc, snap

HOUR = 3600
DAY = 24 * HOUR
START = int(datetime(2026, 12, 1, tzinfo=UTC).timestamp())
KEEP = {"hourly": 6, "daily": 3}
PVCS = [("orders", "db"), ("orders", "wal"), ("catalog", "db")]
NIGHTLY = velero.Schedule(
    excluded_namespaces=("kube-system", "velero"),
    snapshot_classes=("gp3",),
    ttl_seconds=2 * DAY,
)
# The date the rotator names its generations by follows the simulated clock too.
DATE_WRAPPER = """#!/bin/sh
if [ "$#" -eq 2 ] && [ "$1" = -u ] && [ "$2" = +%s ]; then
    printf '%s\\n' "$FAKE_EPOCH"
    exit 0
fi
if [ "$#" -eq 2 ] && [ "$1" = -u ] && [ "$2" = +%Y%m%d%H%M%S ]; then
    exec {date} -u -d "@$FAKE_EPOCH" +%Y%m%d%H%M%S
fi
exec {date} "$@"
"""


def rfc3339(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Cluster:
    """The stand-in cluster over simulated days: who made each physical snapshot, of which
    PVC, and Velero's backups."""

    def __init__(self, harness: Harness, deletion_policy: str, *, strip_exclusion: bool = False):
        self.kube = harness
        self.deletion_policy = deletion_policy
        self.state: dict = {
            "pvcs": [pvc(ns, name, labels={}, storage_class="gp3") for ns, name in PVCS],
            "snapshots": [],
            "contents": [],
            "physical": [],
            "classes": {CLASS: deletion_policy},
        }
        self.origin: dict[str, tuple[str, str]] = {}  # handle -> (origin, ns/pvc)
        self.backups: list[velero.Backup] = []
        self.adopted: list[str] = []
        # Stands for a rotator from before the fix: its generations lack the exclusion label.
        self.strip_exclusion = strip_exclusion

    def rotate(self, policy: str, now: int) -> None:
        run = self.kube.run(
            self.state,
            self.deletion_policy,
            POLICY=policy,
            SELECTOR=f"{LABEL}={policy}",
            CLASSES="gp3",
            KNOWN_POLICIES="hourly,daily",
            KEEP=str(KEEP[policy]),
            FAKE_EPOCH=str(now),
            FAKE_NOW=rfc3339(now),
        )
        assert run.returncode == 0, run.stderr
        self.state = run.state
        contents = {c["name"]: c for c in self.state["contents"]}
        for s in self.state["snapshots"]:
            content = contents.get(s.get("boundVolumeSnapshotContentName") or "")
            if content is not None and s["labels"].get(MADE_BY) == "rotator":
                handle = content["snapshotHandle"]
                self.origin.setdefault(handle, (policy, f"{s['namespace']}/{s['pvc']}"))
            if self.strip_exclusion:
                s["labels"].pop(velero.EXCLUDE_LABEL, None)

    def nightly(self, now: int) -> None:
        name = f"nightly-{rfc3339(now)[:10].replace('-', '')}"
        record = velero.backup(self.state, name, NIGHTLY, now=now, snapshot_class=CLASS)
        for handle, source in record.handles.items():
            self.origin.setdefault(handle, ("velero", source))
        self.adopted += record.adopted
        self.backups = velero.expire(self.state, [*self.backups, record], now=now)

    def in_cluster(self, policy: str) -> Counter:
        return Counter(
            f"{s['namespace']}/{s['pvc']}"
            for s in self.state["snapshots"]
            if s["labels"].get(LABEL) == policy and s["labels"].get(MADE_BY) == "rotator"
        )

    def physical(self, origin: str) -> Counter:
        return Counter(
            self.origin[h][1]
            for h in self.state["physical"]
            if self.origin.get(h, ("", ""))[0] == origin
        )

    def days(self, count: int, check=None) -> None:
        """``count`` days: hourly on the hour, nightly at 01:30, daily at 03:00."""
        for hour in range(count * 24):
            now = START + hour * HOUR
            self.rotate("hourly", now)
            if hour % 24 == 1:
                self.nightly(now + 30 * 60)
            if hour % 24 == 3:
                self.rotate("daily", now)
            if check is not None:
                check(self, hour)


@pytest.fixture(params=IMAGE_SHELL)
def harness(request, tmp_path) -> Harness:
    kube = Harness(tmp_path, request.param)
    real = shutil.which("date") or "/bin/date"
    kube.write_tool("date", DATE_WRAPPER.format(date=real))
    return kube


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
