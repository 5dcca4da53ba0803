"""Orphans: the rotator's generations of a PVC its policy no longer covers (deleted, or out of
the policy: its label removed, its class's protection narrowed) keep the life rotation would
have given them, then go with their physical snapshots, in Delete and Retain classes alike.

Days on the stand-in cluster (tests/support/rotation_cluster.py), nightly Velero backups in
between; the example runs of the script itself: tests/jobs/test_snapshot_pruning.py (the
property test) and below."""

from __future__ import annotations

from datetime import datetime

import pytest

from design import snapshots as snapshot_design
from tests.support.rotation_cluster import (
    DAY,
    HOUR,
    KEEP,
    ORPHAN_MAX_AGE,
    PVCS,
    START,
    Cluster,
    dated_harness,
    rfc3339,
)
from tests.support.snapshot_harness import (
    DAILY,
    IMAGE_SHELL,
    LABEL,
    MADE_BY,
    NOW_EPOCH,
    WEEKLY,
    pvc,
    snap,
)

GAP = {"hourly": HOUR, "daily": DAY}
CHANGE_HOUR = 72  # day 4, 00:00: a PVC deleted, another leaves both policies
ORPHANED = ("orders/wal", "catalog/reports")


@pytest.fixture(params=IMAGE_SHELL)
def harness(request, tmp_path):
    return dated_harness(tmp_path, request.param)


def generations(cluster: Cluster) -> dict[tuple[str, str], tuple[str, str, str]]:
    """(policy, ns/name) -> (ns/pvc, creationTimestamp, physical handle) of the rotator's."""
    contents = {c["name"]: c for c in cluster.state["contents"]}
    return {
        (s["labels"][LABEL], f"{s['namespace']}/{s['name']}"): (
            f"{s['namespace']}/{s['pvc']}",
            s["creationTimestamp"],
            contents[s["boundVolumeSnapshotContentName"]]["snapshotHandle"],
        )
        for s in cluster.state["snapshots"]
        if s["labels"].get(MADE_BY) == "rotator"
    }


@pytest.mark.parametrize("deletion_policy", ["Delete", "Retain"])
def test_orphans_outlive_their_pvc_by_the_window_then_go(harness, deletion_policy):
    cluster = Cluster(harness, deletion_policy)
    # Daily by its label, hourly by its class; both covers end at the change.
    cluster.state["pvcs"].append(pvc("catalog", "reports", DAILY, storage_class="gp3-archive"))
    cluster.classes["hourly"] = "gp3,gp3-archive"
    cluster.days(3)

    at_change = {key: facts for key, facts in generations(cluster).items() if facts[0] in ORPHANED}
    counted = {}
    for (policy, _), (source, _, _) in at_change.items():
        counted[policy, source] = counted.get((policy, source), 0) + 1
    assert counted == {(p, s): KEEP[p] for p in KEEP for s in ORPHANED}

    cluster.state["pvcs"] = [
        {**p, "labels": {}} if p["name"] == "reports" else p
        for p in cluster.state["pvcs"]
        if (p["namespace"], p["name"]) != ("orders", "wal")
    ]
    cluster.classes["hourly"] = "gp3"  # gp3-archive's protection no longer names hourly
    pruned_at: dict[tuple[str, str], int] = {}

    def track(cluster: Cluster, hour: int) -> None:
        now = START + hour * HOUR
        present = generations(cluster)
        for key, (_, _, handle) in at_change.items():
            if key not in present:
                pruned_at.setdefault(key, now)
            # The physical snapshot lives exactly as long as its generation, whatever the class.
            assert (handle in cluster.state["physical"]) is (key in present), (key, hour)
        # The PVCs still covered keep exactly their generations.
        for policy, keep in KEEP.items():
            assert max(cluster.physical(policy).values()) <= keep, (policy, hour)

    cluster.days(4, track, first_hour=CHANGE_HOUR)

    assert set(pruned_at) == set(at_change)
    for (policy, name), gone in pruned_at.items():
        created = at_change[policy, name][1]
        age = gone - int(datetime.fromisoformat(created.replace("Z", "+00:00")).timestamp())
        # Restorable for the whole window; pruned at the policy's first run after it.
        assert ORPHAN_MAX_AGE[policy] < age <= ORPHAN_MAX_AGE[policy] + GAP[policy], (name, age)
    every_pvc = {f"{ns}/{name}" for ns, name in PVCS if (ns, name) != ("orders", "wal")}
    for policy, keep in KEEP.items():
        assert cluster.in_cluster(policy) == dict.fromkeys(every_pvc, keep), policy
        assert cluster.physical(policy) == dict.fromkeys(every_pvc, keep), policy
    # Velero's own snapshots of the deleted PVC belonged to its backups, which expired.
    assert cluster.physical("velero")["orders/wal"] == 0
    assert cluster.adopted == []


# ------------------------------------------------------------------ one run, by example


def orphan_state() -> dict:
    """app/data is covered; app/gone was deleted, app/logs left the policy (unlabelled)."""
    return {
        "pvcs": [pvc("app", "data"), pvc("app", "logs", labels={})],
        "snapshots": [
            snap("app", "gone-1", rfc3339(NOW_EPOCH - 4 * DAY), "gone"),
            snap("app", "gone-2", rfc3339(NOW_EPOCH - 3 * DAY), "gone"),  # exactly the window
            snap("app", "gone-3", rfc3339(NOW_EPOCH - 2 * DAY), "gone"),
            snap("app", "logs-1", rfc3339(NOW_EPOCH - 5 * DAY), "logs"),
            # Never the daily rotator's: Velero's (policy label, no made-by), another policy's.
            snap("app", "gone-velero", rfc3339(NOW_EPOCH - 30 * DAY), "gone", rotator=False),
            snap("app", "gone-weekly", rfc3339(NOW_EPOCH - 30 * DAY), "gone", labels=WEEKLY),
        ],
    }


@pytest.mark.parametrize("deletion_policy", ["Delete", "Retain"])
def test_a_run_prunes_exactly_its_orphans_older_than_the_window(kube, deletion_policy):
    result = kube.run(orphan_state(), deletion_policy, ORPHAN_MAX_AGE_SECONDS=str(3 * DAY))

    assert result.returncode == 0, result.stderr
    assert result.deleted() == []
    assert result.deleted(orphans=True) == ["app/logs-1", "app/gone-1"]
    assert len(result.patched(orphans=True)) == 2
    names = {s["name"] for s in result.state["snapshots"]}
    assert {"gone-2", "gone-3", "gone-velero", "gone-weekly"} <= names
    assert not {"logs-1", "gone-1"} & names
    assert len(result.physical("app", "gone")) == 2
    assert result.physical("app", "logs") == set()
    assert (
        "pruned app/gone-1 (PVC app/gone not in policy daily, older than 259200s; content "
        f"snapcontent-old-0000 was {deletion_policy})"
    ) in result.lines()


def test_a_failed_orphan_prune_keeps_that_one_and_fails_the_run(kube):
    state = orphan_state()
    state["fail_delete"] = ["app/logs-1"]
    result = kube.run(state, "Retain", ORPHAN_MAX_AGE_SECONDS=str(3 * DAY))

    assert result.returncode == 1
    assert result.deleted(orphans=True) == ["app/logs-1", "app/gone-1"]
    assert "logs-1" in {s["name"] for s in result.state["snapshots"]}
    assert "generations of PVCs it no longer covers were not pruned" in result.stderr


def test_no_orphan_is_pruned_when_the_covered_pvcs_cannot_be_listed(kube):
    """Every generation would look orphaned to a run that saw no PVC."""
    state = orphan_state() | {"fail_calls": [["get", "persistentvolumeclaims"]]}
    result = kube.run(state, "Retain", ORPHAN_MAX_AGE_SECONDS=str(HOUR))

    assert result.returncode == 1
    assert result.orphans == []
    assert result.state["snapshots"] == result.before["snapshots"]


def test_an_orphan_listing_that_fails_fails_the_run_after_the_rotation(kube):
    listing = [
        "get",
        "volumesnapshots",
        "--all-namespaces",
        "-l",
        f"{LABEL}=daily,{MADE_BY}=rotator",
    ]
    state = orphan_state() | {"fail_calls": [listing]}
    result = kube.run(state, "Retain", ORPHAN_MAX_AGE_SECONDS=str(HOUR))

    assert result.returncode == 1
    assert result.created_name("app", "data")
    assert [a[:5] for a in result.orphans] == [listing]
    assert "cannot list this policy's generations of PVCs it no longer covers" in result.stderr


@pytest.mark.parametrize(
    ("keep", "gap", "max_age", "expected"),
    [
        (3, DAY, None, 3 * DAY),  # daily, keep 3
        (24, HOUR, None, DAY),  # hourly, keep 24
        (2, 3 * DAY, None, 6 * DAY),  # weekdays only: the weekend is the longest gap
        (7, DAY, 36 * HOUR, 36 * HOUR),  # maxAge, shorter than keep runs
        (3, DAY, 14 * DAY, 14 * DAY),  # maxAge, longer: rotation never prunes sooner either way
        (1000, 366 * DAY, None, 3650 * DAY),  # yearly, keep 1000: ten years at most
    ],
)
def test_the_window_is_max_age_else_keep_runs(keep, gap, max_age, expected):
    assert (
        snapshot_design.orphan_max_age_seconds(
            keep=keep, longest_gap_seconds=gap, max_age_seconds=max_age
        )
        == expected
    )
