"""The workflows hold the pipeline's promises: pinned actions, least permissions, one deploy per
stack, gated production, the lock and the CLI pin everywhere, and credentials only where the
runner inventory (.github/runners.yml) and the stack files allow them."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest
import yaml

from bootstrap import facts
from tests.support.stack_sets import pipeline_stacks
from tools import bootstrap_plan
from tools.offline import stack_config
from tools.pipeline import report

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"
PR = "pull-request.yml"
DEPLOY = "deploy.yml"
CREDENTIALS = "aws-actions/configure-aws-credentials"
PIN = re.compile(r"^\s*(?:-\s*)?uses:\s*([\w.-]+/[\w.-]+)@([0-9a-f]{40}) # (v\d+\.\d+\.\d+)\s*$")


def load(name: str) -> dict:
    # PyYAML reads the key `on` as True (YAML 1.1); the tests never need the triggers by that key.
    return yaml.safe_load((WORKFLOWS / name).read_text())


FILES = {name: load(name) for name in (PR, DEPLOY)}
RUNNERS = yaml.safe_load((ROOT / ".github" / "runners.yml").read_text())["groups"]
# The pipeline's roles by the repository variable holding each ARN (kind, stack, trust and
# maxSessionDuration: the same facts the bootstrap program builds the roles from).
ROLES = {
    role["variable"]: role
    for role in yaml.safe_load((ROOT / "bootstrap" / "roles.yaml").read_text())["roles"]
}
ALL_JOBS = [(name, job_id, job) for name, wf in FILES.items() for job_id, job in wf["jobs"].items()]


def steps(job: dict) -> list[dict]:
    return job.get("steps", [])


def uses(step: dict) -> str:
    return step.get("uses", "").split("@")[0]


def runs(job: dict) -> str:
    return "\n".join(step.get("run", "") for step in steps(job))


def index_of(job: dict, predicate) -> int:
    return next(i for i, step in enumerate(steps(job)) if predicate(step))


def credentialed(job: dict) -> bool:
    return any(uses(step) == CREDENTIALS for step in steps(job))


def role_of(job: dict) -> dict:
    """The roles.yaml entry of the role a job assumes, by the variable its credentials step uses."""
    step = steps(job)[index_of(job, lambda s: uses(s) == CREDENTIALS)]
    variable = re.fullmatch(r"\$\{\{ env\.ROLE_ARN \}\}", step["with"]["role-to-assume"])
    assert variable, "the credentials step assumes the job's ROLE_ARN"
    used = re.fullmatch(r"\$\{\{ vars\.(AWS_\w+_ROLE_ARN_\w+) \}\}", job["env"]["ROLE_ARN"])
    assert used, job["env"]["ROLE_ARN"]
    assert used.group(1) == job["env"]["ROLE_VARIABLE"]
    assert used.group(1) in ROLES, f"{used.group(1)} is no role of bootstrap/roles.yaml"
    return ROLES[used.group(1)]


def production(stack: str) -> bool:
    return bool(stack_config(stack).get("eks-config-storage:production", False))


def group_of(job: dict) -> tuple[str, dict] | None:
    """The runner group of .github/runners.yml a job runs in: named as the group, not only by
    its labels, so a runner outside the group that carries the same labels (a repository-level
    one, say) never gets the job ("Choosing runners in a group", docs.github.com)."""
    target = job["runs-on"]
    if not isinstance(target, dict):
        return None
    group = RUNNERS.get(target.get("group"))
    if group is None or target.get("labels") != group["labels"]:
        return None
    return target["group"], group


def readme_pins() -> dict[str, tuple[str, str]]:
    """The README's table of verified pins: action -> (tag, commit)."""
    text = (ROOT / "docs" / "pipeline.md").read_text()
    rows = re.findall(r"^\| `([\w.-]+/[\w.-]+)` \| `(v[\d.]+)` \| `([0-9a-f]{40})` \|", text, re.M)
    return {action: (tag, sha) for action, tag, sha in rows}


# ------------------------------------------------------------------------- supply chain


def test_every_action_is_pinned_to_a_verified_release_commit():
    pins = readme_pins()
    assert pins, "README lists the verified pins"
    seen = set()
    for name in FILES:
        for line in (WORKFLOWS / name).read_text().splitlines():
            if re.match(r"^\s*(-\s*)?uses:", line):
                match = PIN.match(line)
                assert match, f"{name}: not pinned to a full SHA with its version: {line.strip()}"
                action, sha, tag = match.groups()
                assert pins.get(action) == (tag, sha), f"{name}: {action}@{sha} # {tag}"
                seen.add(action)
    assert seen == set(pins), "every verified pin is used, and only those"


def test_checkouts_do_not_persist_credentials_and_the_base_comes_from_its_own_checkout():
    for name, job_id, job in ALL_JOBS:
        for step in steps(job):
            if uses(step) == "actions/checkout":
                assert step["with"]["persist-credentials"] is False, (name, job_id)
    plan = FILES[PR]["jobs"]["offline-plan"]
    base = [s for s in steps(plan) if uses(s) == "actions/checkout" and "ref" in s.get("with", {})]
    assert [s["with"] for s in base] == [
        {"ref": "${{ github.base_ref }}", "path": "base", "persist-credentials": False}
    ]
    assert "git fetch" not in runs(plan)


# ------------------------------------------------------------------------- permissions


EXPECTED_PERMISSIONS = {
    (PR, "checks"): {"contents": "read"},
    (PR, "stacks"): {"contents": "read"},
    (PR, "offline-plan"): {"contents": "read"},
    (PR, "preview-dev"): {"contents": "read", "id-token": "write"},
    (PR, "comment"): {"pull-requests": "write"},
    (DEPLOY, "dev"): {"contents": "read", "id-token": "write"},
    (DEPLOY, "prod-plan"): {"contents": "read", "id-token": "write"},
    (DEPLOY, "production"): {
        "contents": "read",
        "id-token": "write",
        "actions": "read",
        "deployments": "read",
    },
}


def test_least_permissions_per_job():
    for name, wf in FILES.items():
        assert wf["permissions"] == {}, f"{name}: nothing granted at workflow level"
    assert {(name, job_id): job["permissions"] for name, job_id, job in ALL_JOBS} == (
        EXPECTED_PERMISSIONS
    )


def test_only_jobs_that_assume_a_role_get_an_oidc_token():
    for name, job_id, job in ALL_JOBS:
        assert (job["permissions"].get("id-token") == "write") == credentialed(job), (name, job_id)


def report_step() -> dict:
    (step,) = [s for s in steps(FILES[PR]["jobs"]["preview-dev"]) if "report/" in s.get("run", "")]
    return step


@pytest.mark.parametrize("venv", [True, False])
def test_the_preview_report_needs_no_python_of_the_runners(tmp_path, venv):
    """The runners bring no Python (docs/pipeline-setup.md): the report comes from the locked
    virtualenv, and without it the step still writes a FAILED report under the stack's marker,
    so the comment says what happened instead of "did not report"."""
    script = report_step()["run"]
    assert "python3" not in script
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("mkdir", "cat", "printf"):
        found = shutil.which(tool)
        if found:
            (bin_dir / tool).symlink_to(found)
    if venv:
        (tmp_path / "venv" / "bin").mkdir(parents=True)
        python = tmp_path / "venv" / "bin" / "python"
        python.symlink_to(sys.executable)
        (tmp_path / "tools").symlink_to(ROOT / "tools")
        (tmp_path / "preview-dev.txt").write_text("Previewing update (dev)\n")
    summary = tmp_path / "summary.md"
    env = {"PATH": str(bin_dir), "STACK": "dev", "STATUS": "0" if venv else ""}
    result = subprocess.run(
        [shutil.which("bash") or "/bin/bash", "-c", script],
        cwd=tmp_path,
        env={**env, "GITHUB_STEP_SUMMARY": str(summary)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    text = (tmp_path / "report" / "dev.md").read_text()
    assert text.startswith(report.marker("dev") + "\n### Preview of `dev`: ")
    assert ("passed" in text.splitlines()[1]) == venv
    assert ("FAILED" in text.splitlines()[1]) != venv
    assert summary.read_text() == text


def test_the_job_that_writes_to_the_pull_request_runs_no_repository_code():
    comment = FILES[PR]["jobs"]["comment"]
    assert not any(uses(s) == "actions/checkout" for s in steps(comment))
    assert not re.search(r"\bmake\b|venv/|\.github/scripts|python|\.ci/", runs(comment))
    assert "--paginate" in runs(comment), "the old comment is found on any page"
    # It finds a stack's comment by the marker the report starts with.
    assert f'marker="{report.marker("$stack")}"' in runs(comment)


def test_jobs_with_credentials_install_only_the_locked_runtime():
    for name, job_id, job in ALL_JOBS:
        if credentialed(job):
            assert "make runtime policy-venv" in runs(job), (name, job_id)
            assert not re.search(r"make setup|make test|\.ci/run|pip install", runs(job))


# ------------------------------------------------------------------------- concurrency


def test_pull_request_runs_replace_each_other():
    assert FILES[PR]["concurrency"] == {
        "group": "pull-request-${{ github.event.pull_request.number || github.ref }}",
        "cancel-in-progress": True,
    }


def test_deploys_queue_one_at_a_time_per_stack_and_are_never_cancelled():
    assert FILES[DEPLOY]["concurrency"] == {
        "group": "deploy",
        "cancel-in-progress": False,
        "queue": "max",
    }
    for job_id, job in FILES[DEPLOY]["jobs"].items():
        stack = job["env"]["STACK"]
        assert job["concurrency"] == {
            "group": f"deploy-{stack}",
            "cancel-in-progress": False,
            "queue": "max",
        }, job_id


# ------------------------------------------------------------------------- gating


def test_deploy_jobs_run_on_main_under_their_environments():
    jobs = FILES[DEPLOY]["jobs"]
    assert {job_id: job["environment"] for job_id, job in jobs.items()} == {
        "dev": "dev",
        "prod-plan": "production-plan",
        "production": "production",
    }
    assert all(job["if"] == "github.ref == 'refs/heads/main'" for job in jobs.values())
    assert jobs["prod-plan"]["needs"] == "dev"
    assert jobs["production"]["needs"] == "prod-plan"


def test_production_applies_only_an_approved_unchanged_plan():
    job = FILES[DEPLOY]["jobs"]["production"]
    approval = index_of(job, lambda s: "tools.pipeline.approval production" in s.get("run", ""))
    assert "GITHUB_TOKEN" in steps(job)[approval]["env"]
    digest = index_of(job, lambda s: "sha256sum --check" in s.get("run", ""))
    creds = index_of(job, lambda s: uses(s) == CREDENTIALS)
    compare = index_of(job, lambda s: "tools.pipeline.plan_file compare" in s.get("run", ""))
    apply = index_of(job, lambda s: "pulumi up" in s.get("run", ""))
    assert approval < digest < creds < compare < apply
    assert "approved/plan-$STACK.json" in steps(job)[compare]["run"]
    plan = FILES[DEPLOY]["jobs"]["prod-plan"]
    assert "pulumi up" not in runs(plan)
    assert plan["outputs"]["digest"] == "${{ steps.digest.outputs.sha256 }}"


def test_deploy_previews_and_updates_refresh_with_the_policy_pack():
    script = (ROOT / ".github" / "scripts" / "preview-plan.sh").read_text()
    assert "refresh=(--refresh)" in script and '"${refresh[@]}" --json' in script
    assert 'tools.transitions.engine "$STACK" "$events"' in script
    assert "--save-plan" in script
    # Only the plan before the approval, whose view access cannot refresh, previews without it.
    for job_id, job in FILES[DEPLOY]["jobs"].items():
        (step,) = [s for s in steps(job) if "preview-plan.sh" in s.get("run", "")]
        no_refresh = step.get("env", {}).get("PREVIEW_REFRESH") == "false"
        assert no_refresh == (role_of(job)["kind"] == "plan"), job_id
    for text in (
        script,
        runs(FILES[DEPLOY]["jobs"]["dev"]),
        runs(FILES[PR]["jobs"]["preview-dev"]),
    ):
        assert '--policy-pack policies --policy-pack-config "policy-config.$STACK.json"' in text
    for job in FILES[DEPLOY]["jobs"].values():
        for step in steps(job):
            if "pulumi up" in step.get("run", ""):
                assert "--refresh" in step["run"] and "--policy-pack policies" in step["run"]


def test_pull_request_previews_do_not_refresh_but_prove_the_cluster_answers_first():
    # The View access policy of the preview roles cannot read what a refresh reads.
    job = FILES[PR]["jobs"]["preview-dev"]
    preview = index_of(job, lambda s: "pulumi preview" in s.get("run", ""))
    assert "--refresh" not in steps(job)[preview]["run"]
    reach = index_of(job, lambda s: "tools.pipeline.reach" in s.get("run", ""))
    assert index_of(job, lambda s: uses(s) == CREDENTIALS) < reach < preview
    for job_id, job in FILES[DEPLOY]["jobs"].items():
        reach = index_of(job, lambda s: "tools.pipeline.reach" in s.get("run", ""))
        preview = index_of(job, lambda s: "preview-plan.sh" in s.get("run", ""))
        assert reach < preview, job_id


# ------------------------------------------------------------------------- first run


def test_every_job_that_loads_a_stack_runs_the_preflight_first():
    for name, job_id, job in ALL_JOBS:
        if credentialed(job):
            preflight = index_of(job, lambda s: s.get("run") == ".github/scripts/preflight.sh")
            assert preflight == 1, (name, job_id, "right after the checkout")
            assert {"STACK", "ROLE_VARIABLE", "ROLE_ARN"} <= set(job["env"]), (name, job_id)
            env = {**FILES[name].get("env", {}), **job["env"]}
            assert env["PULUMI_BACKEND_URL"] == "${{ vars.PULUMI_BACKEND_URL }}"
            login = index_of(job, lambda s: s.get("run") == 'pulumi login "$PULUMI_BACKEND_URL"')
            assert login == index_of(job, lambda s: uses(s) == CREDENTIALS) + 1


def test_the_pulumi_cli_is_checked_against_the_release_before_any_credentials():
    for name, job_id, job in ALL_JOBS:
        for i, step in enumerate(steps(job)):
            if uses(step) == "pulumi/actions":
                check = steps(job)[i + 1]["run"]
                assert check == "venv/bin/python -m tools.pipeline.pulumi_cli", (name, job_id)
                assert i + 1 < index_of(job, lambda s: uses(s) == CREDENTIALS)


def test_the_pulumi_cli_version_comes_from_one_file_that_matches_the_sdk_lock():
    version = (ROOT / ".pulumi-version").read_text().strip()
    locked = re.search(r"^pulumi==([\d.]+) ", (ROOT / "requirements.txt").read_text(), re.M)
    assert locked and locked.group(1) == version
    count = 0
    for name, job_id, job in ALL_JOBS:
        for step in steps(job):
            if uses(step) == "pulumi/actions":
                assert step["with"] == {"pulumi-version-file": ".pulumi-version"}, (name, job_id)
                count += 1
        if "pulumi " in runs(job):
            assert any(uses(s) == "pulumi/actions" for s in steps(job)), (name, job_id)
    assert count == 4


def test_every_install_in_a_workflow_checks_hashes():
    """Whatever a job installs with uv or pip comes from a lock, every hash checked."""
    for name, job_id, job in ALL_JOBS:
        for line in runs(job).splitlines():
            if re.search(r"\b(uv pip|pip) (install|sync)\b", line):
                assert "--require-hashes" in line and " -r " in line, (name, job_id, line)


def test_uv_comes_from_the_lock_everywhere():
    for name, job_id, job in ALL_JOBS:
        for step in steps(job):
            if uses(step) == "astral-sh/setup-uv":
                assert step["with"]["version-file"] == "requirements-uv.txt", (name, job_id)
                # The deploy workflow restores no cache another run could have written.
                assert step["with"]["enable-cache"] is (name == PR and not credentialed(job))


# ------------------------------------------------------------------------- trust and reach


def test_pull_request_jobs_use_preview_roles_and_never_touch_deploy_runners():
    text = (WORKFLOWS / PR).read_text()
    for variable, role in ROLES.items():
        assert (variable in text) == (role["kind"] == "preview"), variable
    for name, group in RUNNERS.items():
        if group["purpose"] == "deploy":
            assert name not in text


def test_no_job_reaches_a_cluster_from_github_hosted_runners():
    for name, job_id, job in ALL_JOBS:
        hosted = isinstance(job["runs-on"], str) and job["runs-on"].startswith("ubuntu-")
        assert hosted != credentialed(job), (name, job_id)


def test_every_role_is_assumed_where_its_trust_allows_on_a_group_that_reaches_its_stack():
    """Each role variable a job uses is a role of bootstrap/roles.yaml for the job's stack, and the
    job is exactly what that role trusts: its environment (or a pull request), this workflow,
    main. A preview role runs on a preview group, a plan or deploy role on a deploy group."""
    used = set()
    for name, job_id, job in ALL_JOBS:
        if not credentialed(job):
            continue
        role = role_of(job)
        used.add(role["variable"])
        trust = role["trust"]
        assert role["stack"] == job["env"]["STACK"], (job_id, role["name"])
        assert trust.get("environment") == job.get("environment"), (job_id, role["name"])
        if trust.get("event") == "pull_request":
            assert name == PR and "environment" not in job, job_id
        else:
            assert (trust["workflow"], trust["ref"]) == (name, "refs/heads/main"), job_id
            assert job["if"] == "github.ref == 'refs/heads/main'", job_id
        found = group_of(job)
        assert found, f"{job_id}: runs-on is no group of .github/runners.yml"
        group_name, group = found
        purpose = "preview" if role["kind"] == "preview" else "deploy"
        assert group["purpose"] == purpose, (job_id, group_name)
        assert role["stack"] in group["reaches"], (job_id, group_name)
        assert any(w.split("@")[0] == f".github/workflows/{name}" for w in group["workflows"])
    assert used == set(ROLES), "every role of roles.yaml is used, and only those"


def test_no_job_before_the_approval_holds_credentials_that_can_write_to_production():
    """Only `deploy` roles can write (roles.yaml: preview and plan roles read). A job holding one
    for a production stack must first prove that its own environment was approved in this attempt
    (tools/pipeline/approval.py, which refuses an environment without required reviewers), so no
    job before the approval, and no job without one, holds them. Its reach check asks for admin
    access, every other job's proves that it cannot write to the cluster."""
    writers = []
    for name, job_id, job in ALL_JOBS:
        if not credentialed(job):
            continue
        role = role_of(job)
        creds = index_of(job, lambda s: uses(s) == CREDENTIALS)
        reach = steps(job)[index_of(job, lambda s: "tools.pipeline.reach" in s.get("run", ""))]
        access = "admin" if role["kind"] == "deploy" else "view"
        assert reach["run"] == f'venv/bin/python -m tools.pipeline.reach "$STACK" {access}'
        if role["kind"] != "deploy" or not production(role["stack"]):
            continue
        writers.append((name, job_id))
        approval = f"venv/bin/python -m tools.pipeline.approval {job['environment']}"
        assert index_of(job, lambda s, a=approval: s.get("run") == a) < creds, job_id
    assert writers == [(DEPLOY, "production")]
    jobs = FILES[DEPLOY]["jobs"]
    assert role_of(jobs["prod-plan"])["kind"] == "plan"
    assert jobs["production"]["needs"] == "prod-plan"


def test_production_stacks_get_no_preview_from_pull_requests():
    previewed = {job["env"]["STACK"] for job in FILES[PR]["jobs"].values() if credentialed(job)}
    deployed = {job["env"]["STACK"] for job in FILES[DEPLOY]["jobs"].values()}
    for stack in pipeline_stacks():  # local stacks need no jobs: tests/support/stack_sets.py
        production = stack_config(stack).get("eks-config-storage:production", False)
        assert (stack in previewed) == (not production), stack
        assert stack in deployed, f"{stack} has no deploy job"
    comment = FILES[PR]["jobs"]["comment"]
    assert steps(comment)[-1]["env"]["STACKS"].split() == sorted(previewed)


@pytest.mark.parametrize(
    ("name", "job_id"), [(n, j) for n, j, job in ALL_JOBS if credentialed(job)]
)
def test_credentials_outlive_the_job(name, job_id):
    job = FILES[name]["jobs"][job_id]
    step = steps(job)[index_of(job, lambda s: uses(s) == CREDENTIALS)]
    duration = step["with"]["role-duration-seconds"]
    assert duration >= job["timeout-minutes"] * 60
    # STS refuses a session longer than the role's MaxSessionDuration, which roles.yaml sets
    # (IAM's maximum is 12 h).
    assert duration <= role_of(job)["maxSessionDuration"] <= 43_200


@cache
def _bootstrap_policies() -> dict[str, list[dict]]:
    """Each pipeline role's policy documents, as the bootstrap's example stack registers them."""
    plan = bootstrap_plan.run("example")
    found: dict[str, list[dict]] = {}
    for policy in sorted(plan.of_type("aws:iam/policy:Policy"), key=lambda p: p.inputs["name"]):
        role, _, _ = policy.inputs["name"].rpartition("-")
        found.setdefault(role, []).append(json.loads(policy.inputs["policy"]))
    return found


def readme_policy(heading: str) -> dict:
    """The permissions of the role kind ``heading`` names (preview, plan or deploy), for the
    first role of that kind in the fact sheet: every statement of its rendered documents."""
    kind = next(k for k in ("preview", "plan", "deploy") if k in heading.lower())
    role = next(r.name for r in facts.roles() if r.kind == kind)
    documents = _bootstrap_policies()[role]
    return {"Version": "2012-10-17", "Statement": [s for d in documents for s in d["Statement"]]}


def test_the_preview_role_reads_no_other_object_version_or_secret_value():
    """PR code runs with the preview role: it may read its own stack's state and nothing else,
    in any version (the state bucket is versioned), and no secret value at all."""
    policy = readme_policy("**Permissions of the preview role**")
    denied = {
        action
        for st in policy["Statement"]
        if st["Effect"] == "Deny"
        for action in ([st["Action"]] if isinstance(st["Action"], str) else st["Action"])
    }
    assert {"s3:GetObject", "s3:GetObjectVersion"} <= denied
    assert {"secretsmanager:GetSecretValue", "secretsmanager:BatchGetSecretValue"} <= denied
    assert "ssm:GetParameter*" in denied  # GetParameter(s), ByPath and History
    (objects,) = [s for s in policy["Statement"] if s["Sid"] == "NoOtherObjects"]
    (own,) = [s for s in policy["Statement"] if s["Sid"] == "ReadThisStacksState"]
    assert objects["NotResource"] == own["Resource"]
    assert all("/dev" in r or r.endswith("meta.yaml") for r in own["Resource"])


def test_a_pull_request_whose_base_cannot_be_planned_fails():
    """The base plan is best effort, but without it the transition rules never ran: the offline
    plan step then fails rather than pass as if the change had been judged."""
    (plan_step,) = [
        s for s in steps(FILES[PR]["jobs"]["offline-plan"]) if s.get("name") == "Offline plan"
    ]
    script = plan_step["run"]
    assert "$BASE_RESULT != planned && $BASE_RESULT != new" in script
    assert script.rstrip().endswith('exit "$status"')
    assert script.index("status=1") > script.index("$BASE_RESULT != planned")
