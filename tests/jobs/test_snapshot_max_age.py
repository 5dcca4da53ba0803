"""maxAge: a generation older than the policy's maxAge is pruned even when fewer than ``keep``
exist, but never a PVC's newest ready one. The cutoff is computed once per run with the real
``date`` of the shell under test (GNU or busybox); only ``date -u +%s`` is pinned to NOW."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support.snapshot_harness import NOW, NOW_EPOCH, day, pvc, snap

POLICIES = ["Delete", "Retain"]
HOUR, DAY = 3600, 86400


def rfc3339(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_the_pinned_clock_is_the_stand_ins_now():
    assert rfc3339(NOW_EPOCH) == NOW


@pytest.mark.parametrize("deletion_policy", POLICIES)
def test_generations_older_than_max_age_go_even_below_keep(kube, deletion_policy):
    old = [
        snap("app", "data-1", day(20), "data"),
        snap("app", "data-2", day(25), "data"),  # 12 hours before the cutoff
        snap("app", "data-3", "2026-11-25T15:00:00Z", "data"),  # exactly at the cutoff
        snap("app", "data-4", day(26), "data"),
    ]
    state = {"pvcs": [pvc("app", "data")], "snapshots": old}
    result = kube.run(state, deletion_policy, KEEP="5", MAX_AGE_SECONDS=str(36 * HOUR))

    assert result.returncode == 0, result.stderr
    assert result.lines()[0] == (
        "policy daily: pruning generations created before 2026-11-25T15:00:00Z (maxAge 129600s)"
    )
    assert result.deleted() == ["app/data-1", "app/data-2"]
    assert [line for line in result.lines() if line.startswith("pruned")] == [
        f"pruned app/data-{n} (older than maxAge; content snapcontent-old-000{n - 1} "
        f"was {deletion_policy})"
        for n in (1, 2)
    ]
    new = result.created_name("app", "data")
    assert result.surviving("app", "data") == {"data-3", "data-4", new}
    assert len(result.physical("app", "data")) == 3
    assert "kept 3 of 5 for app/data" in result.lines()


def test_the_newest_ready_generation_is_never_pruned_for_age(kube):
    # The API server's clock is three days behind the job's, so even the snapshot just taken
    # looks older than a one-day maxAge: it is the newest ready one and stays.
    old = [
        snap("app", "data-1", day(20), "data"),
        snap("app", "data-2", day(21), "data"),
        snap("app", "data-3", day(22), "data", ready=False),
    ]
    result = kube.run(
        {"pvcs": [pvc("app", "data")], "snapshots": old},
        "Retain",
        KEEP="3",
        MAX_AGE_SECONDS=str(DAY),
        FAKE_NOW=day(24),
    )

    assert result.returncode == 0, result.stderr
    assert result.deleted() == ["app/data-1", "app/data-2", "app/data-3"]
    assert result.surviving("app", "data") == {result.created_name("app", "data")}
    assert "kept 1 of 4 for app/data" in result.lines()


def test_without_max_age_old_generations_within_keep_stay(kube):
    old = [snap("app", f"data-{n}", day(n), "data") for n in (1, 2)]
    result = kube.run({"pvcs": [pvc("app", "data")], "snapshots": old}, "Retain", KEEP="3")

    assert result.returncode == 0, result.stderr
    assert result.deleted() == []
    assert not any("maxAge" in line for line in result.lines())


@pytest.mark.parametrize("epoch", ["", "soon", "-5"])
def test_a_clock_that_cannot_be_read_stops_the_run_before_any_call(kube, epoch):
    result = kube.run({"pvcs": [pvc("app", "data")]}, MAX_AGE_SECONDS="3600", FAKE_EPOCH=epoch)

    assert result.returncode == 1
    assert result.calls == []
    assert "cannot compute the maxAge cutoff" in result.stderr


# --------------------------------------------------------------------- property

MAX_AGES = [None, HOUR, 36 * HOUR, 14 * DAY, 8 * 7 * DAY]
ages = st.lists(
    st.tuples(st.integers(0, 70 * DAY), st.text("abc", min_size=1, max_size=3), st.booleans()),
    max_size=6,
    unique_by=lambda g: g[1],
)


def expected_pruning(
    generations: list[tuple[str, str, bool]], keep: int, cutoff: str | None
) -> list[tuple[str, str]]:
    """(name, reason) of each generation to prune, oldest first, by the documented rule."""
    ordered = sorted(generations)
    ready = [i for i, (_, _, ok) in enumerate(ordered) if ok]
    newest_ready = ready[-1] if ready else None
    out = []
    for i, (ts, name, _) in enumerate(ordered):
        if i == newest_ready:
            continue
        if i < len(ordered) - keep:
            out.append((name, "beyond keep"))
        elif cutoff is not None and ts < cutoff:
            out.append((name, "older than maxAge"))
    return out


@settings(max_examples=25)
@given(
    existing=ages,
    keep=st.integers(1, 5),
    max_age=st.sampled_from(MAX_AGES),
    deletion_policy=st.sampled_from(POLICIES),
)
def test_age_and_keep_prune_exactly_the_documented_generations(
    kube_image, existing, keep, max_age, deletion_policy
):
    old = [
        snap("app", f"data-{s}", rfc3339(NOW_EPOCH - age), "data", ready=ready)
        for age, s, ready in existing
    ]
    bystander = snap("app", "data-weekly", day(1), "data", labels={"x": "y"})
    overrides = {"MAX_AGE_SECONDS": str(max_age)} if max_age else {}
    state = {"pvcs": [pvc("app", "data")], "snapshots": [*old, bystander]}
    result = kube_image.run(state, deletion_policy, KEEP=str(keep), **overrides)

    assert result.returncode == 0, result.stderr
    new = result.created_name("app", "data")
    cutoff = rfc3339(NOW_EPOCH - max_age) if max_age else None
    generations = [(s["creationTimestamp"], s["name"], s["readyToUse"]) for s in old]
    doomed = expected_pruning([*generations, (NOW, new, True)], keep, cutoff)
    assert result.deleted() == [f"app/{name}" for name, _ in doomed]
    pruned = [line for line in result.lines() if line.startswith("pruned")]
    assert [line.split(" (")[1].split(";")[0] for line in pruned] == [r for _, r in doomed]
    kept = {name for _, name, _ in generations} | {new}
    kept -= {name for name, _ in doomed}
    assert result.surviving("app", "data") == kept
    assert len(result.physical("app", "data")) == len(kept)
    assert new in kept
    assert "data-weekly" in {s["name"] for s in result.state["snapshots"]}
    # The run's own snapshot is the newest ready one, so nothing older than maxAge stays.
    assert len(kept) <= keep
    if cutoff is not None:
        assert [name for ts, name, _ in generations if name in kept and ts < cutoff] == []
