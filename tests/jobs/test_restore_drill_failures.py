"""restore_drill.sh when something is wrong: nothing ready to restore, a source that cannot be
restored, a copy that never becomes ready, a volume that never mounts, a check that fails, a
cleanup that fails. Each fails the run with a message that says which, after cleaning up what it
made, and never touches the original snapshot, its content or its physical snapshot."""

from __future__ import annotations

import pytest

from tests.support.drill_harness import (
    COPY_CONTENT,
    DAILY_3,
    NOTHING_LEFT,
    RUN,
    SCRATCH,
    cluster,
    drill,
    leftovers,
    originals_untouched,
    recorded,
    source,
    steps,
)

# ------------------------------------------------------------ nothing to restore


@pytest.mark.parametrize(
    ("sources", "message"),
    [
        (
            [],
            "no snapshot of policy daily (snapshots.eks-config-storage.io/policy=daily) in any "
            "namespace: nothing to restore",
        ),
        (
            [
                source("app", "data-daily-1", "2026-11-20T03:00:00Z", ready=False),
                source("app", "data-daily-2", "2026-11-21T03:00:00Z", ready=False),
            ],
            "none of the 2 snapshots of policy daily is ready to use",
        ),
    ],
    ids=["no-snapshot", "unready"],
)
def test_no_ready_snapshot_fails_before_anything_is_made(script_bin, sources, message):
    result = drill(script_bin, cluster(sources))

    assert result.returncode == 1
    assert steps(result) == ["get volumesnapshots"]
    assert result.errors() == [f"error: drill weekly: {message}"]
    originals_untouched(result)
    assert leftovers(result) == NOTHING_LEFT
    assert recorded(result) is None


def without_content(state: dict) -> dict:
    state["contents"] = []
    return state


def without_handle(state: dict) -> dict:
    state["contents"][0]["snapshotHandle"] = ""
    return state


def pointing_elsewhere(state: dict) -> dict:
    state["contents"][0]["volumeSnapshotRef"]["name"] = "another"
    return state


def without_pvc(state: dict) -> dict:
    state["pvcs"] = []
    return state


@pytest.mark.parametrize(
    ("break_it", "calls", "message"),
    [
        (
            without_content,
            2,
            "cannot read content snapcontent-app-data-daily-3 of app/data-daily-3 (missing?)",
        ),
        (
            without_handle,
            2,
            "content snapcontent-app-data-daily-3 of app/data-daily-3 has no usable "
            "snapshotHandle ('-')",
        ),
        (
            pointing_elsewhere,
            2,
            "content snapcontent-app-data-daily-3 does not point back at app/data-daily-3",
        ),
        (
            without_pvc,
            3,
            "cannot read the source PVC app/data of app/data-daily-3: its class is unknown",
        ),
    ],
    ids=["no-content", "no-handle", "misbound", "no-pvc"],
)
def test_a_source_that_cannot_be_restored_fails_before_anything_is_made(
    script_bin, break_it, calls, message
):
    result = drill(script_bin, break_it(cluster([DAILY_3])))

    assert result.returncode == 1
    assert len(result.calls) == calls
    assert result.stdins == []
    assert f"error: drill weekly: {message}" in result.errors()
    originals_untouched(result)
    assert leftovers(result) == NOTHING_LEFT


# ------------------------------------------------------------ the restore fails

CLEANUP_OF_COPY = [
    "get volumesnapshotcontent",
    "delete volumesnapshot",
    "delete volumesnapshotcontent",
]


def test_a_copy_that_never_becomes_ready_is_cleaned_up(script_bin):
    """The physical snapshot is gone from the storage system: the copy cannot become ready."""
    state = cluster([DAILY_3])
    state["physical"] = []
    result = drill(script_bin, state, TIMEOUT_SECONDS="300")

    assert result.returncode == 1
    assert steps(result) == [
        "get volumesnapshots",
        "get volumesnapshotcontent",
        "get persistentvolumeclaim",
        "create VolumeSnapshotContent",
        "create VolumeSnapshot",
        "wait volumesnapshot",
        *CLEANUP_OF_COPY,
    ]
    assert "--timeout=300s" in result.calls[5]
    assert result.errors()[-1] == (
        f"error: drill weekly failed: the copy {SCRATCH}/{RUN} of app/data-daily-3 did not become "
        "ready within 300s"
    )
    originals_untouched(result)
    assert leftovers(result) == NOTHING_LEFT
    assert recorded(result) is None


def test_a_volume_that_never_mounts_times_out_and_is_cleaned_up(script_bin):
    # A Retain class: the restored PV would outlive its PVC unless the drill releases it.
    state = cluster([DAILY_3], class_reclaim="Retain", pod_phases=["Pending"])
    result = drill(script_bin, state, TIMEOUT_SECONDS="45")

    assert result.returncode == 1
    polls = [s for s in steps(result) if s == "get pod"]
    assert len(polls) == 6  # at 0, 10, 20, 30, 40 seconds, and a last look at the deadline
    assert result.errors()[-1] == (
        f"error: drill weekly failed: the check pod {SCRATCH}/{RUN} did not succeed within 45s "
        "(phase Pending): the volume was not provisioned or not mounted"
    )
    assert steps(result)[-7:] == [
        "delete pod",
        "get persistentvolumeclaim",
        "patch persistentvolume",
        "delete persistentvolumeclaim",
        *CLEANUP_OF_COPY,
    ]
    originals_untouched(result)
    assert leftovers(result) == NOTHING_LEFT
    assert recorded(result) is None


def test_a_check_that_fails_fails_the_drill_at_once(script_bin):
    state = cluster([DAILY_3], pod_phases=["Pending", "Failed"])
    result = drill(script_bin, state)

    assert result.returncode == 1
    assert [s for s in steps(result) if s == "get pod"] == ["get pod", "get pod"]
    assert (
        f"error: drill weekly: the check pod {SCRATCH}/{RUN} failed: the restored volume did not "
        "mount or could not be listed (kubectl describe pod, kubectl logs)"
    ) in result.errors()
    originals_untouched(result)
    assert leftovers(result) == NOTHING_LEFT


@pytest.mark.parametrize(
    ("kind", "made"),
    [("VolumeSnapshotContent", 0), ("VolumeSnapshot", 1), ("PersistentVolumeClaim", 2), ("Pod", 3)],
)
def test_a_failed_create_cleans_up_what_was_made(script_bin, kind, made):
    result = drill(script_bin, cluster([DAILY_3], fail_create_kinds=[kind]))

    assert result.returncode == 1
    assert len(result.stdins) == made + 1
    originals_untouched(result)
    assert leftovers(result) == NOTHING_LEFT
    assert recorded(result) is None


# ------------------------------------------------------------ the cleanup fails


def test_a_failed_pvc_delete_fails_the_drill_and_still_removes_the_copy(script_bin):
    state = cluster([DAILY_3], fail_calls=[["delete", "persistentvolumeclaim"]])
    result = drill(script_bin, state)

    assert result.returncode == 1
    assert steps(result)[-4:] == ["delete persistentvolumeclaim", *CLEANUP_OF_COPY]
    assert result.errors()[-2:] == [
        f"error: drill weekly: cleanup: cannot delete PVC {SCRATCH}/{RUN}",
        "error: drill weekly failed: restored in 20s, but the cleanup did not finish",
    ]
    assert recorded(result) is None
    originals_untouched(result)
    left = leftovers(result)
    assert (left["pvcs"], left["snapshots"], left["contents"]) == ([RUN], [], [])
    # The PV was set to Delete first: whenever the PVC goes, so does the volume.
    (restored,) = result.state["pvs"]
    assert restored["reclaimPolicy"] == "Delete"


def test_a_pv_that_cannot_be_released_keeps_its_pvc(script_bin):
    state = cluster([DAILY_3], fail_patch_pv=["pvc-0001"])
    result = drill(script_bin, state)

    assert result.returncode == 1
    assert "delete persistentvolumeclaim" not in steps(result)
    assert (
        "error: drill weekly: cleanup: cannot set PV pvc-0001 of "
        f"{SCRATCH}/{RUN} to Delete; kept the PVC, or the volume would be retained"
    ) in result.errors()
    originals_untouched(result)
    assert leftovers(result)["pvcs"] == [RUN]


def test_a_copy_whose_content_is_no_longer_retain_is_never_deleted(script_bin):
    """Deleting the copy or its content while the content is Delete would delete the physical
    snapshot the original still uses; the drill keeps both and fails."""
    sources = [source("app", "data-daily-3", "2026-11-26T03:00:00Z", deletion_policy="Delete")]
    result = drill(script_bin, cluster(sources, tamper_copy_policy="Delete"))

    assert result.returncode == 1
    assert steps(result)[-2:] == ["delete persistentvolumeclaim", "get volumesnapshotcontent"]
    assert (
        f"error: drill weekly: cleanup: content {COPY_CONTENT} is Delete, not Retain: kept it and "
        f"the copy {SCRATCH}/{RUN}, whose deletion would delete snapshot snap-app-data-daily-3 "
        "of app/data-daily-3"
    ) in result.errors()
    assert "snap-app-data-daily-3" in result.state["physical"]
    originals_untouched(result)


def test_a_drill_that_cannot_be_recorded_fails(script_bin):
    result = drill(script_bin, cluster([DAILY_3], fail_calls=[["patch", "cronjob"]]))

    assert result.returncode == 1
    assert result.errors()[-1] == (
        "error: drill weekly: restored in 20s, but cannot record it on cronjob "
        f"{SCRATCH}/drill-weekly"
    )
    assert leftovers(result) == NOTHING_LEFT
