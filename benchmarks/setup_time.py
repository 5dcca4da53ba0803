"""Set-up time from a fresh clone: the README's first command, and CI.

Each run clones the committed HEAD into a new directory (no ./venv, no bytecode) and times, in
a fresh process, `make plan` (the quick start's first command: it creates ./venv from the lock
and plans dev) and `CI=true bash .ci/run` (what CI runs). The package caches, and the locked uv
that make keeps in the user's cache, stay warm, as on any machine after its first install;
nothing else carries over. Medians of --runs are reported with the load average, since other
work on the machine slows both. For .ci/run, the time before its test phase (a fresh venv from
the lock, lint, schema, zizmor, offline plans) is reported apart from the test suite, which
grows with the project. Targets on a 2-core machine: make plan <= 10 s, .ci/run <= 45 s.

    python benchmarks/setup_time.py [--runs 3] [--ci-runs 1]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.results import record  # noqa: E402

TARGETS = {"make plan": 10.0, ".ci/run": 45.0}
TESTS_START = re.compile(r"^== tests \(at ([\d.]+) s\)$", re.M)


def fresh_clone() -> Path:
    parent = Path(tempfile.mkdtemp(prefix="setup-time-"))
    subprocess.run(["git", "clone", "-q", str(ROOT), str(parent / "p")], check=True)
    return parent / "p"


def timed(argv: list[str]) -> tuple[float, float | None]:
    """Wall time, and the moment the tests started when the command reports it (.ci/run)."""
    clone = fresh_clone()
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "VENV")}
    env["CI"] = "true"
    try:
        start = time.perf_counter()
        out = subprocess.run(
            argv, cwd=clone, env=env, check=True, capture_output=True, text=True
        ).stdout
        tests = TESTS_START.search(out)
        return time.perf_counter() - start, float(tests.group(1)) if tests else None
    finally:
        shutil.rmtree(clone.parent, ignore_errors=True)


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="runs of make plan")
    parser.add_argument("--ci-runs", type=int, default=1, help="runs of .ci/run (0: skip)")
    args = parser.parse_args()

    commands = {"make plan": (["make", "-s", "plan"], args.runs)}
    if args.ci_runs:
        commands[".ci/run"] = (["bash", ".ci/run"], args.ci_runs)
    failed = False
    figures: dict[str, object] = {}
    before_load = [round(x, 2) for x in os.getloadavg()]
    print(f"load average before: {load()}")
    for label, (argv, runs) in commands.items():
        results = [timed(argv) for _ in range(runs)]
        median = statistics.median(total for total, _ in results)
        target = TARGETS[label]
        verdict = "ok" if median <= target else "OVER"
        failed |= verdict != "ok"
        spread = ", ".join(f"{total:.1f}" for total, _ in results)
        print(
            f"{label:9} median {median:5.1f} s (runs: {spread}), target {target:.0f} s: {verdict}"
        )
        figures[f"{label} median"] = round(median, 1)
        figures[f"{label} runs"] = [round(total, 1) for total, _ in results]
        before = [b for _, b in results if b is not None]
        if before:
            b = statistics.median(before)
            print(f"{'':9} before the tests {b:5.1f} s, the test suite {median - b:5.1f} s")
            figures[f"{label} before the tests"] = round(b, 1)
            figures[f"{label} test suite"] = round(median - b, 1)
    print(f"load average after: {load()}")
    record(
        "setup_time",
        figures,
        f"python benchmarks/setup_time.py --runs {args.runs} --ci-runs {args.ci_runs}",
        targets=TARGETS,
        load_average_before=before_load,
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
