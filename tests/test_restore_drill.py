"""components/scripts/restore_drill.sh under real shells against the stand-in kubectl: the
newest ready snapshot of a policy is restored through a pre-bound Retain copy into the scratch
namespace, checked by a read-only pod, timed, cleaned up and recorded; every failure fails the
run after cleanup, and the original snapshot, its content and its physical snapshot are never
touched."""

from __future__ import annotations

import pytest
import yaml

from tests.drill_harness import (
    CLAIM_JSONPATH,
    COPY_CONTENT,
    HANDLE_JSONPATH,
    LAST_DRILL,
    NOTHING_LEFT,
    RUN,
    SCRATCH,
    SOURCES_JSONPATH,
    claim,
    cluster,
    drill,
    leftovers,
    originals_untouched,
    recorded,
    source,
    steps,
)
from tests.snapshot_harness import LABEL

SUCCESS = [
    "get volumesnapshots",
    "get volumesnapshotcontent",
    "get persistentvolumeclaim",
    "create VolumeSnapshotContent",
    "create VolumeSnapshot",
    "wait volumesnapshot",
    "create PersistentVolumeClaim",
    "create Pod",
    "get pod",
    "get pod",
    "get pod",
    "delete pod",
    "get persistentvolumeclaim",
    "patch persistentvolume",
    "delete persistentvolumeclaim",
    "get volumesnapshotcontent",
    "delete volumesnapshot",
    "delete volumesnapshotcontent",
    "patch cronjob",
]
DAILY_3 = source("app", "data-daily-3", "2026-11-26T03:00:00Z")


@pytest.mark.parametrize("class_reclaim", ["Retain", "Delete"])
@pytest.mark.parametrize("original", ["Retain", "Delete"])
def test_a_ready_snapshot_is_restored_checked_cleaned_up_and_recorded(
    script_bin, class_reclaim, original
):
    sources = [source("app", "data-daily-3", "2026-11-26T03:00:00Z", deletion_policy=original)]
    result = drill(script_bin, cluster(sources, class_reclaim=class_reclaim))

    assert result.returncode == 0, result.stderr
    assert steps(result) == SUCCESS
    content = "snapcontent-app-data-daily-3"
    assert result.calls[:3] == [
        [
            "get",
            "volumesnapshots",
            "--all-namespaces",
            "-l",
            f"{LABEL}=daily",
            "-o",
            SOURCES_JSONPATH,
        ],
        ["get", "volumesnapshotcontent", content, "-o", HANDLE_JSONPATH],
        ["get", "persistentvolumeclaim", "--namespace", "app", "data", "-o", CLAIM_JSONPATH],
    ]
    assert result.calls[5] == [
        "wait",
        "--namespace",
        SCRATCH,
        "--for=jsonpath={.status.readyToUse}=true",
        "--timeout=600s",
        f"volumesnapshot/{RUN}",
    ]
    assert result.calls[13] == [
        "patch",
        "persistentvolume",
        "pvc-0001",
        "--type=json",
        "-p",
        f'[{{"op":"test","path":"/spec/claimRef/namespace","value":"{SCRATCH}"}},'
        f'{{"op":"test","path":"/spec/claimRef/name","value":"{RUN}"}},'
        '{"op":"replace","path":"/spec/persistentVolumeReclaimPolicy","value":"Delete"}]',
    ]
    assert result.calls[15:] == [
        ["get", "volumesnapshotcontent", COPY_CONTENT, "-o", "jsonpath={.spec.deletionPolicy}"],
        ["delete", "volumesnapshot", "--namespace", SCRATCH, RUN, "--wait=false"],
        ["delete", "volumesnapshotcontent", COPY_CONTENT, "--wait=false"],
        [
            "patch",
            "cronjob",
            "--namespace",
            SCRATCH,
            "drill-weekly",
            "--type=merge",
            "-p",
            f'{{"metadata":{{"annotations":{{"{LAST_DRILL}":'
            '"2026-11-27T03:00:20Z 20s app/data-daily-3"}}}',
        ],
    ]
    assert recorded(result) == "2026-11-27T03:00:20Z 20s app/data-daily-3"
    assert result.lines() == [
        "drill weekly: newest ready snapshot of policy daily is app/data-daily-3, taken "
        "2026-11-26T03:00:00Z (of 1)",
        f"drill weekly: restoring app/data-daily-3 (content {content}, snapshot "
        f"snap-app-data-daily-3) into {SCRATCH}/{RUN}, class gp3-ssd-prod-rwo, 20Gi",
        "drill weekly: restored app/data-daily-3 in 20s; the check pod listed the volume",
        f"drill weekly: cleaned up {SCRATCH}/{RUN} and content {COPY_CONTENT}",
        f'drill weekly: recorded {LAST_DRILL}="2026-11-27T03:00:20Z 20s app/data-daily-3" on '
        f"cronjob {SCRATCH}/drill-weekly",
    ]
    originals_untouched(result)
    assert leftovers(result) == NOTHING_LEFT
    # The restore used the original's physical snapshot, and only read it.
    assert "snap-app-data-daily-3" in result.state["physical"]


def test_the_copy_is_a_retained_prebound_content_and_snapshot(script_bin):
    result = drill(script_bin, cluster([DAILY_3]))

    assert result.returncode == 0, result.stderr
    content, copy, pvc, pod = (yaml.safe_load(text) for text in result.stdins)
    assert content == {
        "apiVersion": "snapshot.storage.k8s.io/v1",
        "kind": "VolumeSnapshotContent",
        "metadata": {
            "name": COPY_CONTENT,
            "labels": {"restore.eks-config-storage.io/drill": "weekly"},
            "annotations": {
                "restore.eks-config-storage.io/from": "volumesnapshotcontent/"
                "snapcontent-app-data-daily-3"
            },
        },
        "spec": {
            "deletionPolicy": "Retain",
            "driver": "ebs.csi.aws.com",
            "source": {"snapshotHandle": "snap-app-data-daily-3"},
            "volumeSnapshotClassName": "ebs-retain-prod",
            "volumeSnapshotRef": {"name": RUN, "namespace": SCRATCH},
        },
    }
    assert copy == {
        "apiVersion": "snapshot.storage.k8s.io/v1",
        "kind": "VolumeSnapshot",
        "metadata": {
            "name": RUN,
            "namespace": SCRATCH,
            "labels": {"restore.eks-config-storage.io/drill": "weekly"},
            "annotations": {
                "restore.eks-config-storage.io/from": "volumesnapshot/app/data-daily-3"
            },
        },
        "spec": {
            "volumeSnapshotClassName": "ebs-retain-prod",
            "source": {"volumeSnapshotContentName": COPY_CONTENT},
        },
    }
    assert pvc["spec"] == {
        "storageClassName": "gp3-ssd-prod-rwo",
        "accessModes": ["ReadWriteOnce"],
        "resources": {"requests": {"storage": "20Gi"}},
        "dataSource": {
            "apiGroup": "snapshot.storage.k8s.io",
            "kind": "VolumeSnapshot",
            "name": RUN,
        },
    }
    assert pod["spec"]["automountServiceAccountToken"] is False
    assert pod["spec"]["volumes"] == [
        {"name": "restored", "persistentVolumeClaim": {"claimName": RUN, "readOnly": True}}
    ]
    (check,) = pod["spec"]["containers"]
    assert check["command"] == ["ls", "-la", "/restore"]
    assert check["volumeMounts"] == [
        {"name": "restored", "mountPath": "/restore", "readOnly": True}
    ]


def test_the_newest_ready_snapshot_of_the_policy_is_chosen_in_any_namespace(script_bin):
    sources = [
        source("app", "data-daily-1", "2026-11-20T03:00:00Z"),
        source("db", "orders-daily-3", "2026-11-26T03:00:00Z", pvc="orders"),  # the one
        source("app", "data-daily-4", "2026-11-27T02:00:00Z", ready=False),  # not ready
        source("app", "data-hourly-9", "2026-11-27T02:30:00Z", policy="hourly"),
    ]
    claims = [claim("app", "data"), claim("db", "orders", cls="gp3-ssd-dev-rwo")]
    result = drill(script_bin, cluster(sources, claims=claims))

    assert result.returncode == 0, result.stderr
    assert result.calls[1][2] == "snapcontent-db-orders-daily-3"
    assert result.calls[2][3:5] == ["db", "orders"]
    pvc = yaml.safe_load(result.stdins[2])
    assert pvc["spec"]["storageClassName"] == "gp3-ssd-dev-rwo"  # the source PVC's class
    assert recorded(result) == "2026-11-27T03:00:20Z 20s db/orders-daily-3"
    assert "of policy daily is db/orders-daily-3" in result.lines()[0]
    assert "(of 3)" in result.lines()[0]
    originals_untouched(result)
    assert leftovers(result) == NOTHING_LEFT


def test_without_restore_size_the_source_pvcs_capacity_is_asked_for(script_bin):
    result = drill(script_bin, cluster([source("app", "d-1", "2026-11-26T03:00:00Z", size=None)]))

    assert result.returncode == 0, result.stderr
    assert yaml.safe_load(result.stdins[2])["spec"]["resources"] == {
        "requests": {"storage": "20Gi"}
    }


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


@pytest.mark.parametrize("class_reclaim", ["Retain", "Delete"])
def test_a_volume_that_never_mounts_times_out_and_is_cleaned_up(script_bin, class_reclaim):
    state = cluster([DAILY_3], class_reclaim=class_reclaim, pod_phases=["Pending"])
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


@pytest.mark.parametrize("original", ["Retain", "Delete"])
def test_a_copy_whose_content_is_no_longer_retain_is_never_deleted(script_bin, original):
    """Deleting the copy or its content while the content is Delete would delete the physical
    snapshot the original still uses; the drill keeps both and fails."""
    sources = [source("app", "data-daily-3", "2026-11-26T03:00:00Z", deletion_policy=original)]
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
