"""The offline plan command: tree, counts, JSON, secrets masked, bad config exits non-zero."""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws
import pytest
import yaml

from design import storage as sc
from tools import plan as plan_cli
from tools.offline import ProgramError, mocks, run_function, stack_config


def test_tree_and_counts(capsys):
    assert plan_cli.main(["dev"]) == 0
    out = capsys.readouterr().out
    assert "Plan of stack 'dev'" in out
    assert "    + eks-config-storage:eks:Cluster  cluster\n" in out
    assert "        + aws:eks/cluster:Cluster  cluster-eks\n" in out
    assert "Resources by type:" in out
    assert "aws:eks/cluster:Cluster" in out.split("Resources by type:")[1]


def test_protected_resources_are_marked(capsys):
    assert plan_cli.main(["prod"]) == 0
    assert "aws:kms/key:Key  envelope-key  [protect, retain]" in capsys.readouterr().out


def test_json_has_every_resource_with_options_and_inputs(tmp_path, capsys, plans):
    out = tmp_path / "plan.json"
    assert plan_cli.main(["prod", "--json", str(out)]) == 0
    document = json.loads(out.read_text())
    assert document["stack"] == "prod"
    assert len(document["resources"]) == len(plans["prod"])
    eks = next(r for r in document["resources"] if r["type"] == "aws:eks/cluster:Cluster")
    assert eks["options"]["protect"] is True
    assert eks["inputs"]["encryptionConfig"]["resources"] == ["secrets"]
    assert eks["parent"].endswith("eks-config-storage:eks:Cluster::cluster")


def test_bad_stack_file_exits_non_zero_with_the_message(tmp_path, capsys):
    values = stack_config("dev")
    values["eks-config-storage:kms"] = {"deletionWindowDays": 99}
    bad = tmp_path / "Pulumi.broken.yaml"
    bad.write_text(yaml.safe_dump({"config": values}))
    assert plan_cli.main(["broken", "--stack-file", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "eks-config-storage:kms.deletionWindowDays" in err


def test_secret_inputs_are_masked_in_the_plan():
    def program():
        aws.ssm.Parameter("token", type="SecureString", value=pulumi.Output.secret("hunter2"))

    plan = run_function("test", {"aws:region": "eu-west-1"}, program)
    document = plan.document()
    assert "hunter2" not in json.dumps(document)
    assert document["resources"][0]["inputs"]["value"] == "[secret]"


def test_summary_lists_storage_classes_with_their_key_parameters(capsys, plans):
    assert plan_cli.main(["prod"]) == 0
    summary = capsys.readouterr().out.split("Storage classes:")[1].split("Protection by class")[0]
    rows = summary.strip().splitlines()
    lines = [line.split() for line in rows if not line.startswith(" " * 30)]
    assert [line[0] for line in lines] == [
        "efs-elastic-prod-rwx",
        "gp3-ssd-prod-rwo",
        "io2-ssd-db-prod-rwo",
    ]
    gp3 = next(line for line in lines if line[0] == "gp3-ssd-prod-rwo")
    assert gp3[1] == "(default)"
    assert "WaitForFirstConsumer" in gp3 and "reclaim=Retain" in gp3 and "expand=true" in gp3
    key_arn = plans["prod"].one("aws:kms/key:Key").outputs["arn"]
    assert f"kmsKeyId={key_arn}" in gp3 and "iops=6000" in gp3
    efs = next(line for line in lines if line[0] == "efs-elastic-prod-rwx")
    assert "expand=false" in efs
    (limit,) = [row.strip() for row in rows if row.startswith(" " * 30)]
    assert limit.startswith("at most 10000 volumes on the file system (Retain keeps one per")


def test_efs_access_point_limits_follow_the_driver_and_the_gid_range():
    assert sc.efs_access_point_limit("v3.4.1-eksbuild.1", (50000, 7000000)) == 10000
    assert sc.efs_access_point_limit("v2.1.11-eksbuild.1", (50000, 7000000)) == 1000
    assert sc.efs_access_point_limit("v3.2.0-eksbuild.1", (50000, 50499)) == 500


def test_the_plan_reports_the_accounts_ebs_encryption_default(monkeypatch, capsys):
    monkeypatch.setattr(
        mocks.AwsMocks,
        "_call_getEncryptionByDefault",
        lambda self, _: {"enabled": False, "id": self.region},
    )
    assert plan_cli.main(["dev"]) == 0
    out = capsys.readouterr().out
    assert "WARN  ebs-encryption-by-default is off in this account and region" in out


def test_an_invoke_without_a_mock_fails_loudly():
    def program():
        aws.ec2.get_security_group(name="default")

    with pytest.raises(
        ProgramError, match="no mock for invoke aws:ec2/getSecurityGroup:getSecurityGroup"
    ):
        run_function("test", {"aws:region": "eu-west-1"}, program)
