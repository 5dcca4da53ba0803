"""Tests for jobs/snapshot_rotate.sh, run by real shells against a fake kubectl.

tests/support/fake_kubectl.py keeps the cluster's state and logs every call, so each test
states a cluster, runs the script and checks the exact calls, deletions and survivors.
"""

from __future__ import annotations

import json
import re

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.snapshot_harness import (
    DAILY,
    LABEL,
    LABELLED_LISTING,
    MADE_BY,
    NOW,
    PVC_ANNOTATION,
    ROTATOR,
    UNKNOWN_CHECK,
    WEEKLY,
    day,
    new_name_pattern,
    pvc,
    run_fake,
    snap,
)

# The calls that prune one generation, whatever the class's deletionPolicy.
PRUNE = [
    "get volumesnapshot",
    "get volumesnapshotcontent",
    "patch volumesnapshotcontent",
    "delete volumesnapshot",
]
# Every run ends looking for PVCs and snapshots of policies that are not configured.
UNKNOWN_STEPS = ["get persistentvolumeclaims", "get volumesnapshots"]

# ------------------------------------------------------------------ behaviour


def test_no_matching_pvcs_exits_zero_without_changes(kube):
    result = kube.run({"pvcs": [pvc("app", "data", labels={})]})

    assert result.returncode == 0, result.stderr
    assert "no PVCs match" in result.stdout
    assert result.calls == [LABELLED_LISTING, *UNKNOWN_CHECK]


def test_first_snapshot_of_a_pvc_creates_one_and_prunes_nothing(kube):
    result = kube.run({"pvcs": [pvc("app", "data")]})

    assert result.returncode == 0, result.stderr
    name = result.created_name("app", "data")
    assert result.steps() == [
        "get persistentvolumeclaims",
        "create",
        "wait",
        "get volumesnapshots",
        *UNKNOWN_STEPS,
    ]
    assert result.calls[2] == [
        "wait",
        "--namespace",
        "app",
        "--for=jsonpath={.status.readyToUse}=true",
        "--timeout=600s",
        f"volumesnapshot/{name}",
    ]
    assert result.calls[3][:6] == [
        "get",
        "volumesnapshots",
        "--namespace",
        "app",
        "-l",
        f"{LABEL}=daily,{MADE_BY}=rotator",
    ]
    (new,) = result.created()
    assert new["labels"] == {**DAILY, **ROTATOR}
    assert new["annotations"] == {PVC_ANNOTATION: "data"}
    assert new["volumeSnapshotClassName"] == "ebs-csi"
    assert result.deleted() == []
    assert result.lines() == [
        f"snapshot created app/{name}",
        f"snapshot ready app/{name}",
        "kept 1 of 1 for app/data",
        "policy daily: 1 PVCs snapshotted",
    ]


def test_create_manifest_has_the_agreed_shape(kube):
    result = kube.run({"pvcs": [pvc("app", "data")]})

    (manifest,) = [yaml.safe_load(text) for text in result.stdins]
    name = result.created_name("app", "data")
    assert manifest == {
        "apiVersion": "snapshot.storage.k8s.io/v1",
        "kind": "VolumeSnapshot",
        "metadata": {
            "name": name,
            "namespace": "app",
            "labels": {**DAILY, **ROTATOR},
            "annotations": {PVC_ANNOTATION: "data"},
        },
        "spec": {
            "volumeSnapshotClassName": "ebs-csi",
            "source": {"persistentVolumeClaimName": "data"},
        },
    }


def test_keep_three_of_five_deletes_exactly_the_three_oldest(kube):
    # Names run against time, so only a real sort on the timestamp gets this right.
    old = [snap("app", f"data-{c}", day(n), "data") for n, c in enumerate("edcba", start=1)]
    result = kube.run({"pvcs": [pvc("app", "data")], "snapshots": old}, KEEP="3")

    assert result.returncode == 0, result.stderr
    assert result.deleted() == ["app/data-e", "app/data-d", "app/data-c"]
    new = result.created_name("app", "data")
    assert result.surviving("app", "data") == {"data-b", "data-a", new}
    assert "kept 3 of 6 for app/data" in result.lines()


@pytest.mark.parametrize("list_reversed", [False, True], ids=["by-name", "reversed"])
def test_ties_on_timestamp_are_pruned_in_name_order(kube, list_reversed):
    old = [snap("app", f"data-{c}", day(10), "data") for c in "dbac"]
    state = {"pvcs": [pvc("app", "data")], "snapshots": old, "list_reversed": list_reversed}
    result = kube.run(state, KEEP="2")

    assert result.deleted() == ["app/data-a", "app/data-b", "app/data-c"]
    assert result.surviving("app", "data") == {"data-d", result.created_name("app", "data")}


def test_unselected_pvcs_are_neither_snapshotted_nor_pruned(kube):
    pvcs = [
        pvc("app", "data"),
        pvc("app", "scratch", labels={}),
        pvc("app", "archive", labels=WEEKLY),
    ]
    old = [snap("app", f"scratch-{n}", day(n), "scratch") for n in (1, 2, 3)]
    old += [snap("app", f"archive-{n}", day(n), "archive", labels=WEEKLY) for n in (1, 2)]
    # Within their window, scratch's generations (orphans) stay too.
    result = kube.run({"pvcs": pvcs, "snapshots": old}, KEEP="1", ORPHAN_MAX_AGE_SECONDS=LONG)

    assert result.returncode == 0, result.stderr
    assert [s["pvc"] for s in result.created()] == ["data"]
    assert result.deleted() == []
    assert result.deleted(orphans=True) == []
    assert result.surviving("app", "scratch") == {"scratch-1", "scratch-2", "scratch-3"}
    assert result.surviving("app", "archive", WEEKLY) == {"archive-1", "archive-2"}


def test_only_this_pvcs_snapshots_of_this_policy_count(kube):
    old = [
        snap("app", "data-1", day(5), "data"),
        snap("app", "data-2", day(6), "data"),
        # Older than everything above, but not this PVC's or not this policy's.
        snap("app", "logs-1", day(1), "logs"),
        snap("app", "logs-2", day(2), "logs"),
        snap("app", "data-weekly", day(1), "data", labels=WEEKLY),
        snap("app", "data-manual", day(1), "data", labels={}),
        snap("app", "data-other-tool", day(1), "data", labels={"team": "db"}),
        snap("app", "from-content", day(1), ""),
    ]
    pvcs = [pvc("app", "data"), pvc("app", "logs")]
    result = kube.run({"pvcs": pvcs, "snapshots": old}, KEEP="2", ORPHAN_MAX_AGE_SECONDS=LONG)

    assert result.returncode == 0, result.stderr
    # Counted together they would lose logs-1, logs-2 and data-1.
    assert result.deleted() == ["app/data-1", "app/logs-1"]
    assert "kept 2 of 3 for app/data" in result.lines()
    assert "kept 2 of 3 for app/logs" in result.lines()
    survivors = {s["name"] for s in result.state["snapshots"]}
    assert {"data-weekly", "data-manual", "data-other-tool", "from-content"} <= survivors


def test_same_pvc_name_in_two_namespaces_is_counted_separately(kube):
    old = [snap("team-a", f"db-{n}", day(n), "db") for n in (1, 2, 3)]
    old += [snap("team-b", "db-9", day(9), "db")]
    pvcs = [pvc("team-a", "db"), pvc("team-b", "db")]
    result = kube.run({"pvcs": pvcs, "snapshots": old}, KEEP="2")

    assert result.returncode == 0, result.stderr
    assert result.deleted() == ["team-a/db-1", "team-a/db-2"]
    assert "kept 2 of 4 for team-a/db" in result.lines()
    assert "kept 2 of 2 for team-b/db" in result.lines()
    assert result.surviving("team-b", "db") == {"db-9", result.created_name("team-b", "db")}


def test_names_that_look_like_numbers_or_yaml_keywords(kube):
    # awk would compare 100 and 1e2 as equal numbers; unquoted YAML would make true a bool.
    names = ["100", "1e2", "true"]
    old = [snap("app", f"{name}-old", day(1), name) for name in names]
    pvcs = [pvc("app", name) for name in names]
    result = kube.run({"pvcs": pvcs, "snapshots": old}, KEEP="1")

    assert result.returncode == 0, result.stderr
    assert result.deleted() == [f"app/{name}-old" for name in names]
    for name in names:
        assert result.surviving("app", name) == {result.created_name("app", name)}


def test_long_pvc_name_is_cut_to_a_valid_253_character_name(kube):
    # 253 - len("-daily-") - 14 = 232: the cut lands just after the "-", which must go too.
    long_pvc = "x" * 231 + "-" + "y" * 21
    result = kube.run({"pvcs": [pvc("app", long_pvc)]})

    assert result.returncode == 0, result.stderr
    (new,) = result.created()
    assert re.fullmatch(r"x{231}-daily-\d{14}", new["name"]), new["name"]
    assert new["pvc"] == long_pvc
    assert new["annotations"] == {PVC_ANNOTATION: long_pvc}


def test_custom_policy_label_and_timeout(kube):
    label = "backup.example.com/tier"
    old = [
        snap("app", "data-1", day(1), "data", labels={label: "hourly"}),
        snap("app", "data-2", day(2), "data", labels={label: "hourly"}),
        snap("app", "data-default-key", day(1), "data", labels={LABEL: "hourly"}),
    ]
    result = kube.run(
        {"pvcs": [pvc("app", "data", labels={"tier": "hot"})], "snapshots": old},
        POLICY="hourly",
        KNOWN_POLICIES="hourly",
        SELECTOR="tier=hot",
        POLICY_LABEL=label,
        READY_TIMEOUT="5m",
        KEEP="1",
    )

    assert result.returncode == 0, result.stderr
    assert result.deleted() == ["app/data-1", "app/data-2"]
    (new,) = result.created()
    assert new_name_pattern("data", "hourly").fullmatch(new["name"])
    assert new["labels"] == {label: "hourly", **ROTATOR}
    assert "--timeout=5m" in result.calls[2]
    assert any(s["name"] == "data-default-key" for s in result.state["snapshots"])


# --------------------------------------------------------------------- failures


def test_create_failure_skips_that_pvc_and_fails_the_run(kube):
    pvcs = [pvc("app", name) for name in ("a", "b", "c")]
    old = [snap("app", f"{name}-{n}", day(n), name) for name in ("a", "b", "c") for n in (1, 2)]
    result = kube.run({"pvcs": pvcs, "snapshots": old, "fail_create_for": ["app/b"]}, KEEP="1")

    assert result.returncode == 1
    rotate_and_prune_two = ["create", "wait", "get volumesnapshots", *PRUNE * 2]
    assert result.steps() == [
        "get persistentvolumeclaims",
        *rotate_and_prune_two,
        "create",
        *rotate_and_prune_two,
        *UNKNOWN_STEPS,
    ]
    assert result.deleted() == ["app/a-1", "app/a-2", "app/c-1", "app/c-2"]
    assert result.surviving("app", "b") == {"b-1", "b-2"}
    assert "app/b" in result.stderr
    assert "1 of 3 PVCs failed" in result.stderr


def test_snapshot_that_never_becomes_ready_is_not_followed_by_pruning(kube):
    old = [snap("app", f"data-{n}", day(n), "data") for n in (1, 2, 3)]
    state = {"pvcs": [pvc("app", "data")], "snapshots": old, "never_ready": ["app/data"]}
    result = kube.run(state, KEEP="1")

    assert result.returncode == 1
    assert result.steps() == ["get persistentvolumeclaims", "create", "wait", *UNKNOWN_STEPS]
    assert result.deleted() == []
    assert result.surviving("app", "data") == {
        "data-1",
        "data-2",
        "data-3",
        result.created_name("app", "data"),
    }
    assert "not ready" in result.stderr


def test_failed_delete_still_prunes_the_rest_and_fails_the_run(kube):
    old = [snap("app", f"data-{n}", day(n), "data") for n in (1, 2, 3)]
    state = {"pvcs": [pvc("app", "data")], "snapshots": old, "fail_delete": ["app/data-2"]}
    result = kube.run(state, KEEP="1")

    assert result.returncode == 1
    assert result.deleted() == ["app/data-1", "app/data-2", "app/data-3"]
    assert result.surviving("app", "data") == {"data-2", result.created_name("app", "data")}
    assert "kept 2 of 4 for app/data" in result.lines()
    assert "app/data-2" in result.stderr


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"KEEP": "0"}, "KEEP"),
        ({"KEEP": "abc"}, "KEEP"),
        ({"KEEP": "-1"}, "KEEP"),
        ({"KEEP": "07"}, "KEEP"),
        ({"KEEP": "1234567890"}, "KEEP"),
        ({"KEEP": None}, "KEEP is required"),
        ({"MAX_AGE_SECONDS": "0"}, "MAX_AGE_SECONDS"),
        ({"MAX_AGE_SECONDS": "36h"}, "MAX_AGE_SECONDS"),
        ({"MAX_AGE_SECONDS": "0600"}, "MAX_AGE_SECONDS"),
        ({"MAX_AGE_SECONDS": "12345678901"}, "MAX_AGE_SECONDS"),
        ({"ORPHAN_MAX_AGE_SECONDS": None}, "ORPHAN_MAX_AGE_SECONDS is required"),
        ({"ORPHAN_MAX_AGE_SECONDS": "0"}, "ORPHAN_MAX_AGE_SECONDS '0'"),
        ({"ORPHAN_MAX_AGE_SECONDS": "3d"}, "ORPHAN_MAX_AGE_SECONDS '3d'"),
        ({"ORPHAN_MAX_AGE_SECONDS": "12345678901"}, "ORPHAN_MAX_AGE_SECONDS '12345678901'"),
        ({"POLICY": None}, "POLICY is required"),
        ({"KNOWN_POLICIES": None}, "KNOWN_POLICIES is required"),
        ({"KNOWN_POLICIES": "weekly"}, "does not name POLICY 'daily'"),
        ({"KNOWN_POLICIES": "daily,,weekly"}, "KNOWN_POLICIES entry ''"),
        ({"KNOWN_POLICIES": "daily,Weekly"}, "KNOWN_POLICIES entry 'Weekly'"),
        ({"KNOWN_POLICIES": "daily weekly"}, "KNOWN_POLICIES entry 'daily weekly'"),
        ({"POLICY": "Daily"}, "POLICY"),
        ({"POLICY": "daily-"}, "POLICY"),
        ({"SELECTOR": None}, "SELECTOR is required"),
        ({"SNAPSHOT_CLASS": None}, "SNAPSHOT_CLASS is required"),
        ({"SNAPSHOT_CLASS": 'ebs"csi'}, "SNAPSHOT_CLASS"),
        ({"READY_TIMEOUT": "600"}, "READY_TIMEOUT"),
        ({"READY_TIMEOUT": "soon"}, "READY_TIMEOUT"),
        ({"POLICY_LABEL": "bad key"}, "POLICY_LABEL"),
        ({"POLICY_LABEL": "a/b/c"}, "POLICY_LABEL"),
    ],
    ids=lambda v: json.dumps(v) if isinstance(v, dict) else None,
)
def test_invalid_configuration_exits_2_before_calling_kubectl(kube, overrides, message):
    result = kube.run({"pvcs": [pvc("app", "data")]}, **overrides)

    assert result.returncode == 2
    assert result.calls == []
    assert message in result.stderr


# --------------------------------------------------------------------- property

# Longer than any fixture's age: orphans (tests/jobs/test_snapshot_orphans.py) stay.
LONG = str(60 * 86400)

TIMESTAMPS = [day(20), day(26), "2026-11-27T02:59:59Z", NOW]
existing_snapshots = st.lists(
    st.tuples(st.sampled_from(TIMESTAMPS), st.text("abc", min_size=1, max_size=3)),
    max_size=6,
    unique_by=lambda pair: pair[1],
)


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(existing=existing_snapshots, keep=st.integers(1, 5), list_reversed=st.booleans())
def test_prune_keeps_exactly_the_newest_keep(kube_image, existing, keep, list_reversed):
    old = [snap("app", f"data-{suffix}", ts, "data") for ts, suffix in existing]
    bystanders = [
        snap("app", "logs-old", day(1), "logs"),
        snap("app", "data-weekly", day(1), "data", labels=WEEKLY),
    ]
    state = {
        "pvcs": [pvc("app", "data")],
        "snapshots": old + bystanders,
        "list_reversed": list_reversed,
    }
    result = kube_image.run(state, KEEP=str(keep), ORPHAN_MAX_AGE_SECONDS=LONG)

    assert result.returncode == 0, result.stderr
    new = result.created_name("app", "data")
    ordered = sorted([*[(s["creationTimestamp"], s["name"]) for s in old], (NOW, new)])
    doomed = [name for _, name in ordered[: max(0, len(ordered) - keep)]]
    assert result.deleted() == [f"app/{name}" for name in doomed]
    assert len(result.surviving("app", "data")) == min(keep, len(existing) + 1)
    assert {"logs-old", "data-weekly"} <= {s["name"] for s in result.state["snapshots"]}


# ------------------------------------------------------------ script hygiene


# Parsing and shellcheck: tests/jobs/test_scripts.py, for every script.


@pytest.mark.parametrize(
    "argv",
    [
        ["get", "pods"],
        ["get", "volumesnapshots", "--namespace", "app", "-l", "a=b", "-o", "json"],
        ["delete", "volumesnapshot", "--namespace", "app", "x"],
        ["get", "persistentvolumeclaims", "-l", "a in (b)", "--all-namespaces"],
        ["get", "volumesnapshot", "--namespace", "app", "x", "-o", "yaml"],
        ["get", "volumesnapshotcontent", "c", "-o", "json"],
        ["patch", "volumesnapshotcontent", "c", "--type=json", "-p", "[]"],
        ["patch", "volumesnapshotcontent", "c", "--type=merge", "-p", '{"metadata":{}}'],
        # Releasing without marking the content as being pruned is no longer a form in use.
        [
            "patch",
            "volumesnapshotcontent",
            "c",
            "--type=merge",
            "-p",
            '{"spec":{"deletionPolicy":"Delete"}}',
        ],
        ["get", "persistentvolumeclaims", "--all-namespaces", "-o", "json"],
        ["patch", "volumesnapshot", "x", "--namespace", "app", "--type=merge", "-p", "{}"],
        ["delete", "volumesnapshotcontent", "c"],
    ],
)
def test_fake_kubectl_refuses_unknown_forms(tmp_path, argv):
    returncode, output, _ = run_fake(tmp_path, {}, argv)
    assert returncode == 3
    assert "fake kubectl: unsupported" in output
