"""Runs a job script, as its ConfigMap carries it (jobs.script), under a real shell against
tests/support/fake_kubectl.py.

A bin directory comes first on PATH with the stand-in kubectl (a client of
tests/support/fake_kube_server.py, which keeps the cluster's state in the test process), busybox's
applets when the shell is busybox (the image's userland), and a ``date`` and ``sleep`` that
keep simulated time: ``date -u +%s`` answers FAKE_CLOCK's content (a file) when set, else
FAKE_EPOCH; ``sleep N`` moves FAKE_CLOCK on by N seconds at once. Every other ``date`` call
goes to the real date of the shell under test, so date arithmetic (``date -u -d @N``) is the
image's own.
"""

from __future__ import annotations

import atexit
import json
import os
import shlex
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import jobs
from tests.support.fake_kube_server import CLIENT, KubeServer

SUPPORT = Path(__file__).resolve().parent
# The built scripts (jobs/ with their lib.sh helpers in place): what the pods run is what runs here.
SCRIPTS = Path(tempfile.mkdtemp(prefix="job-scripts-"))
jobs.write(SCRIPTS)
atexit.register(shutil.rmtree, SCRIPTS, ignore_errors=True)
FAKE = SUPPORT / "fake_kubectl.py"
# Applets a busybox image provides in place of coreutils (date is wrapped).
BUSYBOX_TOOLS = ("awk", "cat", "cut", "head", "sed", "sort", "tail", "tr", "wc")
DATE_WRAPPER = """#!/bin/sh
if [ "$#" -eq 2 ] && [ "$1" = -u ] && [ "$2" = +%s ]; then
    if [ -n "${{FAKE_CLOCK:-}}" ]; then
        exec cat "$FAKE_CLOCK"
    fi
    printf '%s\\n' "$FAKE_EPOCH"
    exit 0
fi
exec {date} "$@"
"""
SLEEP_WRAPPER = """#!/bin/sh
case $# in 1) ;; *) echo "sleep: one argument expected" >&2; exit 2 ;; esac
case $1 in '' | *[!0-9]*) echo "sleep: whole seconds expected: $1" >&2; exit 2 ;; esac
now=$(cat "$FAKE_CLOCK")
printf '%s\\n' "$((now + $1))" >"$FAKE_CLOCK"
"""


@dataclass
class ScriptRun:
    returncode: int
    stdout: str
    stderr: str
    calls: list[list[str]]
    stdins: list[str]
    before: dict
    state: dict

    def lines(self) -> list[str]:
        return self.stdout.splitlines()

    def errors(self) -> list[str]:
        return self.stderr.splitlines()


class ScriptBin:
    """The bin directory, the state and log files of one test, for one shell."""

    def __init__(self, root: Path, shell: list[str]):
        self.shell = shell
        self.bin = root / "bin"
        self.bin.mkdir()
        self.clock_file = root / "clock"
        self.server = KubeServer(root)
        self.write_tool("kubectl", CLIENT)
        busybox = Path(shell[0]).name == "busybox"
        if busybox:
            applets = subprocess.run(
                [shell[0], "--list"], capture_output=True, text=True, check=True
            ).stdout.split()
            for tool in BUSYBOX_TOOLS:
                if tool in applets:
                    (self.bin / tool).symlink_to(shell[0])
        real_date = [shell[0], "date"] if busybox else [shutil.which("date") or "date"]
        self.write_tool("date", DATE_WRAPPER.format(date=shlex.join(real_date)))
        self.write_tool("sleep", SLEEP_WRAPPER)

    def write_tool(self, name: str, text: str) -> None:
        tool = self.bin / name
        tool.write_text(text)
        tool.chmod(0o755)

    def execute(
        self, script: str, state: dict, env: dict[str, str], clock: int | None = None
    ) -> ScriptRun:
        """Run the job <script> on ``state``; with ``clock``, time starts there
        (seconds since the epoch) and moves only when the script sleeps or a wait times out."""
        # Through JSON, as an API server would hold it (and as the command-line stand-in does).
        live = json.loads(json.dumps(state))
        log: list[str] = []
        full_env = {
            "PATH": f"{self.bin}{os.pathsep}{os.environ['PATH']}",
            **self.server.env(),
            **env,
        }
        if clock is not None:
            self.clock_file.write_text(f"{clock}\n")
            full_env["FAKE_CLOCK"] = str(self.clock_file)
        with self.server.serve(live, full_env, log):
            proc = subprocess.run(
                [*self.shell, str(SCRIPTS / script)],
                env=full_env,
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
        entries = [json.loads(line) for line in log]
        result = ScriptRun(
            returncode=proc.returncode,
            stdout=proc.stdout,
            stderr=proc.stderr,
            calls=[e["argv"] for e in entries],
            stdins=[e["stdin"] for e in entries if "stdin" in e],
            before=state,
            state=live,
        )
        assert "fake kubectl: unsupported" not in result.stderr, result.stderr
        return result

    def now(self) -> int:
        return int(self.clock_file.read_text())
