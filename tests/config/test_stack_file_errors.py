"""Every stack-file mistake is named (file and position, or key), never a traceback: foreign
namespaces, broken YAML, duplicate keys, a misused --diff; and an offline plan in any account."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pulumi_aws
import pulumi_kubernetes
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from config import ConfigError
from config.namespaces import AWS_KEYS, KUBERNETES_KEYS, namespace_problems
from config.schema import config_key
from tests.support.plan_helpers import aws_of
from tools import plan as plan_cli
from tools.offline import stack_config
from tools.offline.runner import typed_config
from tools.offline.stackfiles import StackFileError, read_stack_file
from tools.offline.target import EXAMPLE_ACCOUNT, target_of

NS = "eks-config-storage"


def problems_of(values: dict) -> dict[str, str]:
    with pytest.raises(ConfigError) as failure:
        typed_config("dev", values, offline=True)
    return dict(failure.value.problems)


# -- namespaces ------------------------------------------------------------------------------


def test_a_misspelled_namespace_is_refused_with_the_closest_key():
    values = stack_config("dev")
    values["eks-config-storge:production"] = True
    found = problems_of(values)
    assert found["eks-config-storge:production"].startswith(
        "namespace 'eks-config-storge' is read by nothing"
    )
    assert "did you mean 'eks-config-storage:production'?" in found["eks-config-storge:production"]


def test_a_key_without_namespace_is_refused_with_the_project_key():
    values = {**stack_config("prod"), "production": True}
    message = problems_of(values)["production"]
    assert message == (
        "has no namespace, so nothing reads it; did you mean 'eks-config-storage:production'?"
    )


def test_a_misspelled_provider_key_is_refused_and_the_region_is_required_offline():
    values = stack_config("dev")
    values["aws:regoin"] = values.pop("aws:region")
    found = problems_of(values)
    assert found["aws:regoin"] == "not a setting of the aws provider; did you mean 'aws:region'?"
    assert found["aws:region"].startswith("not set")


@pytest.mark.parametrize("region", [42, "eu west 1", ["eu-west-1"], ""])
def test_a_region_that_is_no_region_is_named(region):
    values = {**stack_config("dev"), "aws:region": region}
    assert "is not an AWS region name" in problems_of(values)["aws:region"]


def test_provider_and_engine_keys_stay_allowed():
    values = {
        "aws:region": "ap-southeast-2",
        "aws:defaultTags": {"tags": {"a": "b"}},
        "aws:profile": "x",
        "kubernetes:enableServerSideApply": True,
        "pulumi:tags": {"team": "platform"},
    }
    assert namespace_problems(values, NS, [], need_region=True) == []


@given(key=st.from_regex(r"[a-z][a-zA-Z0-9-]{0,15}(:[a-zA-Z][a-zA-Z0-9]{0,15})?", fullmatch=True))
def test_any_key_is_either_read_by_someone_or_named(key):
    found = dict(namespace_problems({key: "x"}, NS, ["production"]))
    namespace, colon, name = key.partition(":")
    read = colon and (
        namespace in {"pulumi", NS}
        or (namespace == "aws" and name in AWS_KEYS)
        or (namespace == "kubernetes" and name in KUBERNETES_KEYS)
    )
    assert (key not in found) == bool(read)


def _sdk_keys(module_file: str, pattern: str) -> set[str]:
    return set(re.findall(pattern, Path(module_file).read_text()))


def test_the_provider_key_lists_match_the_installed_sdks():
    aws_vars = Path(pulumi_aws.__file__).parent / "config" / "vars.py"
    assert _sdk_keys(str(aws_vars), r"__config__\.get\w*\('(\w+)'") == AWS_KEYS
    provider = Path(pulumi_kubernetes.__file__).parent / "provider.py"
    props = _sdk_keys(str(provider), r'__props__\.__dict__\["(\w+)"\]')
    assert {config_key(p) for p in props} == KUBERNETES_KEYS


# -- YAML and stack-file shape ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("config:\n  aws:region: eu-west-1\n    minSize: 3\n", ":3:12:"),
        ("config:\n\taws:region: eu-west-1\n", ":2:1:"),
        ("config:\n  a: b: c\n", ":2:7:"),
        ("config:\n  a: [1,\n", ":3:1:"),
    ],
)
def test_broken_yaml_names_the_file_line_and_column(tmp_path, capsys, text, where):
    path = tmp_path / "Pulumi.x.yaml"
    path.write_text(text)
    assert plan_cli.main(["x", "--stack-file", str(path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"error: {path}{where} not valid YAML: "), err
    assert "Traceback" not in err


def test_a_key_written_twice_is_refused_where_it_repeats(tmp_path):
    path = tmp_path / "Pulumi.x.yaml"
    path.write_text(
        f"config:\n  {NS}:protect: true\n  aws:region: eu-west-1\n  {NS}:protect: false\n"
    )
    with pytest.raises(StackFileError, match=rf":4:3: .*'{NS}:protect' is written twice"):
        read_stack_file(path)


def test_nested_duplicate_keys_are_refused_too(tmp_path):
    path = tmp_path / "Pulumi.x.yaml"
    path.write_text(
        f"config:\n  {NS}:kms:\n    deletionWindowDays: 7\n    deletionWindowDays: 30\n"
    )
    with pytest.raises(StackFileError, match="'deletionWindowDays' is written twice"):
        read_stack_file(path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- a\n- b\n", "a stack file is a mapping with a top-level `config:` key, not a list"),
        ("just text\n", "not a str"),
        ("config: [a]\n", "`config:` must be a mapping of keys to values, not a list"),
        (f"{NS}:production: true\n", f"{NS}:production: not a stack file key"),
    ],
)
def test_a_stack_file_of_the_wrong_shape_is_named(tmp_path, text, message):
    path = tmp_path / "Pulumi.x.yaml"
    path.write_text(text)
    with pytest.raises(StackFileError, match=re.escape(message)):
        read_stack_file(path)


@given(text=st.text(alphabet=st.sampled_from("config:ab- \n\t[]{},'\"#&*!|>%@`"), max_size=40))
def test_no_text_gives_a_traceback(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("y") / "Pulumi.x.yaml"
    path.write_text(text)
    try:
        values = read_stack_file(path)
    except StackFileError as exc:
        assert str(exc).startswith(str(path))
        return
    assert isinstance(values, dict)


# -- --json / --diff -------------------------------------------------------------------------


def test_json_and_diff_on_the_same_file_are_refused_before_anything_is_written(tmp_path):
    same = tmp_path / "plan.json"
    same.write_text('{"stack": "dev", "resources": []}')
    with pytest.raises(SystemExit) as exit_:
        plan_cli.main(
            [
                "dev",
                "--json",
                str(same),
                "--diff",
                str(tmp_path / ".." / same.parent.name / "plan.json"),
            ]
        )
    assert exit_.value.code == 2
    assert same.read_text() == '{"stack": "dev", "resources": []}'


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such file (write one with --json)"),
        ("not json", "not a plan written by --json (Expecting value"),
        ("{}", "not a plan written by --json (no resources list)"),
        ('{"stack": "prod", "resources": []}', "a plan of stack 'prod', not 'dev'"),
    ],
)
def test_a_baseline_that_is_no_plan_of_this_stack_is_named_before_planning(
    tmp_path, capsys, content, message
):
    base = tmp_path / "base.json"
    if content is not None:
        base.write_text(content)
    assert plan_cli.main(["dev", "--diff", str(base)]) == 1
    captured = capsys.readouterr()
    assert message in captured.err
    assert captured.out == ""  # refused before the plan is printed


# -- any account, any region -----------------------------------------------------------------


@given(
    account=st.from_regex(r"\d{12}", fullmatch=True),
    partition=st.sampled_from(["aws", "aws-cn", "aws-us-gov"]),
    region=st.sampled_from(["us-west-2", "ap-south-2", "cn-north-1", "us-gov-west-1"]),
)
def test_the_offline_deployer_is_the_stacks_own_first_admin(account, partition, region):
    values = {
        "aws:region": region,
        f"{NS}:adminRoleArns": [f"arn:{partition}:iam::{account}:role/team/ops/deployer-x"],
    }
    target = target_of(values, NS)
    assert target.account_id == account
    assert target.partition == partition
    assert target.region == region
    assert target.zones[:3] == [f"{region}a", f"{region}b", f"{region}c"]
    assert (
        target.caller_arn()
        == f"arn:{partition}:sts::{account}:assumed-role/deployer-x/offline-plan"
    )


@given(value=st.one_of(st.none(), st.integers(), st.text(max_size=5), st.lists(st.integers())))
def test_any_admin_value_gives_a_stand_in_rather_than_a_crash(value):
    target = target_of({f"{NS}:adminRoleArns": value, "aws:region": value}, NS)
    assert target.account_id == EXAMPLE_ACCOUNT
    assert target.caller_role == "deployer"


def test_a_stack_in_another_account_and_region_plans_clean(tmp_path, capsys):
    text = Path("stacks/Pulumi.dev.yaml").read_text()
    text = text.replace(EXAMPLE_ACCOUNT, "444455556666").replace("eu-west-1", "us-west-2")
    path = tmp_path / "Pulumi.dev.yaml"
    path.write_text(text)
    out_json = tmp_path / "plan.json"
    assert plan_cli.main(["dev", "--stack-file", str(path), "--json", str(out_json)]) == 0
    document = json.loads(out_json.read_text())
    arns = [r["outputs"].get("arn", "") for r in document["resources"]]
    assert any(":444455556666:" in a for a in arns)
    assert not any(EXAMPLE_ACCOUNT in a for a in arns)
    assert "us-west-2" in capsys.readouterr().out


def test_account_overrides_the_admins_account(tmp_path, capsys):
    # Admins in another account than the deploy: the boundary, a policy of the admins' account,
    # is refused first (IAM would refuse every role with it) ...
    other = next(a for a in ("444455556666", "210987654321") if a != aws_of("dev").account_id)
    assert plan_cli.main(["dev", "--account", other]) == 1
    assert f"not a policy of the stack's account {other}" in capsys.readouterr().err
    # ... and without one, the deployer is not among the admins.
    values = stack_config("dev")
    del values["eks-config-storage:iam"]
    path = tmp_path / "Pulumi.dev.yaml"
    path.write_text(yaml.safe_dump({"config": values}))
    assert plan_cli.main(["dev", "--account", other, "--stack-file", str(path)]) == 1
    assert f"arn:aws:sts::{other}:assumed-role/platform-admin" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        plan_cli.main(["dev", "--account", "12345"])


def test_the_program_run_by_hand_says_how_to_run_it():
    done = subprocess.run(
        [sys.executable, "__main__.py"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert "python -m tools.plan <stack>" in done.stderr
    assert "pulumi preview" in done.stderr
