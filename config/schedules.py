"""Cron schedules, read the way Kubernetes reads a CronJob's ``.spec.schedule``.

The API server parses a schedule with robfig/cron v3's ``ParseStandard`` and refuses any schedule
containing ``TZ`` (kubernetes/kubernetes@v1.34.0:pkg/apis/batch/validation/validation.go,
``validateScheduleFormat``). ``ParseStandard`` (robfig/cron@v3.0.1:parser.go) takes five fields,
minute 0-59, hour 0-23, day of month 1-31, month 1-12 or JAN-DEC, day of week 0-6 or SUN-SAT
(spec.go: the ``dow`` bounds are ``{0, 6}``, so ``7`` is refused), names in any case, with ``*``,
``?`` (the same as ``*``), ranges, steps and lists; and the descriptors ``@yearly``,
``@annually``, ``@monthly``, ``@weekly``, ``@daily``, ``@midnight``, ``@hourly`` and
``@every <duration>``, spelled exactly so.

cronsim parses each field and the whole expression. It accepts more than Kubernetes does (a
seconds field, ``L``, ``W``, ``#``, ``7`` for Sunday): those are refused here by name. Stricter
than Kubernetes, on purpose:

- ``@every``: the API accepts it, but its runs count from the CronJob's creation or last run
  rather than the clock, so they drift with every re-creation, and Kubernetes documents only the
  other macros (https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/#schedule-syntax).
- A step that keeps one value (``*/60`` in minutes is minute 0, once an hour, not "every 60
  minutes"): cron steps do not carry over from one hour or day to the next.
- A schedule that never fires (30 February): the API accepts it, the controller then fails it on
  every sync (kubernetes/kubernetes@v1.34.0:pkg/controller/cronjob/utils.go,
  ``mostRecentScheduleTime``).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, NamedTuple

from cronsim import CronSim, CronSimError
from pydantic import AfterValidator

MACROS = ("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly")
MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
DAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]
UTC_NOTE = "schedules run in UTC: the program sets the CronJob's timeZone to Etc/UTC"


class CronField(NamedTuple):
    name: str
    low: int
    high: int
    names: tuple[str, ...] = ()

    def describe(self) -> str:
        names = f" or {self.names[0]}-{self.names[-1]}" if self.names else ""
        return f"{self.name} takes {self.low}-{self.high}{names}"


FIELDS = (
    CronField("minute", 0, 59),
    CronField("hour", 0, 23),
    CronField("day of month", 1, 31),
    CronField("month", 1, 12, tuple(MONTHS)),
    CronField("day of week", 0, 6, tuple(DAYS)),
)
START = datetime(2000, 1, 1)


def schedule_problem(schedule: str) -> str | None:
    """Why Kubernetes (or this program) would refuse ``schedule``, or None."""
    if "TZ" in schedule:
        return f"CRON_TZ= and TZ= are refused by Kubernetes in a CronJob schedule; {UTC_NOTE}"
    if schedule.startswith("@"):
        return _macro_problem(schedule)
    fields = schedule.split()
    if len(fields) != len(FIELDS):
        extra = "; Kubernetes schedules have no seconds or year field" if len(fields) > 5 else ""
        return (
            f"expected 5 fields (minute hour day-of-month month day-of-week), "
            f"found {len(fields)}{extra}"
        )
    problems = [p for text, f in zip(fields, FIELDS, strict=True) if (p := _field_problem(text, f))]
    if problems:
        return "; ".join(problems)
    return _never_fires(fields)


def _macro_problem(schedule: str) -> str | None:
    if schedule in MACROS:
        return None
    if schedule.split(maxsplit=1)[0] == "@every":
        return (
            "@every is refused: Kubernetes accepts it, but counts its runs from the CronJob's "
            "creation or last run instead of the clock; write the cron expression "
            "(e.g. '0 */6 * * *' for every six hours)"
        )
    return f"unknown macro {schedule!r}: Kubernetes knows {', '.join(MACROS)} (lower case)"


def _field_problem(text: str, field: CronField) -> str | None:
    for term in text.split(","):
        base, slash, step = term.partition("/")
        ends = [] if base in ("*", "?") else base.split("-")
        if problem := _extension(term, ends, field):
            return problem
        values = [_value(end, field) for end in ends]
        if field.name == "day of week" and 7 in values:
            return "day of week 7 is refused by Kubernetes' parser; Sunday is 0 or SUN"
        if slash and step.isdigit() and int(step) > 0 and None not in values and len(ends) < 3:
            first = values[0] if values else field.low
            last = values[1] if len(values) == 2 else field.high
            if first + int(step) > last and first < last:
                return (
                    f"{field.name} {term!r} selects only {first}: a cron step does not carry "
                    f"over into the next {_unit_above(field)}, so this is not 'every {step}'"
                )
    expression = ["*"] * len(FIELDS)
    expression[FIELDS.index(field)] = text.replace("?", "*")
    try:
        CronSim(" ".join(expression), START)
    except CronSimError:
        return (
            f"{field.name} {text!r} is not valid: {field.describe()}, as values, ranges a-b "
            "(a <= b), steps /n (n >= 1) and lists a,b"
        )
    return None


def _extension(term: str, ends: list[str], field: CronField) -> str | None:
    """Quartz-style extensions cronsim accepts and Kubernetes' parser does not."""
    if "#" in term:
        return f"{field.name} {term!r}: '#' (nth weekday of the month) is not Kubernetes cron"
    for end in ends:
        upper = end.upper()
        if upper in field.names:
            continue
        if upper in ("L", "LW") or (upper[:-1].isdigit() and upper[-1:] in ("L", "W")):
            return (
                f"{field.name} {term!r}: 'L' and 'W' (last day, nearest weekday) are not "
                "Kubernetes cron"
            )
    return None


def _value(end: str, field: CronField) -> int | None:
    if end.upper() in field.names:
        return field.names.index(end.upper()) + (field.low if field.name == "month" else 0)
    return int(end) if end.isdigit() else None


def _unit_above(field: CronField) -> str:
    return {"minute": "hour", "hour": "day", "day of month": "month", "month": "year"}.get(
        field.name, "week"
    )


def _never_fires(fields: list[str]) -> str | None:
    day, month, weekday = fields[2], fields[3], fields[4]
    # robfig/cron matches day of month OR day of week when both are restricted; a weekday always
    # comes, so only a day of month that no listed month has can starve the schedule.
    if not (_is_star(day) or _is_star(weekday)):
        return None
    try:
        next(iter(CronSim(" ".join(fields).replace("?", "*"), START)))
    except CronSimError:
        return f"never fires: no month in {month!r} has day {day!r}"
    return None


def _is_star(text: str) -> bool:
    """robfig/cron's star bit: ``*`` or ``?`` with no step above 1 (parser.go, getRange)."""
    base, _, step = text.partition("/")
    return base in ("*", "?") and step in ("", "1")


MACRO_EXPRESSIONS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}


def longest_gap(schedule: str, runs: int = 800) -> timedelta:
    """The longest wait between two runs of a (valid) schedule over its next ``runs`` runs: the
    recovery point a schedule promises, and how stale its last success may get before it is late.
    """
    expression = MACRO_EXPRESSIONS.get(schedule, schedule).replace("?", "*")
    times = CronSim(expression, START)
    previous = next(times)
    longest = timedelta(0)
    for _ in range(runs):
        current = next(times)
        longest = max(longest, current - previous)
        previous = current
    return longest


def _checked(schedule: str) -> str:
    if problem := schedule_problem(schedule):
        raise ValueError(problem)
    return schedule


CronSchedule = Annotated[str, AfterValidator(_checked)]
"""A CronJob schedule, checked as above; for every schedule key of the config."""
