"""Snapshot schedules are checked as Kubernetes reads a CronJob schedule: never accepted when the
API server (robfig/cron v3's ParseStandard, plus its TZ check) would refuse them, accepted for
every standard expression, refused by key with a message saying why, nothing registered."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from config import ConfigError, load_stack_config
from config.schedules import MACROS, schedule_problem
from tests.support.plan_helpers import rejected
from tests.support.stack_values import MINIMAL, broken
from tools.offline import stack_config

MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]
# (low, high, names) per field, from robfig/cron@v3.0.1:spec.go.
BOUNDS = [
    (0, 59, {}),
    (0, 23, {}),
    (1, 31, {}),
    (1, 12, {m: i + 1 for i, m in enumerate(MONTHS)}),
    (0, 6, {d: i for i, d in enumerate(DAYS)}),
]
GO_INT = re.compile(r"[+-]?[0-9]+")


def kubernetes_accepts(spec: str) -> bool:
    """A transcription of what the API server accepts: validateScheduleFormat's TZ check
    (kubernetes/kubernetes@v1.34.0:pkg/apis/batch/validation/validation.go) and ParseStandard
    (robfig/cron@v3.0.1:parser.go: Parse, getField, getRange, parseIntOrName, mustParseInt)."""
    if not spec or "TZ" in spec:
        return False
    if spec.startswith("@"):
        return spec in MACROS or spec.startswith("@every ")
    fields = spec.split()
    if len(fields) != 5:
        return False
    return all(
        _range_ok(expr, *bounds)
        for field, bounds in zip(fields, BOUNDS, strict=True)
        for expr in field.split(",")
        if expr
    )


def _range_ok(expr: str, low: int, high: int, names: dict[str, int]) -> bool:
    range_and_step = expr.split("/")
    low_and_high = range_and_step[0].split("-")
    if low_and_high[0] in ("*", "?"):
        start, end = low, high
    else:
        ends = [_int_or_name(e, names) for e in low_and_high]
        if None in ends or len(ends) > 2:
            return False
        start, end = ends[0], ends[-1]
    step = 1
    if len(range_and_step) == 2:
        step = _int_or_name(range_and_step[1], {})
        if step is None:
            return False
        if len(low_and_high) == 1:
            end = high
    elif len(range_and_step) > 2:
        return False
    return low <= start <= end <= high and step > 0


def _int_or_name(text: str, names: dict[str, int]) -> int | None:
    if text.lower() in names:
        return names[text.lower()]
    if GO_INT.fullmatch(text) and int(text) >= 0:
        return int(text)
    return None


CRONISH = st.text(alphabet="0123456789*?,-/ LW#@TZ=MONjanSUNfriesvry", max_size=24)


@given(spec=CRONISH | st.text(max_size=30))
def test_nothing_kubernetes_refuses_is_accepted(spec):
    problem = schedule_problem(spec)
    assert problem is None or isinstance(problem, str)
    if problem is None:
        assert kubernetes_accepts(spec), spec


@st.composite
def fields(draw, low: int, high: int, names: tuple[str, ...] = ()):
    def value(v: int) -> str:
        if names and draw(st.booleans()):
            name = names[v - low]
            return draw(st.sampled_from([name, name.upper(), name.title()]))
        return str(v)

    a, b = sorted(draw(st.tuples(st.integers(low, high), st.integers(low, high))))
    term = draw(
        st.sampled_from(["*", "?", "single", "range", "star-step", "range-step"])
        if a < b
        else st.sampled_from(["*", "?", "single", "star-step"])
    )
    if term == "single":
        return value(a)
    if term == "range":
        return f"{value(a)}-{value(b)}"
    if term == "star-step":
        return f"*/{draw(st.integers(1, high - low))}"
    if term == "range-step":
        return f"{value(a)}-{value(b)}/{draw(st.integers(1, b - a))}"
    return term


def field_lists(low, high, names=()):
    return st.lists(fields(low, high, names), min_size=1, max_size=3).map(",".join)


STANDARD = st.builds(
    lambda *parts: " ".join(parts),
    field_lists(0, 59),
    field_lists(0, 23),
    field_lists(1, 28),  # every month has days 1-28
    field_lists(1, 12, tuple(MONTHS)),
    field_lists(0, 6, tuple(DAYS)),
)


@given(spec=STANDARD | st.sampled_from(MACROS))
def test_every_standard_schedule_is_accepted(spec):
    assert kubernetes_accepts(spec)
    assert schedule_problem(spec) is None


@given(
    field=st.sampled_from(range(5)),
    value=st.sampled_from([60, 24, 32, 13, 7]) | st.integers(100, 999),
)
def test_values_outside_kubernetes_ranges_are_refused_naming_the_field(field, value):
    parts = ["0", "0", "1", "*", "*"]
    high = BOUNDS[field][1]
    bad = value if value > high else high + 1
    parts[field] = str(bad)
    problem = schedule_problem(" ".join(parts))
    names = ["minute", "hour", "day of month", "month", "day of week"]
    assert problem is not None and problem.startswith(names[field])
    assert not kubernetes_accepts(" ".join(parts))


REFUSED = [
    # (schedule, what the message says)
    ("0 0 3 * * *", "no seconds"),
    ("0 0 3 * * * 2030", "no seconds"),
    ("0 3 * *", "found 4"),
    ("CRON_TZ=UTC 0 3 * * *", "timeZone"),
    ("TZ=Europe/Paris 0 3 * * *", "timeZone"),
    ("@every 6h", "counts its runs from the CronJob's creation"),
    ("@DAILY", "unknown macro"),
    ("@reboot", "unknown macro"),
    ("0 0 * * 7", "Sunday is 0 or SUN"),
    ("0 0 * * 5-7", "Sunday is 0 or SUN"),
    ("0 0 L * *", "'L' and 'W'"),
    ("0 0 15W * *", "'L' and 'W'"),
    ("0 0 * * 5L", "'L' and 'W'"),
    ("0 0 * * MON#2", "'#'"),
    ("*/60 * * * *", "selects only 0"),
    ("0 */24 * * *", "selects only 0"),
    ("0 0 30 2 *", "never fires"),
    ("0 0 31 4,6,9,11 *", "never fires"),
    ("61 * * * *", "minute '61' is not valid: minute takes 0-59"),
    ("0 0 * 13 *", "month takes 1-12 or JAN-DEC"),
    ("5-1 * * * *", "a <= b"),
    ("*/0 * * * *", "n >= 1"),
    ("every day", "found 2"),
]


@pytest.mark.parametrize(("schedule", "says"), REFUSED)
def test_refused_schedules_say_why(schedule, says):
    problem = schedule_problem(schedule)
    assert problem is not None and says in problem


ACCEPTED = ["0 0 29 2 *", "0 0 30 2 1", "0 3 ? * MON-FRI", "0 0 1 jan,jul *", "5/15 * * * *"]


@pytest.mark.parametrize("schedule", ACCEPTED)
def test_kubernetes_schedules_that_look_odd_are_accepted(schedule):
    assert kubernetes_accepts(schedule) and schedule_problem(schedule) is None


def test_a_bad_schedule_is_refused_by_key_before_any_resource():
    policies = [{"name": "daily", "schedule": "0 3 * * 7", "keep": 3}]
    values = broken(stack_config("dev"), "snapshots.policies", policies)
    line = rejected("dev", values, "snapshots.policies[0].schedule")
    assert "Sunday is 0 or SUN" in line


@given(index=st.integers(0, 2), schedule=st.sampled_from([s for s, _ in REFUSED]))
def test_every_policy_is_checked_by_its_own_key(index, schedule):
    policies = [{"name": f"p{i}", "schedule": "@daily", "keep": 1} for i in range(3)]
    policies[index]["schedule"] = schedule
    with pytest.raises(ConfigError) as failure:
        load_stack_config({**MINIMAL, "snapshots": {"policies": policies}}, "dev")
    assert [key for key, _ in failure.value.problems] == [f"snapshots.policies[{index}].schedule"]
