"""Pruning releases the physical snapshot in every class: the script switches each pruned
generation's VolumeSnapshotContent to Delete before deleting the VolumeSnapshot, never
deletes a snapshot it could not release, and never touches what its policy did not make."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from design import snapshots as snapshot_design
from tests.support.snapshot_harness import (
    BOUND_JSONPATH,
    CONTENT_JSONPATH,
    DAILY,
    EXISTS_JSONPATH,
    NOW,
    NOW_EPOCH,
    UNKNOWN_CHECK,
    WEEKLY,
    day,
    pvc,
    release_patch,
    run_fake,
    snap,
    with_contents,
)

DAY = 86400


def rfc3339(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


POLICIES = ["Delete", "Retain"]


def content_of(state: dict, ns: str, name: str) -> dict:
    (s,) = [s for s in state["snapshots"] if (s["namespace"], s["name"]) == (ns, name)]
    (content,) = [c for c in state["contents"] if c["name"] == s["boundVolumeSnapshotContentName"]]
    return content


def test_retain_class_prunes_by_releasing_the_content_then_deleting(kube):
    old = [snap("app", f"data-{n}", day(n), "data") for n in (1, 2)]
    result = kube.run({"pvcs": [pvc("app", "data")], "snapshots": old}, "Retain", KEEP="2")

    assert result.returncode == 0, result.stderr
    content = content_of(result.before, "app", "data-1")["name"]
    assert result.calls[8:] == UNKNOWN_CHECK
    assert result.calls[4:8] == [
        ["get", "volumesnapshot", "--namespace", "app", "data-1", "-o", BOUND_JSONPATH],
        ["get", "volumesnapshotcontent", content, "-o", CONTENT_JSONPATH],
        [
            "patch",
            "volumesnapshotcontent",
            content,
            "--type=merge",
            "-p",
            release_patch("app", "data-1"),
        ],
        ["delete", "volumesnapshot", "--namespace", "app", "data-1", "--wait=false"],
    ]
    new = result.created_name("app", "data")
    assert result.surviving("app", "data") == {"data-2", new}
    # The released content and its physical snapshot went with the VolumeSnapshot; the kept
    # generations stay protected by Retain.
    assert content not in {c["name"] for c in result.state["contents"]}
    assert len(result.physical("app", "data")) == 2
    for name in ("data-2", new):
        assert content_of(result.state, "app", name)["deletionPolicy"] == "Retain"
    assert f"pruned app/data-1 (beyond keep; content {content} was Retain)" in result.lines()


def test_delete_class_contents_are_marked_as_pruned_too(kube):
    """A content that is already Delete is still patched: the annotation keeps the reconciler
    (storage_policy_reconcile.sh) from setting it back to Retain before the controller deletes
    it, which would leave it and its physical snapshot behind, bound to nothing."""
    old = [snap("app", f"data-{n}", day(n), "data") for n in (1, 2)]
    result = kube.run({"pvcs": [pvc("app", "data")], "snapshots": old}, "Delete", KEEP="1")

    assert result.returncode == 0, result.stderr
    assert result.deleted() == ["app/data-1", "app/data-2"]
    assert result.patched() == ["snapcontent-old-0000", "snapcontent-old-0001"]
    assert len(result.physical("app", "data")) == 1


@pytest.mark.parametrize(("deletion_policy", "released"), [("Retain", False), ("Delete", True)])
def test_stand_in_deletes_content_and_physical_snapshot_only_under_delete(
    tmp_path, deletion_policy, released
):
    """Why the patch exists, shown on the stand-in: deleting a VolumeSnapshot alone leaves
    a Retain content and its physical snapshot behind for good."""
    state = with_contents({"snapshots": [snap("app", "data-1", day(1), "data")]}, deletion_policy)
    delete = ["delete", "volumesnapshot", "--namespace", "app", "data-1", "--wait=false"]
    returncode, out, after = run_fake(tmp_path, state, delete)

    assert (returncode, out) == (0, 'volumesnapshot.snapshot.storage.k8s.io "data-1" deleted\n')
    assert after["snapshots"] == []
    assert [c["name"] for c in after["contents"]] == ([] if released else ["snapcontent-old-0000"])
    assert after["physical"] == ([] if released else ["snap-old-0000"])


def test_stand_in_binds_new_snapshots_with_the_class_policy(tmp_path):
    manifest = (
        "apiVersion: snapshot.storage.k8s.io/v1\nkind: VolumeSnapshot\n"
        "metadata: {name: data-1, namespace: app}\n"
        "spec: {volumeSnapshotClassName: ebs-csi, source: {persistentVolumeClaimName: data}}\n"
    )
    state = {"classes": {"ebs-csi": "Retain"}}
    returncode, _, after = run_fake(tmp_path, state, ["create", "-f", "-"], manifest)

    assert returncode == 0
    (created,) = after["snapshots"]
    assert created["boundVolumeSnapshotContentName"] == "snapcontent-0001"
    assert after["contents"] == [
        {
            "name": "snapcontent-0001",
            "deletionPolicy": "Retain",
            "snapshotHandle": "snap-0001",
            "volumeSnapshotRef": {"namespace": "app", "name": "data-1"},
            "volumeSnapshotClassName": "ebs-csi",
            "volumeHandle": "vol-app-data",
            "resourceVersion": "1001",
        }
    ]
    assert after["physical"] == ["snap-0001"]


@pytest.mark.parametrize("deletion_policy", POLICIES)
def test_a_failed_patch_keeps_that_snapshot_prunes_the_others_and_fails(kube, deletion_policy):
    old = [snap("app", f"data-{n}", day(n), "data") for n in (1, 2, 3)]
    state = with_contents(
        {"pvcs": [pvc("app", "data")], "snapshots": old, "fail_patch": ["snapcontent-old-0001"]},
        deletion_policy,
    )
    # Whatever the class, the content of data-2 was set to Retain by hand.
    content_of(state, "app", "data-2")["deletionPolicy"] = "Retain"
    result = kube.run(state, deletion_policy, KEEP="1")

    assert result.returncode == 1
    assert result.patched() == [
        "snapcontent-old-0000",
        "snapcontent-old-0001",
        "snapcontent-old-0002",
    ]
    assert result.deleted() == ["app/data-1", "app/data-3"]
    assert result.surviving("app", "data") == {"data-2", result.created_name("app", "data")}
    assert content_of(result.state, "app", "data-2")["deletionPolicy"] == "Retain"
    assert "kept 2 of 4 for app/data" in result.lines()


@pytest.mark.parametrize("deletion_policy", POLICIES)
def test_unbound_or_misbound_generations_are_not_deleted(kube, deletion_policy):
    old = [
        snap("app", "data-1", day(1), "data", bound=False),
        snap("app", "data-2", day(2), "data"),
        snap("app", "data-3", day(3), "data"),
    ]
    state = with_contents({"pvcs": [pvc("app", "data")], "snapshots": old}, deletion_policy)
    # data-2's content points at another snapshot: releasing it would release that one.
    content_of(state, "app", "data-2")["volumeSnapshotRef"]["name"] = "elsewhere"
    result = kube.run(state, deletion_policy, KEEP="1")

    assert result.returncode == 1
    assert result.deleted() == ["app/data-3"]
    assert result.patched() == ["snapcontent-old-0002"]
    assert result.surviving("app", "data") == {
        "data-1",
        "data-2",
        result.created_name("app", "data"),
    }
    assert "app/data-1 is not bound to a VolumeSnapshotContent" in result.stderr
    assert "does not point back at app/data-2" in result.stderr
    assert content_of(result.state, "app", "data-2")["deletionPolicy"] == deletion_policy


# --------------------------------------------------------------------- property

TIMESTAMPS = [day(20), day(26), "2026-11-27T02:59:59Z", NOW]
generations = st.lists(
    st.tuples(st.sampled_from(TIMESTAMPS), st.text("abc", min_size=1, max_size=3), st.booleans()),
    max_size=6,
    unique_by=lambda g: g[1],
)


def bystanders() -> list[dict]:
    """Snapshots the daily policy did not make, in the namespaces it visits: old enough to be
    pruned if they were its orphans."""
    return [
        snap("app", "data-weekly", day(1), "data", labels=WEEKLY),  # another policy
        snap("app", "data-manual", day(1), "data", labels={}),  # taken by hand
        snap("app", "data-manual-old", day(1), "data", labels={}, bound=False),
        # Velero's, of a deleted PVC: it copies the policy label, never the made-by one.
        snap("other", "data-velero", day(1), "data", rotator=False),
        snap("app", "logs-weekly", day(1), "logs", labels=WEEKLY),  # another policy's orphan
    ]


WINDOWS = [DAY, 3 * DAY, 7 * DAY]
# The daily policy's generations of app/logs (unlabelled: left the policy) and of other/data
# (deleted; a PVC of the same name as a covered one), each some half-days old.
orphans = st.lists(
    st.tuples(
        st.integers(0, 20).map(lambda halves: halves * DAY // 2),
        st.sampled_from([("app", "logs"), ("other", "data")]),
        st.text("abc", min_size=1, max_size=3),
    ),
    max_size=5,
    unique_by=lambda o: (o[1], o[2]),
)


def expected_doomed(generations: list[dict], new: str, keep: int) -> list[str]:
    ordered = sorted([*[(s["creationTimestamp"], s["name"]) for s in generations], (NOW, new)])
    return [name for _, name in ordered[: max(0, len(ordered) - keep)]]


@settings(max_examples=20)
@given(
    drawn=st.tuples(generations, generations),
    keep=st.integers(1, 5),
    deletion_policy=st.sampled_from(POLICIES),
    situation=st.tuples(
        st.sampled_from(["ready", "create fails", "never ready"]),
        st.booleans(),
        orphans,
        st.sampled_from(WINDOWS),
    ),
)
def test_pruning_bounds_physical_snapshots_and_touches_nothing_else(
    kube_image, drawn, keep, deletion_policy, situation
):
    """Two PVCs of the policy, app/data (whose new snapshot may fail) and app/db, among
    snapshots the policy did not make, its orphans of various ages, and perhaps a release of
    app/db's an earlier run left behind (the controller's cache missed it): that one is
    finished whatever else happens, and exactly the orphans older than the window go."""
    outcome, missed, drawn_orphans, window = situation
    orphan_snaps = [
        snap(ns, f"{pvc_name}-o{s}", rfc3339(NOW_EPOCH - age), pvc_name)
        for age, (ns, pvc_name), s in drawn_orphans
    ]
    generations_of = {
        pvc_name: [
            snap("app", f"{pvc_name}-{s}", ts, pvc_name, ready=ready) for ts, s, ready in draw
        ]
        for pvc_name, draw in zip(("data", "db"), drawn, strict=True)
    }
    state = {
        "pvcs": [pvc("app", "data"), pvc("app", "db"), pvc("app", "logs", labels={})],
        "snapshots": [
            *generations_of["data"],
            *generations_of["db"],
            *bystanders(),
            *orphan_snaps,
        ],
        "fail_create_for": ["app/data"] if outcome == "create fails" else [],
        "never_ready": ["app/data"] if outcome == "never ready" else [],
    }
    leftover = missed_release("db-earlier", "db") if missed else {"contents": [], "physical": []}
    state |= leftover
    result = kube_image.run(
        state, deletion_policy, KEEP=str(keep), ORPHAN_MAX_AGE_SECONDS=str(window)
    )
    for content in leftover["contents"]:
        assert content["name"] not in {c["name"] for c in result.state["contents"]}
        assert content["snapshotHandle"] not in result.state["physical"]

    before = {(s["namespace"], s["name"]): s for s in result.before["snapshots"]}
    after = {(s["namespace"], s["name"]): s for s in result.state["snapshots"]}
    contents_after = {c["name"]: c for c in result.state["contents"]}
    for s in bystanders():
        key = (s["namespace"], s["name"])
        assert after[key] == before[key]
        bound = before[key]["boundVolumeSnapshotContentName"]
        if bound:
            assert contents_after[bound] == content_of(result.before, *key)
            assert contents_after[bound]["snapshotHandle"] in result.state["physical"]

    pruned = {"data": [], "db": []}
    for pvc_name, old in generations_of.items():
        if pvc_name == "data" and outcome != "ready":
            # Nothing of app/data is released or deleted; its physical snapshots all remain.
            assert {(s["namespace"], s["name"]) for s in old} <= set(after)
            assert len(result.physical("app", "data")) == len(old) + (outcome == "never ready")
            continue
        new = result.created_name("app", pvc_name)
        pruned[pvc_name] = expected_doomed(old, new, keep)
        kept = {s["name"] for s in old} | {new}
        kept -= set(pruned[pvc_name])
        assert result.surviving("app", pvc_name) == kept
        assert result.physical("app", pvc_name) == {
            content_of(result.state, "app", name)["snapshotHandle"] for name in kept
        }
        assert len(result.physical("app", pvc_name, DAILY)) <= keep

    doomed = [*pruned["data"], *pruned["db"]]
    assert result.deleted() == [f"app/{name}" for name in doomed]
    released = [content_of(result.before, "app", name)["name"] for name in doomed]
    assert result.patched() == released

    # Orphans: created strictly before the cutoff go, oldest first, physical snapshots too;
    # the others stay, whatever the covered PVCs' runs did.
    cutoff = rfc3339(NOW_EPOCH - window)
    aged = sorted(
        (s["creationTimestamp"], s["namespace"], s["name"])
        for s in orphan_snaps
        if s["creationTimestamp"] < cutoff
    )
    assert result.deleted(orphans=True) == [f"{ns}/{name}" for _, ns, name in aged]
    assert result.patched(orphans=True) == [
        content_of(result.before, ns, name)["name"] for _, ns, name in aged
    ]
    gone = {(ns, name) for _, ns, name in aged}
    for s in orphan_snaps:
        key = (s["namespace"], s["name"])
        handle = content_of(result.before, *key)["snapshotHandle"]
        assert (key in after) is (key not in gone)
        assert (handle in result.state["physical"]) is (key not in gone)
    assert result.returncode == (0 if outcome == "ready" else 1), result.stderr


def test_content_verbs_are_exactly_those_the_rotator_is_granted(kube):
    """The rotator's ClusterRole grants on contents exactly the verbs a run uses: pruning
    (get, patch) and finishing a release that outlived its snapshot (list, delete)."""
    old = [snap("app", f"data-{n}", day(n), "data") for n in (1, 2)]
    state = {"pvcs": [pvc("app", "data")], "snapshots": old, **missed_release()}
    result = kube.run(state, "Retain", KEEP="1")

    verbs = {
        ("get", "volumesnapshotcontents"): "list",
        ("get", "volumesnapshotcontent"): "get",
        ("patch", "volumesnapshotcontent"): "patch",
        ("delete", "volumesnapshotcontent"): "delete",
    }
    used = sorted(
        {verbs[tuple(a[:2])] for a in result.releases + result.calls if "content" in a[1]}
    )
    rules = snapshot_design.rotator_rules()
    (granted,) = [r for r in rules if "volumesnapshotcontents" in r["resources"]]
    assert used == granted["verbs"] == ["delete", "get", "list", "patch"]
    assert granted["apiGroups"] == ["snapshot.storage.k8s.io"]


# ------------------------------------------------------- releases the controller missed


def missed_release(name: str = "data-0", pvc_name: str = "data", ns: str = "app") -> dict:
    """A content a prune released (Delete, marked) whose snapshot is gone: the controller's
    cache had not seen the release when the snapshot was deleted, and it never deletes a
    content bound to no snapshot (external-snapshotter@v8.3.0 syncContent)."""
    handle = f"snap-missed-{name}"
    return {
        "contents": [
            {
                "name": f"snapcontent-missed-{name}",
                "deletionPolicy": "Delete",
                "snapshotHandle": handle,
                "volumeSnapshotClassName": "ebs-retain-prod",
                "volumeSnapshotRef": {"namespace": ns, "name": name},
                "annotations": {"snapshots.eks-config-storage.io/pruning": f"{ns}/{name}"},
            }
        ],
        "physical": [handle],
    }


@pytest.mark.parametrize("deletion_policy", POLICIES)
def test_a_release_the_controller_missed_is_finished_by_the_next_run(kube, deletion_policy):
    old = [snap("app", f"data-{n}", day(n), "data") for n in (1, 2)]
    first = kube.run(
        {"pvcs": [pvc("app", "data")], "snapshots": old, "stale_cache": ["app/data-1"]},
        deletion_policy,
        KEEP="2",
    )
    assert first.returncode == 0, first.stderr
    missed = content_of(first.before, "app", "data-1")
    (left,) = [c for c in first.state["contents"] if c["name"] == missed["name"]]
    assert left["deletionPolicy"] == "Delete"
    assert missed["snapshotHandle"] in first.state["physical"]

    # The next run (of any policy: here one that has no PVC to snapshot today, within the
    # window its orphans keep).
    second = kube.run(
        {**first.state, "stale_cache": [], "pvcs": []},
        deletion_policy,
        KEEP="2",
        ORPHAN_MAX_AGE_SECONDS=str(60 * 86400),
    )
    assert second.returncode == 0, second.stderr
    finish = ["delete", "volumesnapshotcontent", missed["name"], "--wait=false"]
    assert [*finish, "--ignore-not-found"] in second.releases
    assert missed["name"] not in {c["name"] for c in second.state["contents"]}
    assert missed["snapshotHandle"] not in second.state["physical"]
    assert f"deleted {missed['name']}: released when app/data-1 was pruned" in second.stdout
    # Two generations kept, each with its physical snapshot: nothing piles up.
    assert len(second.physical("app", "data")) == 2


def test_contents_not_released_or_still_bound_are_left_alone(kube):
    """Only a released content whose snapshot is gone is deleted: not one whose snapshot is
    still there (a generation, or being deleted), not a marked one already being deleted, not
    one someone else made Delete, not a Retain one."""
    old = [snap("app", "data-1", day(1), "data")]
    state = with_contents({"pvcs": [pvc("app", "data")], "snapshots": old}, "Retain")
    bound = content_of(state, "app", "data-1")
    bound.update(
        deletionPolicy="Delete",
        annotations={"snapshots.eks-config-storage.io/pruning": "app/data-1"},
    )
    deleting = missed_release("data-0")["contents"][0] | {"deletionTimestamp": NOW}
    foreign = missed_release("other-0")["contents"][0] | {"annotations": {}}
    kept = missed_release("kept-0")["contents"][0] | {"deletionPolicy": "Retain"}
    state["contents"] += [deleting, foreign, kept]
    result = kube.run(state, "Retain", KEEP="5")

    assert result.returncode == 0, result.stderr
    assert [a for a in result.releases if a[0] == "delete"] == []
    names = {c["name"] for c in result.state["contents"]}
    assert {bound["name"], deleting["name"], foreign["name"], kept["name"]} <= names
    # The still-bound one was checked, and found bound to its snapshot.
    assert result.releases[1] == [
        "get",
        "volumesnapshot",
        "--namespace",
        "app",
        "data-1",
        "--ignore-not-found",
        "-o",
        EXISTS_JSONPATH,
    ]


def test_a_release_that_cannot_be_finished_fails_the_run_after_the_snapshots(kube):
    missed = missed_release()
    state = {
        "pvcs": [pvc("app", "data")],
        "fail_delete_content": [missed["contents"][0]["name"]],
        **missed,
    }
    result = kube.run(state, "Retain", KEEP="2")

    assert result.returncode == 1
    assert result.created_name("app", "data")  # the run still took today's snapshot
    assert "cannot delete snapcontent-missed-data-0, released when app/data-0 was pruned" in (
        result.stderr
    )
    assert "some contents released by earlier runs are still there" in result.stderr
