"""The add-on configuration check against a stand-in ``aws`` on PATH: the version EKS resolves
(or the pin), its configuration schema, and every key the stack sends judged by it."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from components.storage_drivers import EBS_CSI_CONFIGURATION
from tools import addon_config

VERSION = "v1.52.1-eksbuild.1"
# The shape DescribeAddonConfiguration answers for aws-ebs-csi-driver (strict objects; cf. the
# schema quoted in aws/amazon-vpc-cni-k8s#2272 and kubernetes-sigs/aws-ebs-csi-driver#2371).
ACCEPTING = {
    "$schema": "https://json-schema.org/draft/2019-09/schema",
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "node": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "hostNetwork": {"type": "boolean"},
                "tolerateAllTaints": {"type": "boolean"},
            },
        },
        "sidecars": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "snapshotter": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {"forceEnable": {"type": "boolean"}},
                }
            },
        },
    },
}
STUB = """#!/bin/sh
# Stand-in AWS CLI: logs its argv, answers the two EKS calls from files.
printf '%s\\n' "$*" >>"$STUB_LOG"
case "$2" in
    describe-addon-versions) cat "$STUB_DIR/versions.json" ;;
    describe-addon-configuration)
        schema="$STUB_DIR/schema-$4-$6.json"
        if [ ! -f "$schema" ]; then
            echo "An error occurred (ResourceNotFoundException)" >&2
            exit 254
        fi
        cat "$schema" ;;
    *) exit 9 ;;
esac
"""


@pytest.fixture
def stub(tmp_path: Path, monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    aws = bin_dir / "aws"
    aws.write_text(STUB)
    aws.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    monkeypatch.setenv("STUB_DIR", str(tmp_path))
    monkeypatch.setenv("STUB_LOG", str(tmp_path / "log"))

    def answer(addon: str, schema: dict | None, kubernetes: str = "1.35") -> Path:
        versions = {
            "addons": [
                {
                    "addonName": addon,
                    "addonVersions": [
                        {
                            "addonVersion": "v1.53.0-eksbuild.1",
                            "compatibilities": [
                                {"clusterVersion": kubernetes, "defaultVersion": False}
                            ],
                        },
                        {
                            "addonVersion": VERSION,
                            "compatibilities": [
                                {"clusterVersion": kubernetes, "defaultVersion": True}
                            ],
                        },
                    ],
                }
            ]
        }
        (tmp_path / "versions.json").write_text(json.dumps(versions))
        if schema is not None:
            (tmp_path / f"schema-{addon}-{VERSION}.json").write_text(
                json.dumps({"addonName": addon, "configurationSchema": json.dumps(schema)})
            )
        return tmp_path / "log"

    return answer


def test_the_default_version_and_its_schema_accept_the_ebs_settings(stub):
    log = stub("aws-ebs-csi-driver", ACCEPTING)
    lines = addon_config.check("prod")
    assert lines == [f"aws-ebs-csi-driver {VERSION}: configuration accepted by EKS's schema"]
    assert log.read_text().splitlines() == [
        "eks describe-addon-versions --addon-name aws-ebs-csi-driver --kubernetes-version 1.35 "
        "--output json",
        f"eks describe-addon-configuration --addon-name aws-ebs-csi-driver --addon-version "
        f"{VERSION} --output json",
    ]


def test_a_key_the_addon_schema_lacks_fails_before_up(stub):
    schema = json.loads(json.dumps(ACCEPTING))
    del schema["properties"]["node"]["properties"]["hostNetwork"]
    stub("aws-ebs-csi-driver", schema)
    lines = addon_config.check("prod")
    assert lines[0] == (
        f"error: aws-ebs-csi-driver {VERSION} refuses node: Additional properties are not "
        "allowed ('hostNetwork' was unexpected)"
    )
    assert "InvalidParameterException" in lines[1] and "docs/backups.md" in lines[1]
    assert addon_config.main(["prod"]) == 1


def test_a_failed_aws_call_fails_the_check(stub):
    stub("aws-ebs-csi-driver", None)
    (line,) = addon_config.check("prod")
    assert line.startswith("error: aws-ebs-csi-driver: aws eks describe-addon-configuration")
    assert "ResourceNotFoundException" in line


def test_a_pinned_version_is_checked_without_asking_for_the_default(stub, monkeypatch):
    log = stub("aws-ebs-csi-driver", ACCEPTING)
    real = addon_config.pin_of
    monkeypatch.setattr(
        addon_config,
        "pin_of",
        lambda cfg, addon: VERSION if addon == "aws-ebs-csi-driver" else real(cfg, addon),
    )
    assert addon_config.check("prod")[0].endswith("configuration accepted by EKS's schema")
    assert "describe-addon-versions" not in log.read_text()


def test_the_check_judges_what_the_program_sends():
    assert addon_config.configuration_problems(EBS_CSI_CONFIGURATION, ACCEPTING) == []
    assert addon_config.configuration_problems({"node": {"hostNetwork": "yes"}}, ACCEPTING) == [
        "node.hostNetwork: 'yes' is not of type 'boolean'"
    ]
