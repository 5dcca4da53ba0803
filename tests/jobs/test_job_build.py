"""The job scripts are built from jobs/*.sh and jobs/lib.sh into the text each ConfigMap carries:
the helpers land where a script names them, byte for byte, and the move out of
components/scripts/ left every ConfigMap's text as it was."""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
from pathlib import Path

import pytest

import jobs
from tests.support.snapshot_harness import SHELLS

ROOT = Path(__file__).resolve().parents[2]
LIBRARY = jobs.helpers((jobs.HERE / jobs.LIBRARY).read_text())
# The scripts as the ConfigMaps hold them. At the move to jobs/ (commit ab5bd9f) each was the text
# of `git show ab5bd9f:components/scripts/<name> | sha256sum`. A new digest here is a new ConfigMap
# text, so every job's next run changes: it belongs with the change to the script that means it.
BEFORE_THE_MOVE = "ab5bd9f"
DIGESTS = {
    "escrow_check.sh": "fb5407ed24068be65a6db3049d326d9abefb5cabdde17d021f480abaad5f3528",
    "restore_drill.sh": "55d321ba1950f5c9881848642d939c2c0550ecb244a159c42c6eb80cbdc0ed88",
    # Changed since the move: the rotator also prunes its orphans (ORPHAN_MAX_AGE_SECONDS).
    "snapshot_rotate.sh": "f4f5733bd0b21309827037d24947f3902d77f16e7f765fc13312082173f2f6be",
    "storage_policy_reconcile.sh": (
        "0757f5bfc7f86d01da7c28ec3d357cafe7b3feafd3002fcabc487b64ddac3cc2"
    ),
}
# What the scripts changed since the move were at the move.
AT_THE_MOVE = {
    **DIGESTS,
    "snapshot_rotate.sh": "472f54ab6a318cb59f0dbbdff889dad31babd37400c81da8e5370b2c76c4a605",
}


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@pytest.mark.parametrize("name", jobs.SCRIPTS)
def test_each_built_script_is_its_pinned_text(name):
    assert sha256(jobs.script(name)) == DIGESTS[name]


@pytest.mark.parametrize("name", jobs.SCRIPTS)
def test_the_pinned_digests_are_those_of_the_scripts_before_the_move(name):
    shown = subprocess.run(
        ["git", "-C", str(ROOT), "show", f"{BEFORE_THE_MOVE}:components/scripts/{name}"],
        capture_output=True,
        check=False,
    )
    if shown.returncode != 0:
        pytest.skip(f"commit {BEFORE_THE_MOVE} is not in this clone (a shallow checkout)")
    assert sha256(shown.stdout.decode()) == AT_THE_MOVE[name]
    if AT_THE_MOVE[name] == DIGESTS[name]:
        assert jobs.script(name).encode() == shown.stdout


def test_the_library_holds_the_helpers_the_scripts_copied():
    assert list(LIBRARY) == [
        "log",
        "err",
        "is_dns_label",
        "is_dns_subdomain",
        "is_label_key",
        "config_error",
    ]
    # Without the comments above it; with the state it keeps.
    assert LIBRARY["log"] == "log() {\n    printf '%s\\n' \"$*\"\n}\n"
    assert LIBRARY["config_error"].startswith("config_ok=1\nconfig_error() {\n")


def test_a_mark_becomes_its_helpers_in_order_a_blank_line_apart():
    library = {"a": "a() {\n    :\n}\n", "b": "b() {\n    true\n}\n"}
    source = "#!/bin/sh\nset -eu\n\n# from lib.sh: b a\n\nb\n"
    assert jobs.build(source, library) == (
        "#!/bin/sh\nset -eu\n\nb() {\n    true\n}\n\na() {\n    :\n}\n\nb\n"
    )


@pytest.mark.parametrize(
    ("line", "problem"),
    [("# from lib.sh: log nope\n", "nope"), ("# from lib.sh:\n", "names")],
)
def test_a_mark_naming_no_helper_or_an_unknown_one_is_refused(line, problem):
    with pytest.raises(ValueError, match=problem):
        jobs.build(f"#!/bin/sh\n{line}", LIBRARY)


@pytest.mark.parametrize(
    ("library", "problem"),
    [
        ("# prose\n\nx=1\n", r"one function, not \[\]"),
        ("a() {\n    :\n}\nb() {\n    :\n}\n", "one function"),
        ("a() {\n    :\n}\n\na() {\n    true\n}\n", "defined twice"),
    ],
)
def test_a_library_paragraph_is_exactly_one_function(library, problem):
    with pytest.raises(ValueError, match=problem):
        jobs.helpers(library)


def test_only_the_four_jobs_are_built():
    with pytest.raises(ValueError, match="not a job script"):
        jobs.script("lib.sh")


@pytest.mark.parametrize("name", jobs.SCRIPTS)
def test_every_helper_a_built_script_calls_is_defined_in_it(name):
    built = jobs.script(name)
    for helper in LIBRARY:
        calls = re.findall(rf"(?m)^(?!{helper}\(\)).*\b{helper}\b", built)
        if calls:
            assert f"\n{helper}() {{\n" in built, (helper, calls[0])


@pytest.mark.parametrize("name", jobs.SCRIPTS)
def test_no_script_keeps_its_own_copy_of_a_library_helper(name):
    source = (jobs.HERE / name).read_text()
    assert [h for h, text in LIBRARY.items() if text in source] == []
    assert jobs.MARK in source


@pytest.mark.parametrize("shell", SHELLS)
@pytest.mark.parametrize(
    ("check", "value", "valid"),
    [
        ("is_dns_label", "daily", True),
        ("is_dns_label", "a" * 63, True),
        ("is_dns_label", "a" * 64, False),
        ("is_dns_label", "-daily", False),
        ("is_dns_label", "Daily", False),
        ("is_dns_subdomain", "gp3.encrypted", True),
        ("is_dns_subdomain", "gp3..encrypted", False),
        ("is_dns_subdomain", "a" * 254, False),
        ("is_label_key", "snapshots.eks-config-storage.io/policy", True),
        ("is_label_key", "app", True),
        ("is_label_key", "a/b/c", False),
        ("is_label_key", "example.com/-x", False),
    ],
)
def test_the_library_validators_under_each_shell(shell, check, value, valid):
    proc = subprocess.run(
        [*shell, "-c", f'. "$1" && {check} "$2"', "sh", str(jobs.HERE / jobs.LIBRARY), value],
        check=False,
    )
    assert (proc.returncode == 0) is valid


@pytest.mark.parametrize("shell", SHELLS)
def test_config_error_reports_every_problem_and_remembers_one(shell):
    program = '. "$1"; config_error "A bad"; config_error "B bad"; echo "$config_ok"'
    proc = subprocess.run(
        [*shell, "-c", program, "sh", str(jobs.HERE / jobs.LIBRARY)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert proc.stderr == "config error: A bad\nconfig error: B bad\n"
    assert proc.stdout == "0\n"


def test_python_m_jobs_writes_what_the_pods_run(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "jobs", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert proc.stdout.split() == [str(tmp_path / name) for name in jobs.SCRIPTS]
    assert {p.name: p.read_text() for p in tmp_path.iterdir()} == {
        name: jobs.script(name) for name in jobs.SCRIPTS
    }
