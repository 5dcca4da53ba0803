"""jobs/restore_drill.sh under real shells against the stand-in kubectl: the
newest ready snapshot of a policy is restored through a pre-bound Retain copy into the scratch
namespace, checked by a read-only pod, timed, cleaned up and recorded; every failure fails the
run after cleanup, and the original snapshot, its content and its physical snapshot are never
touched."""

from __future__ import annotations

import pytest
import yaml

from tests.support.drill_harness import (
    CLAIM_JSONPATH,
    COPY_CONTENT,
    DAILY_3,
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
from tests.support.snapshot_harness import LABEL, MADE_BY

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


# Each class reclaim policy and each original content policy once; the property test in
# test_restore_drill_contract.py draws every pair.
@pytest.mark.parametrize(
    ("class_reclaim", "original"), [("Retain", "Delete"), ("Delete", "Retain")]
)
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
            f"{LABEL}=daily,{MADE_BY}=rotator",
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


def test_a_snapshot_without_a_class_gets_a_copy_without_one(script_bin):
    snap, content = source("app", "data-daily-3", "2026-11-26T03:00:00Z")
    del snap["volumeSnapshotClassName"]
    result = drill(script_bin, cluster([(snap, content)]))

    assert result.returncode == 0, result.stderr
    content_sent, copy_sent, *_ = (yaml.safe_load(text) for text in result.stdins)
    assert "volumeSnapshotClassName" not in content_sent["spec"]
    assert copy_sent["spec"] == {"source": {"volumeSnapshotContentName": COPY_CONTENT}}
    assert leftovers(result) == NOTHING_LEFT
