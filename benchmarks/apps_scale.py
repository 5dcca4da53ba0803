"""Offline plan time as the number of apps grows (10, 50, 200 by default).

Each size is a generated stack file: the dev stack with N apps that each have settings, two
secrets, S3 access and a storage budget (about a dozen resources per app). Each plan runs in a
fresh process, as ``pulumi preview`` would; the median of ``--runs`` is reported, with the
marginal cost per app between sizes and a least-squares fit to judge linearity.
Target: 200 apps plan in <= 10 s.

    python benchmarks/apps_scale.py [--sizes 10 50 200] [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
# As under make: bytecode is cached, so each measured process starts from it, whatever the
# caller's PYTHONDONTWRITEBYTECODE (uv installs none).
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
sys.path.insert(0, str(ROOT))

from benchmarks.results import record  # noqa: E402
from tools.offline import stack_config  # noqa: E402

STACK = "bench"


def app(i: int) -> dict:
    name = f"app{i:03d}"
    return {
        "name": name,
        "config": {"LOG_LEVEL": "info", "UPSTREAM_URL": f"https://{name}.internal", "WORKERS": "4"},
        "secrets": [
            {"key": "DB_PASSWORD", "secretsManager": f"{name}/db", "property": "password"},
            {"key": "WEBHOOK_TOKEN", "parameter": f"{name}/webhook"},
        ],
        "aws": {"s3": [{"bucket": f"example-{name}-data", "prefix": "in/", "access": "readwrite"}]},
        "storage": [{"class": f"gp3-ssd-{STACK}-rwo", "requests": "10Gi", "claims": 2}],
    }


def stack_file(directory: Path, apps: int) -> Path:
    values = stack_config("dev")
    values["eks-config-storage:apps"] = [app(i) for i in range(apps)]
    path = directory / f"Pulumi.{STACK}-{apps}.yaml"
    path.write_text(yaml.safe_dump({"config": values}))
    return path


def plan_times(path: Path, runs: int) -> list[float]:
    argv = [sys.executable, "-m", "tools.plan", STACK, "--stack-file", str(path)]
    subprocess.run(argv, cwd=ROOT, env=ENV, check=True, stdout=subprocess.DEVNULL)  # warm caches
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, cwd=ROOT, env=ENV, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 50, 200])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        spreads = {n: plan_times(stack_file(Path(tmp), n), args.runs) for n in args.sizes}
    results = [(n, statistics.median(times)) for n, times in spreads.items()]

    print(f"{'apps':>5}  {'median (s)':>10}  {'min-max (s)':>12}  {'marginal per app (ms)':>22}")
    previous = None
    for n, seconds in results:
        marginal = (
            "" if previous is None else f"{(seconds - previous[1]) / (n - previous[0]) * 1000:.1f}"
        )
        spread = f"{min(spreads[n]):.2f}-{max(spreads[n]):.2f}"
        print(f"{n:>5}  {seconds:>10.2f}  {spread:>12}  {marginal:>22}")
        previous = (n, seconds)
    slope, intercept = statistics.linear_regression(
        [n for n, _ in results], [s for _, s in results]
    )
    worst = max(abs(s - (intercept + slope * n)) / s for n, s in results)
    print(f"fit: {intercept:.2f} s + {slope * 1000:.1f} ms/app; worst deviation {worst:.1%}")
    largest, seconds = results[-1]
    verdict = "met" if largest < 200 or seconds <= 10 else "MISSED"
    print(f"target: 200 apps <= 10 s -> {verdict} ({largest} apps: {seconds:.2f} s)")
    figures = {f"{n} apps median": round(s, 2) for n, s in results}
    figures["fit intercept"] = round(intercept, 2)
    sizes = " ".join(str(n) for n in args.sizes)
    record(
        "apps_scale",
        figures,
        f"python benchmarks/apps_scale.py --sizes {sizes} --runs {args.runs}",
        milliseconds={"per app": round(slope * 1000, 1)},
        worst_deviation=round(worst, 3),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
