"""Runs jobs/snapshot_rotate.sh under real shells against tests/support/fake_kubectl.py.

The fake keeps the cluster in a JSON file and logs every call, so each test states a cluster,
runs the script and checks the exact calls, deletions and survivors: VolumeSnapshots, their
VolumeSnapshotContents and the physical snapshots behind them.
"""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.support.kube_harness import FAKE, SCRIPTS, ScriptBin, ScriptRun

SCRIPT = SCRIPTS / "snapshot_rotate.sh"

LABEL = "snapshots.eks-config-storage.io/policy"
PVC_ANNOTATION = "snapshots.eks-config-storage.io/pvc"
DAILY = {LABEL: "daily"}
MADE_BY = "snapshots.eks-config-storage.io/made-by"
# What the rotator sets on its own generations, beside the policy label.
ROTATOR = {MADE_BY: "rotator", "velero.io/exclude-from-backup": "true"}
WEEKLY = {LABEL: "weekly"}
NOW = "2026-11-27T03:00:00Z"  # the fake's default creationTimestamp for new snapshots
CLASS = "ebs-csi"
BASE_ENV = {
    "POLICY": "daily",
    "SELECTOR": f"{LABEL}=daily",
    "KNOWN_POLICIES": "daily,weekly",
    "KEEP": "3",
    # keep 3 of a daily policy: what CronJobs without maxAge get (design/snapshots.py).
    "ORPHAN_MAX_AGE_SECONDS": str(3 * 86400),
    "SNAPSHOT_CLASS": CLASS,
}
PVC_JSONPATH = '{range .items[*]}{.metadata.namespace}{" "}{.metadata.name}{"\\n"}{end}'
BOUND_JSONPATH = "jsonpath={.status.boundVolumeSnapshotContentName}"
CONTENT_JSONPATH = (
    'jsonpath={.spec.volumeSnapshotRef.namespace}{" "}{.spec.volumeSnapshotRef.name}{" "}'
    "{.spec.deletionPolicy}"
)
PRUNING_ANNOTATION = "snapshots.eks-config-storage.io/pruning"


def release_patch(ns: str, name: str) -> str:
    """The merge patch that releases the content of snapshot ns/name before it is pruned."""
    return (
        f'{{"metadata":{{"annotations":{{"{PRUNING_ANNOTATION}":"{ns}/{name}"}}}},'
        '"spec":{"deletionPolicy":"Delete"}}'
    )


# What every run lists last: PVCs, then snapshots, labelled with a policy not configured.
UNKNOWN_SELECTOR = f"{LABEL},{LABEL}!=daily,{LABEL}!=weekly"
LABELLED_JSONPATH = (
    'jsonpath={range .items[*]}{.metadata.namespace}{"\\t"}{.metadata.name}{"\\t"}'
    '{.metadata.labels.snapshots\\.eks-config-storage\\.io/policy}{"\\n"}{end}'
)
UNKNOWN_CHECK = [
    [
        "get",
        "persistentvolumeclaims",
        "--all-namespaces",
        "-l",
        UNKNOWN_SELECTOR,
        "-o",
        LABELLED_JSONPATH,
    ],
    ["get", "volumesnapshots", "--all-namespaces", "-l", UNKNOWN_SELECTOR, "-o", LABELLED_JSONPATH],
]
# The daily policy's listing of the PVCs labelled for it, first after finishing releases.
LABELLED_LISTING = [
    "get",
    "persistentvolumeclaims",
    "--all-namespaces",
    "-l",
    f"{LABEL}=daily",
    "-o",
    f"jsonpath={PVC_JSONPATH}",
]
NOW_EPOCH = 1795748400  # NOW as seconds since the epoch: the script's clock in every run


def available_shells() -> list:
    """dash, busybox sh and sh where installed; sh is skipped when it is one of the others."""
    params, seen = [], set()
    for name in ("dash", "busybox", "sh"):
        path = shutil.which(name)
        if path is None and name == "busybox":
            reason = "busybox not installed: the image's shell (busybox ash) is not exercised"
            params.append(pytest.param(None, id=name, marks=pytest.mark.skip(reason=reason)))
        if path is None or os.path.realpath(path) in seen:
            continue
        seen.add(os.path.realpath(path))
        argv = [path, "sh"] if name == "busybox" else [path]
        params.append(pytest.param(argv, id=name))
    return params


SHELLS = available_shells()
# The image's shell if installed (busybox ash), else the first other one.
IMAGE_SHELL = sorted(
    (s for s in SHELLS if s.values[0] is not None),
    key=lambda s: s.id != "busybox",
)[:1]


# --------------------------------------------------------------------- builders


def day(n: int) -> str:
    return f"2026-11-{n:02d}T03:00:00Z"


def pvc(ns: str, name: str, labels: dict | None = None, storage_class: str = "gp3") -> dict:
    return {
        "namespace": ns,
        "name": name,
        "labels": DAILY if labels is None else labels,
        "storageClassName": storage_class,
    }


def snap(
    ns: str,
    name: str,
    ts: str,
    pvc_name: str,
    labels: dict | None = None,
    *,
    ready: bool = True,
    bound: bool = True,
    rotator: bool = True,
) -> dict:
    """A VolumeSnapshot, made by the rotator unless ``rotator`` is false; bound ones get a
    content and a physical snapshot when the harness runs, with the deletionPolicy of the run's
    class."""
    out = {
        "namespace": ns,
        "name": name,
        "labels": {**(DAILY if labels is None else labels), **(ROTATOR if rotator else {})},
        "creationTimestamp": ts,
        "pvc": pvc_name,
        "readyToUse": ready,
    }
    if not bound:
        out["boundVolumeSnapshotContentName"] = None
    return out


def with_contents(state: dict, deletion_policy: str) -> dict:
    """Bind every snapshot that does not say otherwise to its own content and physical
    snapshot, as the snapshot controller would have when it was taken."""
    state = copy.deepcopy(state)
    contents, physical = state.setdefault("contents", []), state.setdefault("physical", [])
    for i, s in enumerate(state["snapshots"]):
        if "boundVolumeSnapshotContentName" in s:
            continue
        content = {
            "name": f"snapcontent-old-{i:04d}",
            "deletionPolicy": deletion_policy,
            "snapshotHandle": f"snap-old-{i:04d}",
            "volumeSnapshotRef": {"namespace": s["namespace"], "name": s["name"]},
        }
        s["boundVolumeSnapshotContentName"] = content["name"]
        contents.append(content)
        physical.append(content["snapshotHandle"])
    return state


def new_name_pattern(pvc_name: str, policy: str = "daily") -> re.Pattern:
    return re.compile(rf"{re.escape(pvc_name)}-{policy}-\d{{14}}")


# ---------------------------------------------------------------------- harness


def run_fake(root: Path, state: dict, argv: list[str], stdin: str = "") -> tuple[int, str, dict]:
    """One call of the stand-in kubectl: its status, its output and the state it leaves."""
    state_file, log = root / "state.json", root / "log"
    state_file.write_text(json.dumps(state))
    env = {**os.environ, "FAKE_KUBECTL_STATE": str(state_file), "FAKE_KUBECTL_LOG": str(log)}
    proc = subprocess.run(
        [sys.executable, str(FAKE), *argv],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
    )
    return proc.returncode, proc.stdout + proc.stderr, json.loads(state_file.read_text())


EXISTS_JSONPATH = 'jsonpath={.metadata.name}{" "}{.status.boundVolumeSnapshotContentName}'
# finish_releases, first in every run: the contents listing, then per released content whose
# snapshot may be gone, a check and (if gone) its deletion (jobs/snapshot_rotate.sh).
RELEASES_LISTING = [
    "get",
    "volumesnapshotcontents",
    "-o",
    'jsonpath={range .items[*]}{.metadata.name}{"\\t"}{.spec.volumeSnapshotClassName}'
    '{"\\t"}{.spec.deletionPolicy}{"\\t"}{.metadata.resourceVersion}{"\\t"}'
    '{.spec.source.volumeHandle}{"\\t"}{.metadata.deletionTimestamp}{"\\t"}'
    '{.metadata.annotations.snapshots\\.eks-config-storage\\.io/pruning}{"\\t"}'
    '{.metadata.labels.velero\\.io/backup-name}{"\\n"}{end}',
]


# prune_orphans, last in a run that got that far: this listing, then a prune per orphan.
ORPHANS_LISTING = [
    "get",
    "volumesnapshots",
    "--all-namespaces",
    "-l",
    f"{LABEL}=daily,{MADE_BY}=rotator",
    "-o",
    'jsonpath={range .items[*]}{.metadata.creationTimestamp}{"\\t"}{.metadata.namespace}'
    '{"\\t"}{.metadata.name}{"\\t"}{.spec.source.persistentVolumeClaimName}{"\\n"}{end}',
]


def is_orphans_listing(argv: list[str]) -> bool:
    return argv[:3] == ORPHANS_LISTING[:3] and argv[5:] == ORPHANS_LISTING[5:]


def is_release_step(argv: list[str]) -> bool:
    return argv[:2] in (["get", "volumesnapshot"], ["delete", "volumesnapshotcontent"]) and (
        "--ignore-not-found" in argv
    )


@dataclass
class Result(ScriptRun):
    releases: list[list[str]] = field(default_factory=list)
    """The calls that finished earlier releases (the listing first); ``calls`` is the rest."""
    orphans: list[list[str]] = field(default_factory=list)
    """The calls that pruned orphans (the listing first), split off the end of ``calls``."""

    def steps(self) -> list[str]:
        """The calls by kind: 'get persistentvolumeclaims', 'create', 'wait', ..."""
        return [" ".join(a[:2]) if a[0] in ("get", "delete", "patch") else a[0] for a in self.calls]

    def deleted(self, orphans: bool = False) -> list[str]:
        """ns/name of each delete, in call order; every delete must have the one known form.
        With ``orphans``, those of the orphans' step instead."""
        out = []
        for argv in self.orphans if orphans else self.calls:
            if argv[0] == "delete":
                assert argv[:3] == ["delete", "volumesnapshot", "--namespace"], argv
                assert argv[5:] == ["--wait=false"], argv
                out.append(f"{argv[3]}/{argv[4]}")
        return out

    def patched(self, orphans: bool = False) -> list[str]:
        """Content name of each patch, in call order; each must release the content of the
        snapshot whose binding the run read two calls before, and mark it as being pruned.
        With ``orphans``, those of the orphans' step instead."""
        out = []
        calls = self.orphans if orphans else self.calls
        for i, argv in enumerate(calls):
            if argv[0] == "patch":
                assert argv[:2] == ["patch", "volumesnapshotcontent"], argv
                read = calls[i - 2]
                assert read[:3] == ["get", "volumesnapshot", "--namespace"], read
                ns, name = read[3:5]
                assert argv[3:] == ["--type=merge", "-p", release_patch(ns, name)], argv
                out.append(argv[2])
        return out

    def created(self) -> list[dict]:
        """Snapshots in the final state that were not there before, in creation order."""
        old = {(s["namespace"], s["name"]) for s in self.before["snapshots"]}
        return [s for s in self.state["snapshots"] if (s["namespace"], s["name"]) not in old]

    def created_name(self, ns: str, pvc_name: str) -> str:
        (new,) = [s for s in self.created() if (s["namespace"], s["pvc"]) == (ns, pvc_name)]
        assert new_name_pattern(pvc_name).fullmatch(new["name"]), new["name"]
        return new["name"]

    def surviving(self, ns: str, pvc_name: str, labels: dict | None = None) -> set[str]:
        labels = {**(DAILY if labels is None else labels), **ROTATOR}
        return {
            s["name"]
            for s in self.state["snapshots"]
            if (s["namespace"], s["pvc"], s["labels"]) == (ns, pvc_name, labels)
        }

    def physical(self, ns: str, pvc_name: str, labels: dict | None = None) -> set[str]:
        """Physical snapshots still on the storage system that were taken of ns/pvc_name for
        the policy in `labels`, whether or not their VolumeSnapshot still exists."""
        labels = {**(DAILY if labels is None else labels), **ROTATOR}
        known = {
            (s["namespace"], s["name"]): s
            for s in [*self.before["snapshots"], *self.state["snapshots"]]
        }
        out = set()
        for content in self.state["contents"]:
            ref = content["volumeSnapshotRef"]
            source = known.get((ref["namespace"], ref["name"]))
            if (
                source is not None
                and (source["pvc"], source["labels"]) == (pvc_name, labels)
                and ref["namespace"] == ns
                and content["snapshotHandle"] in self.state["physical"]
            ):
                out.add(content["snapshotHandle"])
        return out


class Harness(ScriptBin):
    """The snapshot rotation script against the stand-in kubectl, its clock pinned to NOW."""

    def run(self, state: dict, deletion_policy: str = "Delete", **overrides: str | None) -> Result:
        """Run the script on `state`, its class deleting or retaining contents as
        `deletion_policy` says; an override of None unsets that variable."""
        state = with_contents(
            {"pvcs": [], "snapshots": [], "classes": {CLASS: deletion_policy}, **state},
            deletion_policy,
        )
        env = {"FAKE_EPOCH": str(NOW_EPOCH)}
        for key, value in {**BASE_ENV, **overrides}.items():
            if value is not None:
                env[key] = value
        run = self.execute(SCRIPT.name, state, env)
        # Every run that calls kubectl at all starts by finishing earlier releases.
        assert run.calls[:1] in ([], [RELEASES_LISTING]), run.calls[:1]
        end = 1
        while end < len(run.calls) and is_release_step(run.calls[end]):
            end += 1
        last = next((i for i, a in enumerate(run.calls) if is_orphans_listing(a)), len(run.calls))
        return Result(
            **{**vars(run), "calls": run.calls[end:last]},
            releases=run.calls[:end],
            orphans=run.calls[last:],
        )
