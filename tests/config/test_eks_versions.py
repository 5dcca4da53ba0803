"""The EKS version calendar and what a stack may run: known versions only, never past extended
support, a warning near the end of standard support, upgrades one minor at a time."""

from __future__ import annotations

import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from design import eks_versions as ev
from tests.support.plan_helpers import rejected
from tests.support.stack_values import broken
from tools.offline import run_config, stack_config
from tools.report import version_lines

D = datetime.date


def months_later(day: datetime.date, months: int) -> datetime.date:
    month = day.month - 1 + months
    return day.replace(year=day.year + month // 12, month=month % 12 + 1)


def test_the_calendar_is_ordered_and_follows_the_14_and_12_month_rule():
    minors = [v.minor for v in ev.CALENDAR]
    assert minors == sorted(minors) and len(set(minors)) == len(minors)
    for version in ev.CALENDAR:
        assert version.released < version.end_of_standard < version.end_of_extended
        assert months_later(version.end_of_standard, 12) == version.end_of_extended, version
        # Standard support is 14 months from release, to within the days AWS rounds to.
        assert abs((months_later(version.released, 14) - version.end_of_standard).days) <= 5


@pytest.mark.parametrize(
    ("on", "expected"),
    [(D(2026, 11, 28), "1.36"), (D(2026, 5, 1), "1.35"), (D(2025, 12, 1), "1.34")],
)
def test_the_default_is_the_newest_version_in_standard_support(on, expected):
    assert ev.default_version(on) == expected


def test_support_problems():
    on = D(2026, 11, 28)
    assert ev.support_problem("1.31", on) == (
        "1.31 left extended support on 2026-11-26: upgrade first"
    )
    assert "not an EKS version" in ev.support_problem("1.37", on)
    assert "not released on EKS until 2026-06-02" in ev.support_problem("1.36", D(2026, 5, 1))
    for version in ("1.32", "1.33", "1.34", "1.35", "1.36"):
        assert ev.support_problem(version, on) is None


@given(days=st.integers(-400, 400))
def test_a_warning_exactly_within_60_days_of_the_end_of_standard_support(days):
    version = ev.BY_VERSION["1.34"]
    on = version.end_of_standard - datetime.timedelta(days=days)
    warning = ev.support_warning("1.34", "STANDARD", on)
    if days > ev.WARN_DAYS:
        assert warning is None
    else:
        assert warning is not None
        assert "EKS will upgrade the control plane itself" in warning


def test_upgrades_go_one_minor_forward():
    assert ev.upgrade_problem("1.35", "1.35") is None
    assert ev.upgrade_problem("1.35", "1.36") is None
    assert "one minor at a time" in ev.upgrade_problem("1.34", "1.36")
    assert "rollback" in ev.upgrade_problem("1.36", "1.35")


def test_config_refuses_versions_past_extended_support_and_unknown_ones(monkeypatch):
    monkeypatch.setattr(ev, "today", lambda: D(2026, 11, 28))
    line = rejected(
        "dev", broken(stack_config("dev"), "kubernetesVersion", "1.31"), "kubernetesVersion"
    )
    assert "left extended support on 2026-11-26" in line
    line = rejected(
        "dev", broken(stack_config("dev"), "kubernetesVersion", "1.37"), "kubernetesVersion"
    )
    assert "not an EKS version this program knows" in line


def test_an_unset_version_is_the_newest_in_standard_support(monkeypatch, dev_values):
    monkeypatch.setattr(ev, "today", lambda: D(2026, 11, 28))
    del dev_values["eks-config-storage:kubernetesVersion"]
    plan = run_config("dev", dev_values)
    assert plan.one("aws:eks/cluster:Cluster").inputs["version"] == "1.36"


def test_the_upgrade_policy_comes_from_config(dev_values):
    dev_values["eks-config-storage:upgradePolicy"] = {"supportType": "EXTENDED"}
    cluster = run_config("dev", dev_values).one("aws:eks/cluster:Cluster")
    assert cluster.inputs["upgradePolicy"] == {"supportType": "EXTENDED"}


def test_the_plan_warns_near_the_end_of_standard_support(plans, dev_values):
    dev_values["eks-config-storage:kubernetesVersion"] = "1.34"
    lines = version_lines(run_config("dev", dev_values), on=D(2026, 11, 28))
    assert lines == [
        "  Kubernetes 1.34: standard support until 2026-12-02, extended until 2027-12-02; "
        "upgrade policy STANDARD",
        "  warning: Kubernetes 1.34 leaves standard support on 2026-12-02 (in 4 days): EKS will "
        "upgrade the control plane itself, ahead of the nodes; upgrade one minor at a time",
    ]
    assert len(version_lines(plans["prod"], on=D(2026, 11, 28))) == 1
