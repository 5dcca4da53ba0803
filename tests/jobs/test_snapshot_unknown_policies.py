"""A renamed or removed policy never stops backups silently: every run, after its own work,
looks for PVCs labelled with a policy that is not configured and fails (status 3) naming
them; snapshots of such policies are reported and never pruned."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support.snapshot_harness import LABEL, UNKNOWN_CHECK, day, pvc, snap

NIGHTLY = {LABEL: "nightly"}  # a policy that was renamed away: not in KNOWN_POLICIES


def test_a_pvc_of_a_renamed_policy_fails_the_run_after_its_own_work(kube):
    pvcs = [pvc("app", "data"), pvc("app", "legacy", labels=NIGHTLY)]
    old = [snap("app", "data-1", day(1), "data")]
    result = kube.run({"pvcs": pvcs, "snapshots": old}, "Retain", KEEP="1")

    assert result.returncode == 3
    new = result.created_name("app", "data")
    assert result.surviving("app", "data") == {new}  # its own work was done
    assert result.calls[-2:] == UNKNOWN_CHECK
    assert result.stderr.splitlines() == [
        f"error: PVC app/legacy is labelled {LABEL}=nightly, a policy that is not configured: "
        "no job snapshots it",
        "error: policy daily: 1 PVCs snapshotted, but 1 PVCs are labelled with a policy that is "
        "not configured (configured: daily,weekly)",
    ]
    assert [s["pvc"] for s in result.created()] == ["data"]


def test_with_no_pvcs_of_its_own_the_run_still_fails_on_orphaned_pvcs(kube):
    # Before, a removed policy's PVCs made every remaining job find nothing and exit 0.
    pvcs = [pvc("team-a", "db", labels=NIGHTLY), pvc("team-b", "db", labels={LABEL: "old"})]
    result = kube.run({"pvcs": pvcs})

    assert result.returncode == 3
    assert result.created() == []
    assert "no PVCs match" in result.stdout
    assert "PVC team-a/db is labelled" in result.stderr
    assert f"PVC team-b/db is labelled {LABEL}=old" in result.stderr
    assert "but 2 PVCs are labelled with a policy that is not configured" in result.stderr


def test_snapshots_of_unknown_policies_are_reported_and_never_touched(kube):
    old = [snap("app", f"legacy-{n}", day(n), "legacy", labels=NIGHTLY) for n in range(1, 25)]
    old += [snap("db", "orders-1", day(1), "orders", labels={LABEL: "old"})]
    state = {"pvcs": [pvc("app", "data")], "snapshots": old}
    result = kube.run(state, "Retain", KEEP="1")

    assert result.returncode == 0, result.stderr
    assert result.deleted() == []
    assert result.patched() == []
    assert result.state["contents"][: len(old)] == result.before["contents"]
    assert set(result.before["physical"]) <= set(result.state["physical"])
    warnings = [line for line in result.lines() if line.startswith("warning:")]
    assert warnings == [
        f"warning: 24 snapshots in namespace app are labelled {LABEL}=nightly, a policy that is "
        "not configured: no job prunes them",
        f"warning: 1 snapshots in namespace db are labelled {LABEL}=old, a policy that is "
        "not configured: no job prunes them",
    ]
    assert result.lines()[-1] == "policy daily: 1 PVCs snapshotted"


def test_a_failure_of_its_own_outranks_orphaned_pvcs(kube):
    pvcs = [pvc("app", "data"), pvc("app", "legacy", labels=NIGHTLY)]
    result = kube.run({"pvcs": pvcs, "fail_create_for": ["app/data"]})

    assert result.returncode == 1
    assert "PVC app/legacy is labelled" in result.stderr
    assert "policy daily: 1 of 1 PVCs failed" in result.stderr


def test_every_configured_policy_counts_as_known(kube):
    pvcs = [pvc("app", "data"), pvc("app", "archive", labels={LABEL: "weekly"})]
    result = kube.run({"pvcs": pvcs}, KNOWN_POLICIES="weekly,daily")

    assert result.returncode == 0, result.stderr
    assert result.calls[-2][4] == f"{LABEL},{LABEL}!=weekly,{LABEL}!=daily"


@settings(max_examples=15)
@given(
    labels=st.lists(
        st.sampled_from(["daily", "weekly", "nightly", "old", None]), min_size=1, max_size=5
    )
)
def test_the_run_fails_exactly_when_some_pvc_has_no_configured_policy(kube_image, labels):
    pvcs = [
        pvc("app", f"v{i}", labels={} if label is None else {LABEL: label})
        for i, label in enumerate(labels)
    ]
    result = kube_image.run({"pvcs": pvcs})

    orphaned = [f"app/v{i}" for i, label in enumerate(labels) if label in ("nightly", "old")]
    assert result.returncode == (3 if orphaned else 0), result.stderr
    named = [line.split()[2] for line in result.stderr.splitlines() if " is labelled " in line]
    assert named == orphaned
    assert sorted(s["pvc"] for s in result.created()) == sorted(
        f"v{i}" for i, label in enumerate(labels) if label == "daily"
    )
