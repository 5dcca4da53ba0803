"""The stand-in cluster over simulated days: the hourly and daily rotators run on their
schedules with a nightly Velero backup in between (tests/support/fake_velero.py), and every
physical snapshot is traced to who made it and of which PVC."""

from __future__ import annotations

import shutil
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from config.schedules import longest_gap
from design import snapshots as snapshot_design
from tests.support import fake_velero as velero
from tests.support.snapshot_harness import CLASS, LABEL, MADE_BY, Harness, pvc

HOUR = 3600
DAY = 24 * HOUR
START = int(datetime(2026, 12, 1, tzinfo=UTC).timestamp())
KEEP = {"hourly": 6, "daily": 3}
SCHEDULES = {"hourly": "0 * * * *", "daily": "0 3 * * *"}
# What the CronJob of each policy carries (design/snapshots.py): keep runs at its longest gap.
ORPHAN_MAX_AGE = {
    policy: snapshot_design.orphan_max_age_seconds(
        keep=KEEP[policy],
        longest_gap_seconds=int(longest_gap(SCHEDULES[policy]).total_seconds()),
        max_age_seconds=None,
    )
    for policy in KEEP
}
PVCS = [("orders", "db"), ("orders", "wal"), ("catalog", "db")]
NIGHTLY = velero.Schedule(
    excluded_namespaces=("kube-system", "velero"),
    snapshot_classes=("gp3",),
    ttl_seconds=2 * DAY,
)
# The date the rotator names its generations by follows the simulated clock too.
DATE_WRAPPER = """#!/bin/sh
if [ "$#" -eq 2 ] && [ "$1" = -u ] && [ "$2" = +%s ]; then
    printf '%s\\n' "$FAKE_EPOCH"
    exit 0
fi
if [ "$#" -eq 2 ] && [ "$1" = -u ] && [ "$2" = +%Y%m%d%H%M%S ]; then
    exec {date} -u -d "@$FAKE_EPOCH" +%Y%m%d%H%M%S
fi
exec {date} "$@"
"""


def rfc3339(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def dated_harness(root: Path, shell: list[str]) -> Harness:
    """The rotation harness whose generation names follow the simulated clock."""
    kube = Harness(root, shell)
    real = shutil.which("date") or "/bin/date"
    kube.write_tool("date", DATE_WRAPPER.format(date=real))
    return kube


class Cluster:
    """The stand-in cluster over simulated days: who made each physical snapshot, of which
    PVC, and Velero's backups."""

    def __init__(self, harness: Harness, deletion_policy: str, *, strip_exclusion: bool = False):
        self.kube = harness
        self.deletion_policy = deletion_policy
        self.state: dict = {
            "pvcs": [pvc(ns, name, labels={}, storage_class="gp3") for ns, name in PVCS],
            "snapshots": [],
            "contents": [],
            "physical": [],
            "classes": {CLASS: deletion_policy},
        }
        self.origin: dict[str, tuple[str, str]] = {}  # handle -> (origin, ns/pvc)
        self.backups: list[velero.Backup] = []
        self.adopted: list[str] = []
        # Stands for a rotator from before the fix: its generations lack the exclusion label.
        self.strip_exclusion = strip_exclusion
        # The classes each policy covers by construction (its CLASSES).
        self.classes = dict.fromkeys(KEEP, "gp3")

    def rotate(self, policy: str, now: int) -> None:
        run = self.kube.run(
            self.state,
            self.deletion_policy,
            POLICY=policy,
            SELECTOR=f"{LABEL}={policy}",
            CLASSES=self.classes[policy],
            KNOWN_POLICIES="hourly,daily",
            KEEP=str(KEEP[policy]),
            ORPHAN_MAX_AGE_SECONDS=str(ORPHAN_MAX_AGE[policy]),
            FAKE_EPOCH=str(now),
            FAKE_NOW=rfc3339(now),
        )
        assert run.returncode == 0, run.stderr
        self.state = run.state
        contents = {c["name"]: c for c in self.state["contents"]}
        for s in self.state["snapshots"]:
            content = contents.get(s.get("boundVolumeSnapshotContentName") or "")
            if content is not None and s["labels"].get(MADE_BY) == "rotator":
                handle = content["snapshotHandle"]
                self.origin.setdefault(handle, (policy, f"{s['namespace']}/{s['pvc']}"))
            if self.strip_exclusion:
                s["labels"].pop(velero.EXCLUDE_LABEL, None)

    def nightly(self, now: int) -> None:
        name = f"nightly-{rfc3339(now)[:10].replace('-', '')}"
        record = velero.backup(self.state, name, NIGHTLY, now=now, snapshot_class=CLASS)
        for handle, source in record.handles.items():
            self.origin.setdefault(handle, ("velero", source))
        self.adopted += record.adopted
        self.backups = velero.expire(self.state, [*self.backups, record], now=now)

    def in_cluster(self, policy: str) -> Counter:
        return Counter(
            f"{s['namespace']}/{s['pvc']}"
            for s in self.state["snapshots"]
            if s["labels"].get(LABEL) == policy and s["labels"].get(MADE_BY) == "rotator"
        )

    def physical(self, origin: str) -> Counter:
        return Counter(
            self.origin[h][1]
            for h in self.state["physical"]
            if self.origin.get(h, ("", ""))[0] == origin
        )

    def days(self, count: int, check=None, *, first_hour: int = 0) -> None:
        """``count`` days from ``first_hour``: hourly on the hour, nightly at 01:30, daily at
        03:00; ``check(cluster, hour)`` after each hour."""
        for hour in range(first_hour, first_hour + count * 24):
            now = START + hour * HOUR
            self.rotate("hourly", now)
            if hour % 24 == 1:
                self.nightly(now + 30 * 60)
            if hour % 24 == 3:
                self.rotate("daily", now)
            if check is not None:
                check(self, hour)
