"""The CrossGuard pack is the same rules, adapted: one policy per rule, the stack's settings as
policy config, and values unknown during preview left to the engine to skip."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from pulumi_policy import EnforcementLevel, ResourceValidationArgs, StackValidationArgs
from pulumi_policy.policy import PolicyCustomTimeouts, PolicyResource, PolicyResourceOptions
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, UnknownValueError, unknown_checking_proxy

from policies import pack, rules
from tests.support.plan_helpers import aws_of
from tools import policy_config

ROOT = Path(__file__).resolve().parents[2]
CONFIG = {"environment": "prod", "production": True, "protect": True}


def options(protect: bool = False) -> PolicyResourceOptions:
    return PolicyResourceOptions(protect, [], None, [], PolicyCustomTimeouts(0, 0, 0), [], None)


def validate(policy, type_: str, props: dict, protect: bool = False) -> list[str]:
    reported: list[str] = []
    args = ResourceValidationArgs(
        type_,
        unknown_checking_proxy(props),
        f"urn:x::{type_}::r",
        "r",
        options(protect),
        None,
        CONFIG,
    )
    policy.validate(args, lambda message, urn=None: reported.append(message))
    return reported


def by_name(name: str):
    return next(p for p in pack.policies() if p.name == name)


def test_one_policy_per_rule_with_its_enforcement():
    policies = pack.policies()
    expected = [*rules.RESOURCE_RULES, *rules.STACK_RULES]
    assert [p.name for p in policies] == [r.name for r in expected]
    for policy, rule in zip(policies, expected, strict=True):
        level = (
            EnforcementLevel.MANDATORY
            if rule.enforcement == "mandatory"
            else (EnforcementLevel.ADVISORY)
        )
        assert policy.enforcement_level == level
        assert rule.principle in policy.description
        assert set(policy.config_schema.required) == {"environment", "production", "protect"}


def test_resource_policy_reports_the_rules_violations():
    policy = by_name("storage-class-expandable")
    bad = {
        "metadata": {"name": "gp3-ssd-prod-rwo"},
        "provisioner": "ebs.csi.aws.com",
        "allowVolumeExpansion": False,
    }
    assert validate(policy, rules.STORAGE_CLASS, bad) == ["[R6] allowVolumeExpansion must be true"]
    assert validate(policy, rules.STORAGE_CLASS, {**bad, "allowVolumeExpansion": True}) == []


def test_policy_config_reaches_the_rule():
    policy = by_name("production-retains-data")
    reported = validate(policy, rules.STORAGE_CLASS, {"reclaimPolicy": "Delete"})
    assert reported == ["[R7] production classes must reclaim with Retain"]


def test_unknown_values_are_left_to_the_engine():
    policy = by_name("eks-secrets-encryption")
    props = {
        "encryptionConfig": [
            {"resources": ["secrets"], "provider": {"keyArn": UNKNOWN_STRING_VALUE}}
        ]
    }
    with pytest.raises(UnknownValueError):
        validate(policy, "aws:eks/cluster:Cluster", props)


def test_stack_policy_names_the_unprotected_resource():
    policy = by_name("protected-stack-state")
    fs = PolicyResource(
        "aws:efs/fileSystem:FileSystem", {}, "urn:fs", "fs", options(False), None, None, [], {}
    )
    reported: list[tuple[str, str]] = []
    args = StackValidationArgs([fs], CONFIG)
    policy.validate(args, lambda message, urn=None: reported.append((message, urn)))
    assert reported == [
        ("[F4] aws:efs/fileSystem:FileSystem fs holds state but is not protected", "urn:fs")
    ]


def test_pack_config_is_derived_from_the_stack_file(capsys):
    assert policy_config.main(["prod"]) == 0
    config = json.loads(capsys.readouterr().out)
    assert set(config) == {p.name for p in pack.policies()}
    boundary = f"arn:aws:iam::{aws_of('prod').account_id}:policy/eks-config-storage-boundary"
    assert all(v == {**CONFIG, "permissionsBoundary": boundary} for v in config.values())
    dev_boundary = f"arn:aws:iam::{aws_of('dev').account_id}:policy/eks-config-storage-boundary"
    assert policy_config.settings_for("dev") == rules.Settings(
        "dev", False, False, permissions_boundary=dev_boundary
    )


def test_pack_project_files():
    project = yaml.safe_load((ROOT / "policies" / "PulumiPolicy.yaml").read_text())
    assert project["runtime"]["name"] == "python"
    assert project["runtime"]["options"]["virtualenv"] == "venv"
    # A bounded range where it is chosen, an exact hash-checked pin where it is installed.
    assert re.search(
        r"^pulumi-policy>=[\d.]+,<[\d.]+$",
        (ROOT / "policies" / "requirements.in").read_text(),
        re.M,
    )
    assert re.search(
        r"^pulumi-policy==[\d.]+ \\\n\s+--hash=sha256:",
        (ROOT / "policies" / "requirements.txt").read_text(),
        re.M,
    )


def test_pack_entry_point_starts_serving_the_pack(tmp_path):
    """Run as the CLI does (from inside policies/): it must import the rules and serve."""
    process = subprocess.Popen(
        [sys.executable, "__main__.py"],
        cwd=ROOT / "policies",
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        first = process.stdout.readline().strip()
        assert first.isdigit(), process.stderr.read() if process.poll() is not None else first
        assert process.poll() is None, "the pack must keep serving"
    finally:
        process.kill()
        process.wait()
