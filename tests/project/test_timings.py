"""Every time the manual states is one a benchmark measured (benchmarks/results.json)."""

from __future__ import annotations

import re

import pytest

from benchmarks import results
from tests.support.docs_pages import PAGES, page_id

# ------------------------------------------------------------------ timings are measured

# A time the manual states: "4.3 s", "1.23, 1.64 and 3.02 s", "9.4 ms".
TIMING = re.compile(r"((?:\d+\.\d+)(?:(?:,\s*|,?\s+and\s+)\d+\.\d+)*)\s?(s|ms)\b")
UNITS = {"s": "seconds", "ms": "milliseconds"}
# Times the docs quote from an upstream document rather than measure, each with its source.
QUOTED = {
    (
        "docs/pipeline.md",
        "7.5",
    ): "GitHub's cancellation: SIGINT, SIGTERM after 7.5 s (docs.github.com,"
    " Workflow cancellation reference)",
    ("docs/pipeline.md", "2.5"): "then the process tree is killed 2.5 s later (same page)",
}


def stated_timings(text: str) -> list[tuple[str, str]]:
    return [
        (number, UNITS[unit])
        for numbers, unit in TIMING.findall(text)
        for number in re.findall(r"\d+\.\d+", numbers)
    ]


def test_timings_are_found_in_prose_and_lists():
    text = "took 4.3 s; 1.23, 1.64 and 3.02 s: 9.4 ms per app; 3.0 bits; version 1.35"
    assert stated_timings(text) == [
        ("4.3", "seconds"),
        ("1.23", "seconds"),
        ("1.64", "seconds"),
        ("3.02", "seconds"),
        ("9.4", "milliseconds"),
    ]


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_every_stated_timing_is_a_measured_one(page):
    unmeasured = []
    for number, unit in stated_timings(page.read_text()):
        decimals = len(number.split(".")[1])
        measured = {f"{value:.{decimals}f}" for value in results.figures(unit)}
        if number not in measured and (page_id(page), number) not in QUOTED:
            unmeasured.append(f"{number} {unit}")
    assert unmeasured == [], "quote benchmarks/results.json, or rerun the benchmark"


def test_a_benchmark_replaces_only_its_own_entry(tmp_path):
    path = tmp_path / "results.json"
    results.record("a", {"x": 1.5, "runs": [1.4, 1.6]}, "python a.py", path=path, cores_note=2)
    results.record("b", {"y": 2.25}, "python b.py", path=path)
    results.record("a", {"x": 1.7}, "python a.py --runs 1", path=path)
    data = results.load(path)
    assert data["a"]["seconds"] == {"x": 1.7} and data["a"]["command"] == "python a.py --runs 1"
    assert data["b"]["seconds"] == {"y": 2.25}
    assert {"date", "cores", "python", "load_average"} <= set(data["a"])
    assert sorted(results.figures("seconds", path)) == [1.7, 2.25]
    assert results.figures("milliseconds", path) == []
