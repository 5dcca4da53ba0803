"""Serves the stand-in kubectl from the test process, so a call costs a few shell built-ins
and a FIFO round trip instead of a Python start (most of the script tests' time).

The ``kubectl`` on the script's PATH is CLIENT, a POSIX sh script: it writes its argv (and,
for ``create``, its stdin) to files named after its own PID, makes a FIFO for the answer,
and sends that name as one line down the request FIFO (a write under PIPE_BUF is atomic, so
calls from a pipeline never interleave). The server answers calls one at a time, in arrival
order, with fake_kubectl.py's ``call``: the same forms, state and refusals as the
command-line stand-in, which the tests still use for single calls.
"""

from __future__ import annotations

import os
import sys
import threading
import traceback
from collections.abc import Mapping
from pathlib import Path

# The stand-in's modules import each other as top-level modules, as its command-line form does.
sys.path.insert(0, str(Path(__file__).resolve().parent))
from fake_kubectl import call, log_entry

STOP = "stop"
CLIENT = """#!/bin/sh
call="$FAKE_KUBECTL_DIR/call.$$"
printf '%s\\0' "$@" >"$call.argv"
if [ "${1:-}" = create ]; then
    cat >"$call.stdin"
fi
mkfifo "$call.out"
printf '%s\\n' "$call" >"$FAKE_KUBECTL_REQUESTS"
cat "$call.out"
read -r status <"$call.status"
if [ -s "$call.err" ]; then
    cat "$call.err" >&2
fi
rm -f "$call.argv" "$call.stdin" "$call.out" "$call.status" "$call.err"
exit "$status"
"""


class KubeServer:
    """Answers the kubectl calls of one script run on ``state``, logging each call."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.requests = directory / "requests"
        os.mkfifo(self.requests)

    def env(self) -> dict[str, str]:
        return {
            "FAKE_KUBECTL_DIR": str(self.directory),
            "FAKE_KUBECTL_REQUESTS": str(self.requests),
        }

    def serve(self, state: dict, env: Mapping[str, str], log: list[str]) -> Serving:
        return Serving(self, state, env, log)


class Serving:
    """A running server: use as a context manager around the script's run."""

    def __init__(self, server: KubeServer, state: dict, env: Mapping[str, str], log: list[str]):
        self.server, self.state, self.env, self.log = server, state, env, log
        self.crash: str | None = None
        # Opened read-write so the server never sees end-of-file between clients.
        self.fd = os.open(server.requests, os.O_RDWR)
        self.thread = threading.Thread(target=self.loop, daemon=True)

    def __enter__(self) -> Serving:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        os.write(self.fd, f"{STOP}\n".encode())
        self.thread.join(timeout=10)
        os.close(self.fd)
        assert self.crash is None, f"the stand-in kubectl crashed:\n{self.crash}"
        assert not self.thread.is_alive(), "the stand-in kubectl is stuck answering a call"

    def loop(self) -> None:
        with os.fdopen(os.dup(self.fd), encoding="utf-8") as lines:
            for line in lines:
                name = line.rstrip("\n")
                if name == STOP:
                    return
                self.answer(name)

    def answer(self, call_name: str) -> None:
        def part(suffix: str) -> Path:
            return Path(f"{call_name}.{suffix}")

        status, out, err = 99, "", ""
        try:
            argv = part("argv").read_bytes().decode().split("\0")[:-1]
            stdin_text = part("stdin").read_text() if argv[:1] == ["create"] else None
            self.log.append(log_entry(argv, stdin_text))
            status, out, err = call(self.state, argv, stdin_text, self.env)
        except Exception:  # a bug in the stand-in: fail the call and, after the run, the test
            self.crash = traceback.format_exc()
            err = self.crash
        part("err").write_text(err)
        part("status").write_text(f"{status}\n")
        with open(part("out"), "w", encoding="utf-8") as fifo:
            fifo.write(out)
