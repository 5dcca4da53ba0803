"""Offline plan time of each stack against the import floor, side by side in one run.

The floor is a fresh process that only imports the SDK modules the program uses (found by
running the plan once and listing its pulumi / pulumi_aws / pulumi_kubernetes / pydantic
modules, leaving out the lazily registered ones it never loaded). Each measurement is a fresh
process, as ``pulumi preview`` runs the program; the median of ``--runs`` is reported.
Target: prod plan <= 2x the floor.

    python benchmarks/plan_vs_import.py [--runs 7]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.results import record  # noqa: E402

# As under make: bytecode is cached, so each measured process starts from it, whatever the
# caller's PYTHONDONTWRITEBYTECODE (uv installs none).
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
SDKS = ("pulumi", "pulumi_aws", "pulumi_kubernetes", "pydantic")

LIST_MODULES = """
import json, sys
from tools.offline import run_stack
run_stack(sys.argv[1])
sdks = {sdks!r}
# pulumi_aws registers every service module lazily; those the plan never touches stay unloaded.
loaded = [m for m, mod in sys.modules.items() if type(mod).__name__ != "_LazyModule"]
print(json.dumps(sorted(m for m in loaded if m.split('.')[0] in sdks)))
"""


def used_modules(stack: str) -> list[str]:
    out = subprocess.run(
        [sys.executable, "-c", LIST_MODULES.format(sdks=SDKS), stack],
        cwd=ROOT,
        env=ENV,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def timed(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, cwd=ROOT, env=ENV, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def median_of(argv: list[str], runs: int) -> float:
    timed(argv)  # warm the file cache and bytecode
    return statistics.median(timed(argv) for _ in range(runs))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--stacks", nargs="*", default=["dev", "prod"])
    args = parser.parse_args()

    modules = sorted(set().union(*(used_modules(s) for s in args.stacks)))
    # Like the plan command, the floor process exits without interpreter teardown.
    floor_code = "import os, " + ", ".join(modules) + "; os._exit(0)"
    floor = median_of([sys.executable, "-c", floor_code], args.runs)
    print(f"import floor ({len(modules)} SDK modules): {floor:.3f} s")
    worst = 0.0
    figures = {"import floor": round(floor, 2)}
    ratios = {}
    for stack in args.stacks:
        plan = median_of([sys.executable, "-m", "tools.plan", stack], args.runs)
        ratio = plan / floor
        worst = max(worst, ratio)
        print(f"offline plan {stack:<8} {plan:.3f} s   ratio {ratio:.2f}x the floor")
        figures[f"offline plan {stack}"] = round(plan, 2)
        ratios[stack] = round(ratio, 2)
    print(f"target: prod plan <= 2.00x the floor -> {'met' if worst <= 2 else 'MISSED'}")
    stacks = " ".join(args.stacks)
    record(
        "plan_vs_import",
        figures,
        f"python benchmarks/plan_vs_import.py --runs {args.runs} --stacks {stacks}",
        ratios=ratios,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
