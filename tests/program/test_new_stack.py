"""A stack file of one's own is first-class: added to stacks/ of a copy of the tree, a generated
stack unlike the examples (another account, region and zone count, EFS off, backups on) plans
clean, and every test that takes each stack (``plan``), plus the pipeline checks, passes on it.

Selected with ``-m new_stack``; it runs in ``make test`` and CI like any other test.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tools.offline.stackfiles import ROOT

NS = "eks-config-storage"
STACK = "acme-staging"
ACCOUNT = "444455556666"
REGION = "ap-southeast-2"
NOT_SOURCE = ("venv", ".venv", ".git", "plans", "__pycache__", ".*_cache", ".hypothesis")


def generated_stack(*, account: str, region: str, zones: int, environment: str) -> dict:
    """A stack file nothing in the tests was written for: its own account, region and zone
    count, no EFS, Velero on, snapshot and backup protection, two apps."""
    return {
        "config": {
            "aws:region": region,
            f"{NS}:adminRoleArns": [
                f"arn:aws:iam::{account}:role/platform/ops-admin",
                f"arn:aws:iam::{account}:role/deploy-{environment}",
            ],
            f"{NS}:network": {"create": {"vpcCidr": "10.90.0.0/16", "azCount": zones}},
            f"{NS}:endpoint": {"publicAccess": True, "publicAccessCidrs": ["192.0.2.0/28"]},
            f"{NS}:nodeGroups": [
                {
                    "name": "workers",
                    "instanceTypes": ["m7g.large"],
                    "amiType": "AL2023_ARM_64_STANDARD",
                    "minSize": 2,
                    "maxSize": 4,
                    "desiredSize": 2,
                }
            ],
            f"{NS}:storage": {
                "efs": {"enabled": False},
                "classes": [
                    {
                        "backing": "gp3",
                        "access": "rwo",
                        "default": True,
                        "protection": {
                            "snapshotPolicies": ["six-hourly"],
                            "backupSchedule": "daily",
                        },
                    },
                    {"backing": "st1", "access": "rwo", "tier": "logs"},
                ],
            },
            f"{NS}:snapshots": {
                "policies": [
                    {"name": "six-hourly", "schedule": "0 */6 * * *", "keep": 8, "maxAge": "3d"}
                ]
            },
            f"{NS}:backups": {
                "enabled": True,
                "schedules": [{"name": "daily", "schedule": "0 1 * * *", "ttl": "168h"}],
            },
            f"{NS}:externalSecrets": {"chartVersion": "0.20.4"},
            f"{NS}:sealedSecrets": {"chartVersion": "2.17.3"},
            f"{NS}:apps": [
                {
                    "name": "ledger",
                    "secrets": [{"key": "DB_URL", "parameter": "ledger/db-url"}],
                    "storage": [
                        {"class": f"gp3-ssd-{environment}-rwo", "requests": "20Gi", "claims": 2}
                    ],
                },
                {"name": "reports", "namespace": "reporting", "config": {"LEVEL": "info"}},
            ],
        }
    }


def tree_copy(destination: Path) -> Path:
    """The working tree as it is (tracked and new files, not ignored ones); it runs with this
    interpreter, so with this venv."""
    listing = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard", "-z"],
        cwd=ROOT,
        capture_output=True,
        check=False,
    )
    if listing.returncode != 0:  # not a git checkout (an unpacked archive): copy what is there
        shutil.copytree(ROOT, destination, ignore=shutil.ignore_patterns(*NOT_SOURCE))
        return destination
    listed = listing.stdout.split(b"\0")
    for name in filter(None, (n.decode() for n in listed)):
        source = ROOT / name
        if source.is_file():
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return destination


@pytest.mark.new_stack
def test_a_generated_stack_plans_clean_and_passes_every_stack_test(tmp_path):
    tree = tree_copy(tmp_path / "tree")
    stack_file = tree / "stacks" / f"Pulumi.{STACK}.yaml"
    stack = generated_stack(account=ACCOUNT, region=REGION, zones=3, environment=STACK)
    stack_file.write_text(yaml.safe_dump(stack, sort_keys=False))
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    python = sys.executable

    plan = subprocess.run(
        [python, "-m", "tools.plan", STACK, "--json", "plans/new.json"],
        cwd=tree,
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert plan.returncode == 0, plan.stderr[-3000:]
    assert f"{REGION}c" in plan.stdout and f"{REGION}d" not in plan.stdout
    document = yaml.safe_load((tree / "plans" / "new.json").read_text())
    types = {r["type"] for r in document["resources"]}
    assert "aws:efs/fileSystem:FileSystem" not in types
    assert "kubernetes:velero.io/v1:Schedule" in types
    assert any(f":{ACCOUNT}:" in str(r["outputs"].get("arn", "")) for r in document["resources"])

    suite = subprocess.run(
        [
            python,
            "-m",
            "pytest",
            "-n",
            "2",
            "-p",
            "no:cacheprovider",
            "-m",
            "not new_stack",
            "-k",
            f"{STACK} or test_workflows or test_reach",
        ],
        cwd=tree,
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert suite.returncode == 0, suite.stdout[-5000:]
    assert f"[{STACK}]" not in suite.stdout  # nothing failed or errored for the new stack
    ran = suite.stdout.strip().splitlines()[-1]
    assert "failed" not in ran and "error" not in ran, ran
    assert int(ran.split(" passed")[0].split()[-1]) >= 100, ran  # the stack tests did run
