"""The measured figures the manual quotes, in one data file (benchmarks/results.json).

Each benchmark replaces its own entry with the date, the machine (cores, load average) and its
figures in seconds, rounded as printed. The docs quote only figures from this file: a test fails
when README.md or docs/*.md states a time in seconds that no benchmark recorded.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
from pathlib import Path

RESULTS = Path(__file__).resolve().with_name("results.json")


def load(path: Path = RESULTS) -> dict:
    return json.loads(path.read_text()) if path.exists() else {}


def record(
    benchmark: str, figures: dict[str, float], command: str, path: Path = RESULTS, **facts
) -> dict:
    """Replace ``benchmark``'s entry; ``figures`` are seconds, ``facts`` anything else worth
    keeping beside them (runs, targets)."""
    entry = {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d"),
        "command": command,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "seconds": figures,
        **facts,
    }
    data = load(path)
    data[benchmark] = entry
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    return entry


def figures(unit: str = "seconds", path: Path = RESULTS) -> list[float]:
    """Every figure in ``unit`` (``seconds``, ``milliseconds``) the file holds."""
    found = []
    for entry in load(path).values():
        for value in entry.get(unit, {}).values():
            found += value if isinstance(value, list) else [value]
    return found
