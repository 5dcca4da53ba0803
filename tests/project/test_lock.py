"""The dependency locks: every package pinned with its hashes, within the ranges of the .in files,
one version of a package across the sets, and installed from nowhere else."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]
LOCKS = {
    "requirements.txt": "requirements.in",
    "requirements-dev.txt": "requirements-dev.in",
    "policies/requirements.txt": "policies/requirements.in",
    "requirements-uv.txt": "requirements-uv.in",
}
PIN = re.compile(r"^([A-Za-z0-9_.-]+)==([^\s;]+)(?:\s*;[^\\]*)?\s*\\$")


def pins(lock: str) -> dict[str, str]:
    """name -> version of every requirement, each followed by at least one sha256 hash."""
    lines = (ROOT / lock).read_text().splitlines()
    found = {}
    for i, line in enumerate(lines):
        if not line or line.startswith((" ", "#")):
            continue
        match = PIN.match(line)
        assert match, f"{lock}: not an exact, hashed pin: {line}"
        assert lines[i + 1].strip().startswith("--hash=sha256:"), f"{lock}: {line} has no hash"
        found[match.group(1).lower().replace("_", "-")] = match.group(2)
    return found


def ranges(source: str) -> list[Requirement]:
    """The requirements a .in file names itself (its -r includes are read where they live)."""
    lines = (ROOT / source).read_text().splitlines()
    return [Requirement(line) for line in lines if line and not line.startswith(("#", "-"))]


@pytest.mark.parametrize(("lock", "source"), LOCKS.items())
def test_every_named_package_is_pinned_within_its_bounded_range(lock, source):
    locked = pins(lock)
    for requirement in ranges(source):
        operators = {spec.operator for spec in requirement.specifier}
        assert {">=", "<"} <= operators, f"{source}: {requirement} is not a bounded range"
        version = locked[requirement.name.lower().replace("_", "-")]
        assert requirement.specifier.contains(version, prereleases=True), (lock, requirement)


def test_a_package_has_one_version_in_every_set():
    versions: dict[str, set[str]] = {}
    for lock in LOCKS:
        for name, version in pins(lock).items():
            versions.setdefault(name, set()).add(version)
    assert {name: v for name, v in versions.items() if len(v) > 1} == {}


def test_the_dev_set_contains_the_runtime_set():
    dev, runtime = pins("requirements-dev.txt"), pins("requirements.txt")
    assert runtime.items() <= dev.items()


def test_make_installs_only_from_the_locks_and_checks_hashes():
    makefile = (ROOT / "Makefile").read_text()
    installs = re.findall(r"\$\(UV\) pip sync (.*)", makefile)
    assert installs == [
        "--quiet --require-hashes --python $(PY) requirements-dev.txt",
        "--quiet --require-hashes --python $(PY) requirements.txt",
        "--quiet --require-hashes --python $(POLICY_VENV)/bin/python policies/requirements.txt",
    ]
    assert makefile.count("--require-hashes -r requirements-uv.txt") == 2
