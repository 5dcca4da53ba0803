"""What the workflows run around the CLI: plan comparison, preview report, approval and reach
checks, and the preflight and stack-lock scripts (against a stand-in `aws`)."""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tools.pipeline import approval, plan_file, reach, report

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = ROOT / ".github" / "scripts"
PREFIX = "urn:pulumi:prod::eks-config-storage::"
SECRET = {plan_file.SIG_KEY: plan_file.SIG_SECRET, "ciphertext": "v1:abc"}


def resource_plan(steps, adds=None, updates=None, deletes=None, protect=False) -> dict:
    diff = {k: v for k, v in (("adds", adds), ("updates", updates), ("deletes", deletes)) if v}
    return {
        "goal": {"type": "t", "name": "n", "custom": True, "inputDiff": diff, "protect": protect},
        "steps": steps,
        "state": {"random": "outputs differ every time"},
        "seed": "c2VlZA==",
    }


# The shape `pulumi preview --save-plan` writes (pulumi/pulumi@v3.259.0:
# sdk/go/common/apitype/plan.go: DeploymentPlanV1, ResourcePlanV1, GoalV1, PlanDiffV1).
PLAN = {
    "manifest": {"time": "2026-11-28T02:00:00Z", "version": "v3.272.0"},
    "resourcePlans": {
        f"{PREFIX}pulumi:pulumi:Stack::eks-config-storage-prod": resource_plan(["same"]),
        f"{PREFIX}eks-config-storage:storage:Classes$kubernetes:storage.k8s.io/v1:StorageClass"
        "::gp3": resource_plan(["update"], updates={"parameters": {"iops": "6000"}}),
        f"{PREFIX}aws:kms/key:Key::envelope-key": resource_plan(["same"], protect=True),
        f"{PREFIX}aws:iam/role:Role::app-orders": resource_plan(
            ["create"], adds={"name": "eks-prod-app-orders", "tags": SECRET}
        ),
    },
}


def with_change(plan: dict, urn_suffix: str, **changes) -> dict:
    changed = copy.deepcopy(plan)
    urn = next(u for u in changed["resourcePlans"] if u.endswith(urn_suffix))
    target = changed["resourcePlans"][urn]
    for key, value in changes.items():
        if key == "steps":
            target["steps"] = value
        else:
            target["goal"]["inputDiff"][key] = value
    return changed


# ------------------------------------------------------------------------- plan_file


def test_summary_lists_only_what_changes_with_the_inputs_that_change():
    text = plan_file.summary(PLAN)
    assert text.startswith("2 of 4 resources change.")
    assert "| update | `kubernetes:storage.k8s.io/v1:StorageClass` | `gp3` | `parameters` |" in text
    assert "| create | `aws:iam/role:Role` | `app-orders` | `name`, `tags` |" in text
    assert "envelope-key" not in text


def test_the_same_proposal_passes_though_outputs_seeds_and_ciphertexts_differ():
    again = copy.deepcopy(PLAN)
    for rp in again["resourcePlans"].values():
        rp["state"], rp["seed"] = {"uid": "another"}, "b3RoZXI="
    urn = next(u for u in again["resourcePlans"] if u.endswith("app-orders"))
    again["resourcePlans"][urn]["goal"]["inputDiff"]["adds"]["tags"]["ciphertext"] = "v1:xyz"
    assert plan_file.differences(PLAN, again) == []


@pytest.mark.parametrize(
    ("suffix", "changes", "expected"),
    [
        # Drift found since the approval turns a planned `same` into an update.
        ("envelope-key", {"steps": ["update"]}, 'steps approved ["same"], now ["update"]'),
        ("::gp3", {"updates": {"parameters": {"iops": "9000"}}}, "updates approved"),
        ("::gp3", {"steps": ["replace"]}, 'steps approved ["update"], now ["replace"]'),
        ("app-orders", {"deletes": ["tags"]}, 'deletes approved [], now ["tags"]'),
    ],
)
def test_any_other_step_or_input_change_is_refused(suffix, changes, expected):
    found = plan_file.differences(PLAN, with_change(PLAN, suffix, **changes))
    # The first difference named is the one made (a replacement also compares inputs by key).
    assert found and suffix.strip(":") in found[0] and expected in found[0]


def test_added_and_vanished_resources_are_refused():
    current = copy.deepcopy(PLAN)
    gone = current["resourcePlans"].pop(next(iter(current["resourcePlans"])))
    current["resourcePlans"][f"{PREFIX}aws:s3/bucket:Bucket::new"] = gone
    found = plan_file.differences(PLAN, current)
    assert found == [
        f"not in the approved plan: {PREFIX}aws:s3/bucket:Bucket::new (same)",
        f"approved but no longer proposed: {PREFIX}pulumi:pulumi:Stack::eks-config-storage-prod",
    ]


def test_compare_command_exit_codes(tmp_path, capsys):
    approved, current = tmp_path / "a.json", tmp_path / "b.json"
    approved.write_text(json.dumps(PLAN))
    current.write_text(json.dumps(PLAN))
    assert plan_file.main(["compare", str(approved), str(current)]) == 0
    current.write_text(json.dumps(with_change(PLAN, "envelope-key", steps=["delete"])))
    assert plan_file.main(["compare", str(approved), str(current)]) == 1
    assert "nothing was applied" in capsys.readouterr().out
    assert plan_file.main(["summary"]) == 2


# ------------------------------------------------------------------------- report


def test_report_of_a_passed_preview_carries_the_marker_and_output():
    text = report.report("dev", "Previewing update (dev)\n", "0", "https://run", "a" * 40)
    assert text.startswith("<!-- eks-config-storage:preview:dev -->\n### Preview of `dev`: passed")
    assert "```text\nPreviewing update (dev)\n\n```" in text


def test_report_of_a_failure_says_so_and_keeps_the_errors_at_the_end():
    output = "diff line\n" * 20_000 + "error: [versions-pinned] mandatory policy violated\n"
    text = report.report("dev", output, "255", "https://run", "b" * 40)
    assert "### Preview of `dev`: FAILED" in text and "exited 255" in text
    assert text.rstrip().endswith("</details>")
    assert "mandatory policy violated" in text and "characters left out" in text
    assert len(text) < 65_000


def test_report_when_the_preview_never_ran():
    text = report.report("dev", None, "", "https://run", "")
    assert "### Preview of `dev`: did not run" in text and "<details>" not in text


def test_output_with_backticks_cannot_close_the_code_block():
    text = report.fenced("a ```` b")
    assert text.startswith("`````text\n") and text.endswith("\n`````")


# ------------------------------------------------------------------------- approval


def review(state: str, login: str, environment: str = "production") -> dict:
    return {"state": state, "user": {"login": login}, "environments": [{"name": environment}]}


@pytest.mark.parametrize(
    ("history", "refused"),
    [
        ([], "nobody approved"),
        ([review("approved", "alice", "production-plan")], "nobody approved"),
        ([review("approved", "merger")], "approved only by merger"),
        ([review("approved", "alice"), review("rejected", "bob")], "was rejected"),
        ([review("approved", "alice")], None),
        ([review("approved", "merger"), review("approved", "alice")], None),
    ],
)
def test_approval_verdicts(history, refused):
    verdict = approval.verdict(history, "production", "merger")
    assert (verdict is None) if refused is None else (refused in verdict)


def test_approval_command(monkeypatch, capsys):
    monkeypatch.setenv("GITHUB_TRIGGERING_ACTOR", "merger")
    assert approval.main(["production"], fetch=lambda: []) == 1
    assert "::error::Refusing to deploy" in capsys.readouterr().out
    assert approval.main(["production"], fetch=lambda: [review("approved", "alice")]) == 0


# ------------------------------------------------------------------------- scripts


def fake_aws(tmp_path: Path, listing: str = "None", content: str = "{}") -> Path:
    """A stand-in `aws`: list-objects-v2 lists `listing` under a matching --prefix, s3 cp prints
    `content`, and every call is logged."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "aws"
    script.write_text(
        "#!/bin/sh\n"
        f'echo "$*" >> "{tmp_path}/aws.log"\n'
        'case "$1 $2" in\n'
        f"  '--version ') echo 'aws-cli/2.22.0 Python/3.12' ;;\n"
        f"  's3api list-objects-v2') case '{listing}' in \"$6\"*) echo '{listing}' ;;"
        " *) echo None ;; esac ;;\n"
        f"  's3 cp') echo '{content}' ;;\n"
        "esac\n"
    )
    script.chmod(0o755)
    return bin_dir


def run_script(name: str, tmp_path: Path, env: dict, *args: str) -> subprocess.CompletedProcess:
    path = f"{fake_aws(tmp_path) if 'PATH' not in env else env.pop('PATH')}:{os.environ['PATH']}"
    return subprocess.run(
        [str(SCRIPTS / name), *args],
        check=False,
        cwd=env.pop("CWD", ROOT),
        env={**os.environ, "PATH": path, **env},
        capture_output=True,
        text=True,
    )


def test_no_lock_passes_and_lists_the_project_scoped_lock_directory(tmp_path):
    env = {"STACK": "prod", "PULUMI_BACKEND_URL": "s3://state-bucket?region=eu-west-1&awssdk=v2"}
    result = run_script("stack-lock.sh", tmp_path, env, "--fail")
    assert result.returncode == 0 and "Stack prod is not locked." in result.stdout
    log = (tmp_path / "aws.log").read_text()
    assert (
        "--bucket state-bucket --prefix .pulumi/locks/organization/eks-config-storage/prod/" in log
    )


def test_a_lock_stops_a_deploy_with_its_owner_and_only_warns_a_preview(tmp_path):
    key = "team/.pulumi/locks/organization/eks-config-storage/prod/1f2e.json"
    owner = '{"pid":42,"username":"runner","hostname":"ip-10-60-96-7","timestamp":"2026-11-28"}'
    bin_dir = fake_aws(tmp_path, listing=key, content=owner)
    env = {"STACK": "prod", "PULUMI_BACKEND_URL": "s3://state-bucket/team?region=eu-west-1"}
    result = run_script("stack-lock.sh", tmp_path, {**env, "PATH": str(bin_dir)}, "--fail")
    assert result.returncode == 1
    assert f"lock s3://state-bucket/{key}: {owner}" in result.stdout
    assert "::error::stack prod has 1 lock(s)" in result.stdout and "Recovering" in result.stdout
    assert "--prefix team/.pulumi/locks/" in (tmp_path / "aws.log").read_text()
    warned = run_script("stack-lock.sh", tmp_path, {**env, "PATH": str(bin_dir)})
    assert warned.returncode == 0 and "::warning::" in warned.stdout


def repo_copy(tmp_path: Path, stack_text: str) -> Path:
    repo = tmp_path / "repo"
    (repo / "stacks").mkdir(parents=True)
    (repo / "stacks" / "Pulumi.dev.yaml").write_text(stack_text)
    return repo


PREFLIGHT_ENV = {
    "STACK": "dev",
    "ROLE_VARIABLE": "AWS_PREVIEW_ROLE_ARN_DEV",
    "ROLE_ARN": "arn:aws:iam::123456789012:role/github-preview-dev",
    "AWS_REGION": "eu-west-1",
    "PULUMI_BACKEND_URL": "s3://state-bucket?region=eu-west-1",
    "PREFLIGHT_SKIP_NETWORK": "1",
    "GH_TOKEN": "",  # no ruleset check (tests/test_preflight.py)
}


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_preflight_passes_a_stack_created_with_the_kms_secrets_provider(tmp_path):
    stack = (
        "secretsprovider: awskms://alias/pulumi-secrets-dev?region=eu-west-1\n"
        "encryptedkey: AQICAHh...\nconfig:\n  aws:region: eu-west-1\n"
    )
    env = {**PREFLIGHT_ENV, "CWD": repo_copy(tmp_path, stack)}
    result = run_script("preflight.sh", tmp_path, env)
    assert result.returncode == 0, result.stdout
    assert "Preflight of stack dev passed." in result.stdout


def test_preflight_names_every_missing_piece_with_the_instruction(tmp_path):
    # The example stack files are templates: no secrets provider until `pulumi stack init`.
    template = (ROOT / "stacks" / "Pulumi.dev.yaml").read_text()
    env = {**PREFLIGHT_ENV, "ROLE_ARN": "", "PULUMI_BACKEND_URL": "file://~"}
    result = run_script("preflight.sh", tmp_path, {**env, "CWD": repo_copy(tmp_path, template)})
    assert result.returncode == 1
    out = result.stdout
    assert "::error::repository variable AWS_PREVIEW_ROLE_ARN_DEV is not set" in out
    assert "PULUMI_BACKEND_URL must be the s3:// URL" in out
    assert "has no 'secretsprovider: awskms://...' line" in out
    assert "pulumi stack init dev --secrets-provider='awskms://" in out
    assert "has no 'encryptedkey:' line" in out
    assert "nothing was run against the cloud" in out


# ------------------------------------------------------------------------- reach

CLUSTER = {
    "cluster": {
        "endpoint": "https://ABC.gr7.eu-west-1.eks.amazonaws.com",
        "certificateAuthority": {"data": "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0t"},
    }
}
TOKEN = {"kind": "ExecCredential", "status": {"token": "k8s-aws-v1.abc"}}
DESCRIBED = (0, json.dumps(CLUSTER), "")
TOKEN_ISSUED = (0, json.dumps(TOKEN), "")


def aws_answers(describe=DESCRIBED, token=TOKEN_ISSUED):
    calls = []

    def run(argv):
        calls.append(argv)
        code, out, err = describe if argv[2] == "describe-cluster" else token
        return subprocess.CompletedProcess(argv, code, out, err)

    return run, calls


@pytest.mark.parametrize(
    ("status", "problem"),
    [
        (200, None),
        (401, "answered 401 to this role: it needs an EKS access entry"),
        (0, "cannot reach the API server of eks-dev"),
    ],
)
def test_reach_asks_the_api_server_with_the_roles_token(status, problem):
    run, calls = aws_answers()
    seen = []

    def get(endpoint, ca_pem, token):
        seen.append((endpoint, ca_pem, token))
        return status

    result = reach.check("eks-dev", "eu-west-1", run, get)
    assert result is None if problem is None else problem in result
    assert seen == [
        (CLUSTER["cluster"]["endpoint"], "-----BEGIN CERTIFICATE-----", "k8s-aws-v1.abc")
    ]
    assert calls[1][:5] == ["aws", "eks", "get-token", "--cluster-name", "eks-dev"]


def test_a_cluster_not_created_yet_passes_and_other_errors_fail():
    missing = (254, "", "An error occurred (ResourceNotFoundException): No cluster found")
    run, _ = aws_answers(describe=missing)
    assert reach.check("eks-dev", "eu-west-1", run, lambda *a: 500) is None
    run, _ = aws_answers(describe=(254, "", "AccessDeniedException"))
    assert "cannot describe cluster eks-dev" in reach.check("eks-dev", "eu-west-1", run)


def test_reach_command_uses_the_stacks_cluster_name_and_region(capsys):
    run, calls = aws_answers()
    assert reach.main(["prod"], run=run, get=lambda *a: 401) == 1
    assert calls[0][4:7] == ["eks-prod", "--region", "eu-west-1"]
    assert capsys.readouterr().out.startswith("::error::the API server of eks-prod answered 401")


def test_a_new_objects_generated_names_may_differ_but_not_which_inputs_it_sets():
    urn = next(u for u in PLAN["resourcePlans"] if u.endswith("app-orders"))
    renamed = copy.deepcopy(PLAN)
    renamed["resourcePlans"][urn]["goal"]["inputDiff"]["adds"]["name"] = "app-orders-9f8e7d6"
    assert plan_file.differences(PLAN, renamed) == []
    extra = copy.deepcopy(PLAN)
    extra["resourcePlans"][urn]["goal"]["inputDiff"]["adds"]["path"] = "/eks/"
    (found,) = plan_file.differences(PLAN, extra)
    assert 'adds approved ["name", "tags"], now ["name", "path", "tags"]' in found
    # An existing object's values are compared in full: that is where drift shows.
    gp3 = with_change(PLAN, "::gp3", updates={"parameters": {"iops": "6000", "x": "1"}})
    assert plan_file.differences(PLAN, gp3)


def test_the_preflight_checks_every_chart_repository_the_stacks_install(plans):
    """A deploy runner downloads each chart itself: each stack's repositories, charts and pinned
    versions are exactly the chart checks .github/egress-hosts.txt gives the preflight for it."""
    lines = [
        line.split()
        for line in (ROOT / ".github" / "egress-hosts.txt").read_text().splitlines()
        if line.startswith("chart ")
    ]
    for stack, plan in plans.items():
        listed = {
            (url, chart, version)
            for _, stacks, url, chart, version, *_ in lines
            if stacks == "*" or stack in stacks.split(",")
        }
        installed = {
            (r.inputs["repositoryOpts"]["repo"], r.inputs["chart"], r.inputs["version"])
            for r in plan.of_type("kubernetes:helm.sh/v3:Release")
        }
        assert listed == installed, stack
    assert len({url for _, _, url, *_ in lines}) == 3  # External Secrets, Sealed Secrets, Velero
