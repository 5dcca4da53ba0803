"""Protection by class: a class whose protection.snapshotPolicies names a policy puts its PVCs
under that policy's job whatever their labels (CLASSES). Labelled PVCs come first, each PVC is
snapshotted once per run, and every other guarantee holds: pruning counts only this policy's
generations of each PVC, and a label naming an unknown policy still fails the run."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support.snapshot_harness import (
    DAILY,
    LABEL,
    LABELLED_LISTING,
    ROTATOR,
    UNKNOWN_CHECK,
    WEEKLY,
    day,
    pvc,
    snap,
)

CLASS_JSONPATH = (
    '{range .items[*]}{.metadata.namespace}{" "}{.metadata.name}{" "}'
    '{.spec.storageClassName}{"\\n"}{end}'
)
CLASS_LISTING = [
    "get",
    "persistentvolumeclaims",
    "--all-namespaces",
    "-o",
    f"jsonpath={CLASS_JSONPATH}",
]


def snapshotted(result) -> list[str]:
    """ns/pvc of each snapshot the run created, in creation order."""
    return [f"{s['namespace']}/{s['pvc']}" for s in result.created()]


def test_a_class_covers_its_pvcs_whatever_their_labels(kube):
    pvcs = [
        pvc("app", "data", storage_class="gp3"),  # labelled only
        pvc("app", "both", storage_class="io2"),  # labelled and on the class: once
        pvc("app", "db", labels={}, storage_class="io2"),  # the class only
        pvc("team", "db", labels={"team": "x"}, storage_class="io2"),  # the class only
        pvc("app", "scratch", labels={}, storage_class="gp3"),  # neither
        pvc("app", "cache", labels={}, storage_class=""),  # no class at all
    ]
    result = kube.run({"pvcs": pvcs}, CLASSES="io2,io2-ssd-db-prod-rwo")

    assert result.returncode == 0, result.stderr
    assert result.calls[:2] == [LABELLED_LISTING, CLASS_LISTING]
    assert result.calls[-2:] == UNKNOWN_CHECK
    assert snapshotted(result) == ["app/both", "app/data", "app/db", "team/db"]
    assert all(s["labels"] == {**DAILY, **ROTATOR} for s in result.created())
    assert "policy daily: 4 PVCs snapshotted" in result.lines()


def test_without_classes_no_pvc_is_listed_by_class(kube):
    result = kube.run({"pvcs": [pvc("app", "db", labels={}, storage_class="io2")]})

    assert result.returncode == 0, result.stderr
    assert result.calls == [LABELLED_LISTING, *UNKNOWN_CHECK]
    assert result.created() == []


def test_no_pvcs_of_the_label_or_the_classes(kube):
    result = kube.run({"pvcs": [pvc("app", "db", labels={}, storage_class="gp3")]}, CLASSES="io2")

    assert result.returncode == 0, result.stderr
    assert result.calls == [LABELLED_LISTING, CLASS_LISTING, *UNKNOWN_CHECK]
    assert result.lines() == [f"no PVCs match '{LABEL}=daily' or use classes io2 (policy daily)"]


def test_a_class_pvc_labelled_for_another_policy_is_pruned_per_policy(kube):
    old = [snap("app", f"db-{n}", day(n), "db") for n in (1, 2, 3)]
    old += [snap("app", f"db-weekly-{n}", day(n), "db", labels=WEEKLY) for n in (1, 2)]
    pvcs = [pvc("app", "db", labels=WEEKLY, storage_class="io2")]
    result = kube.run({"pvcs": pvcs, "snapshots": old}, "Retain", KEEP="2", CLASSES="io2")

    assert result.returncode == 0, result.stderr
    assert snapshotted(result) == ["app/db"]
    assert result.deleted() == ["app/db-1", "app/db-2"]
    assert result.surviving("app", "db") == {"db-3", result.created_name("app", "db")}
    assert result.surviving("app", "db", WEEKLY) == {"db-weekly-1", "db-weekly-2"}


def test_an_unknown_policy_label_still_fails_a_pvc_the_class_covers(kube):
    pvcs = [pvc("app", "db", labels={LABEL: "nightly"}, storage_class="io2")]
    result = kube.run({"pvcs": pvcs}, CLASSES="io2")

    assert result.returncode == 3
    assert snapshotted(result) == ["app/db"]
    assert f"PVC app/db is labelled {LABEL}=nightly" in result.stderr


def test_a_failed_class_listing_fails_the_run_before_any_snapshot(kube):
    state = {"pvcs": [pvc("app", "data")], "fail_calls": [CLASS_LISTING[:4]]}
    result = kube.run(state, CLASSES="io2")

    assert result.returncode == 1
    assert result.calls == [LABELLED_LISTING, CLASS_LISTING]
    assert result.created() == []
    assert "cannot list PVCs of classes io2" in result.stderr


def test_a_class_name_that_cannot_be_one_is_a_config_error(kube):
    for classes in ("io2,", "IO2", "io2 gp3", ",io2"):
        result = kube.run({"pvcs": []}, CLASSES=classes)
        assert result.returncode == 2, classes
        assert result.calls == []
        assert "CLASSES entry" in result.stderr


CLASS_NAMES = ["gp3", "io2", "st1"]
claims = st.lists(
    st.tuples(
        st.sampled_from(["a", "b"]),
        st.text("xyz", min_size=1, max_size=2),
        st.sampled_from(["daily", "weekly", None]),
        st.sampled_from([*CLASS_NAMES, ""]),
    ),
    max_size=6,
    unique_by=lambda c: (c[0], c[1]),
)


@settings(max_examples=8)
@given(drawn=claims, classes=st.lists(st.sampled_from(CLASS_NAMES), min_size=1, unique=True))
def test_every_pvc_of_the_label_or_the_classes_is_snapshotted_once(kube_image, drawn, classes):
    pvcs = [
        pvc(ns, name, labels={LABEL: policy} if policy else {}, storage_class=cls)
        for ns, name, policy, cls in drawn
    ]
    result = kube_image.run({"pvcs": pvcs}, CLASSES=",".join(classes))

    assert result.returncode == 0, result.stderr
    labelled = sorted((ns, name) for ns, name, policy, _ in drawn if policy == "daily")
    by_class = sorted(
        (ns, name) for ns, name, _, cls in drawn if cls in classes and (ns, name) not in labelled
    )
    assert snapshotted(result) == [f"{ns}/{name}" for ns, name in [*labelled, *by_class]]
