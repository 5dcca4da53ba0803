#!/usr/bin/env python3
"""Stand-in kubectl for the tests of the scripts in jobs/.

It serves exactly the command forms those scripts use, against a JSON state file, and refuses
anything else (exit 3, "fake kubectl: unsupported: ...") so a change in a script's calls shows
up as a failing test. The forms and state live by concern:
  fake_kube_snapshots.py  snapshot_rotate.sh
  fake_kube_policy.py     storage_policy_reconcile.sh
  fake_kube_drills.py     restore_drill.sh: sources, copies, cleanup, the record
  fake_kube_workloads.py  restore_drill.sh: the restored PVC and the check pod
  fake_kube_core.py       argv, selectors, names, manifests, the simulated clock

Environment:
  FAKE_KUBECTL_STATE  JSON state file, read and rewritten on every call (keys in each module;
                      "fail_calls": [[argv prefix], ...] makes every call starting so fail)
  FAKE_KUBECTL_LOG    every call is appended as a JSON line {"argv": [...]}, plus
                      "stdin" for create
  FAKE_NOW            creationTimestamp of new snapshots (default 2026-11-27T03:00:00Z)
  FAKE_CLOCK          optional file holding the simulated time (seconds since the epoch);
                      a wait that times out moves it on by its timeout
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping

from fake_kube_core import (
    Command,
    KubectlError,
    UnsupportedError,
    load_manifest,
    parse_argv,
)
from fake_kube_drills import DrillForms
from fake_kube_escrow import EscrowForms
from fake_kube_policy import PolicyForms
from fake_kube_snapshots import SNAPSHOT_API, SnapshotForms
from fake_kube_workloads import WorkloadForms

LISTS = ("pvcs", "snapshots", "contents", "physical", "pvs", "volumes", "pods", "cronjobs")
FAILURES = ("fail_create_for", "never_ready", "fail_delete", "fail_patch", "fail_patch_pv")


class Fake(SnapshotForms, PolicyForms, DrillForms, WorkloadForms, EscrowForms):
    def __init__(self, state: dict, stdin_text: str | None, env: Mapping[str, str]):
        self.state = state
        self.stdin_text = stdin_text
        self.env = env
        for key in (*LISTS, *FAILURES):
            state.setdefault(key, [])
        state.setdefault("classes", {})

    def run(self, argv: list[str]) -> str:
        for prefix in self.state.get("fail_calls", []):
            if argv[: len(prefix)] == prefix:
                raise KubectlError(f"Error from server (Forbidden): {' '.join(argv[:2])} refused")
        cmd = parse_argv(argv)
        verb, *rest = cmd.args or [""]
        handlers = {
            ("get", "persistentvolumeclaims"): self.get_pvcs,
            ("get", "volumesnapshots"): self.get_snapshots,
            ("get", "volumesnapshot"): self.get_bound_content,
            ("get", "secret"): self.get_secret,
            ("get", "volumesnapshotcontent"): self.get_content,
            ("create",): self.create,
            ("wait",): self.wait,
            ("patch", "volumesnapshotcontent"): self.patch_content,
            ("get", "persistentvolumes"): self.get_pvs,
            ("get", "volumesnapshotcontents"): self.get_contents,
            ("patch", "persistentvolume"): self.patch_pv,
            ("get", "persistentvolumeclaim"): self.get_claim,
            ("get", "pod"): self.get_pod,
            ("delete", "pod"): self.delete_pod,
            ("delete", "persistentvolumeclaim"): self.delete_claim,
            ("delete", "volumesnapshotcontent"): self.delete_content,
            ("patch", "cronjob"): self.patch_cronjob,
            ("delete", "volumesnapshot"): self.delete_snapshot,
        }
        for form, handler in handlers.items():
            if (verb, *rest[: len(form) - 1]) == form:
                return handler(cmd, rest[len(form) - 1 :])
        raise UnsupportedError(f"command {cmd.args}")

    def create(self, cmd: Command, args: list[str]) -> str:
        if args or cmd.require("--filename") != "-" or self.stdin_text is None:
            raise UnsupportedError("create form")
        cmd.done()
        doc = load_manifest(self.stdin_text)
        kinds = {
            (SNAPSHOT_API, "VolumeSnapshot"): self.create_snapshot,
            (SNAPSHOT_API, "VolumeSnapshotContent"): self.create_copy_content,
            ("v1", "PersistentVolumeClaim"): self.create_claim,
            ("v1", "Pod"): self.create_pod,
        }
        handler = kinds.get((doc.get("apiVersion"), doc.get("kind")))
        if handler is None:
            raise UnsupportedError(f"create of {doc.get('apiVersion')}/{doc.get('kind')}")
        return handler(doc)


def call(
    state: dict, argv: list[str], stdin_text: str | None, env: Mapping[str, str]
) -> tuple[int, str, str]:
    """One kubectl call on ``state``: its exit status, stdout and stderr. Like the API server,
    a refused call changes nothing, so ``state`` is only updated when the call succeeds."""
    scratch = json.loads(json.dumps(state))
    try:
        out = Fake(scratch, stdin_text, env).run(argv)
    except UnsupportedError as exc:
        return 3, "", f"fake kubectl: unsupported: {exc}: {argv}\n"
    except KubectlError as exc:
        return 1, "", f"{exc}\n"
    state.clear()
    state.update(scratch)
    return 0, out, ""


def log_entry(argv: list[str], stdin_text: str | None) -> str:
    entry: dict = {"argv": argv}
    if stdin_text is not None:
        entry["stdin"] = stdin_text
    return json.dumps(entry) + "\n"


def main(argv: list[str]) -> int:
    """The command-line form, one process per call: FAKE_KUBECTL_STATE is read and rewritten."""
    stdin_text = sys.stdin.read() if argv[:1] == ["create"] else None
    with open(os.environ["FAKE_KUBECTL_LOG"], "a", encoding="utf-8") as log:
        log.write(log_entry(argv, stdin_text))
    state_path = os.environ["FAKE_KUBECTL_STATE"]
    with open(state_path, encoding="utf-8") as f:
        state = json.load(f)
    status, out, err = call(state, argv, stdin_text, os.environ)
    sys.stderr.write(err)
    if status:
        return status
    tmp = f"{state_path}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(state, f, indent=1)
    os.replace(tmp, state_path)
    sys.stdout.write(out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
