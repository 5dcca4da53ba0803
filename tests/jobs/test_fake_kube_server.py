"""The stand-in kubectl's client and server pass argv, stdin, output and status through
unchanged, answer concurrent calls one at a time, and fail the test when the stand-in breaks."""

from __future__ import annotations

import pytest

from tests.support.kube_harness import ScriptBin

REFUSED = {"fail_calls": [["get"]]}


def run(bin_: ScriptBin, tmp_path, body: str, state: dict):
    script = tmp_path / "probe.sh"
    script.write_text(f"#!/bin/sh\nset -u\n{body}\n")
    return bin_.execute(str(script), state, {})


def test_argv_is_passed_through_exactly_and_the_status_and_error_come_back(script_bin, tmp_path):
    result = run(
        script_bin,
        tmp_path,
        """kubectl get 'a b' '' "$(printf 'line1\\nline2')" '*'; echo "status=$?" """,
        REFUSED,
    )
    assert result.calls == [["get", "a b", "", "line1\nline2", "*"]]
    assert result.lines() == ["status=1"]
    assert result.errors() == ["Error from server (Forbidden): get a b refused"]


def test_concurrent_calls_are_each_answered_once(script_bin, tmp_path):
    body = """
for i in 1 2 3 4 5 6 7 8; do
    kubectl get "pod-$i" 2>"$0.err.$i" &
done
wait
cat "$0".err.* | sort
"""
    result = run(script_bin, tmp_path, body, REFUSED)
    assert sorted(result.calls) == sorted(["get", f"pod-{i}"] for i in range(1, 9))
    assert result.lines() == sorted(
        f"Error from server (Forbidden): get pod-{i} refused" for i in range(1, 9)
    )


def test_create_reads_stdin_and_a_refused_call_changes_nothing(script_bin, tmp_path):
    manifest = "apiVersion: v1\nkind: Secret\n"
    state = {"pvcs": [{"namespace": "a", "name": "data"}], "fail_calls": [["create"]]}
    result = run(script_bin, tmp_path, f"printf '{manifest}' | kubectl create --filename=-", state)
    assert result.stdins == [manifest]
    assert result.returncode == 1
    assert result.state["pvcs"] == state["pvcs"]


def test_a_crash_of_the_stand_in_fails_the_test(script_bin, tmp_path):
    with pytest.raises(AssertionError, match="the stand-in kubectl crashed"):
        run(script_bin, tmp_path, "kubectl get pods", {"fail_calls": 5})
