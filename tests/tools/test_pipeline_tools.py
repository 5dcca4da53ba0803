"""What the workflows run around the CLI: plan comparison, preview report, approval and reach
checks, and the preflight and stack-lock scripts (against a stand-in `aws`)."""

from __future__ import annotations

import copy
import hashlib
import io
import json
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

from tests.support.pipeline_scripts import PREFLIGHT_ENV, fake_aws, repo_copy, run_script
from tools.offline import stack_config, stack_names
from tools.offline.mocks import AMI_RELEASE_DATE
from tools.pipeline import approval, plan_file, pulumi_cli, reach, report

ROOT = Path(__file__).resolve().parents[2]
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


NODES = f"{PREFIX}eks-config-storage:cluster:NodeGroups$aws:eks/nodeGroup:NodeGroup::nodes-general"


def test_a_new_node_release_between_plan_and_approval_is_refused():
    """What an unpinned release would do to prod (the SSM parameter moved on), and what a pinned
    one still catches: any change of the release is a change the approver did not see."""
    approved = {"resourcePlans": {NODES: resource_plan(["same"])}}
    newer = {"releaseVersion": "1.35.6-20260801"}
    current = {"resourcePlans": {NODES: resource_plan(["update"], updates=newer)}}
    assert plan_file.differences(approved, current) == [
        f'{NODES}: steps approved ["same"], now ["update"]',
        f'{NODES}: updates approved {{}}, now {{"releaseVersion": "1.35.6-20260801"}}',
    ]


def test_production_stacks_pin_their_node_release(plans):
    """A production stack's plan waits for approval, for days at times; with the release read
    from EKS's recommended-release parameter at plan time, every AMI EKS publishes meanwhile
    would refuse the approved plan. So production stacks pin `releaseVersion` on every node
    group, and the plan takes the pin, not the parameter (docs/pipeline.md, "Node releases")."""
    production = [s for s in stack_names() if stack_config(s).get("eks-config-storage:production")]
    assert production == ["prod"]
    for stack in production:
        groups = stack_config(stack)["eks-config-storage:nodeGroups"]
        pinned = {g["name"]: g.get("releaseVersion") for g in groups}
        assert all(pinned.values()), f"{stack}: node groups without releaseVersion: {pinned}"
        planned = {
            n.inputs["nodeGroupNamePrefix"].removesuffix("-"): n.inputs["releaseVersion"]
            for n in plans[stack].of_type("aws:eks/nodeGroup:NodeGroup")
        }
        assert planned == pinned
        assert not any(v.endswith(AMI_RELEASE_DATE) for v in planned.values()), "SSM answer"


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
    """An entry of GET .../actions/runs/{run_id}/approvals (schema `environment-approvals`)."""
    return {
        "state": state,
        "user": {"login": login, "type": "User"},
        "environments": [
            {"id": 161088068, "name": environment, "created_at": "2026-01-02T00:00:00Z"}
        ],
        "comment": "",
    }


def deployment(created_at: str, environment: str = "production") -> dict:
    """An entry of GET /repos/{owner}/{repo}/deployments (schema `deployment`)."""
    return {
        "id": 1,
        "sha": "a" * 40,
        "ref": "main",
        "task": "deploy",
        "environment": environment,
        "creator": {"login": "github-actions[bot]", "type": "Bot"},
        "created_at": created_at,
        "updated_at": created_at,
    }


RUN = {"id": 30433642, "run_attempt": 2, "created_at": "2026-12-01T09:00:00Z"}
# Attempt 1's plan job runs at 09:00, its production job waits from 09:20 for a review.
FIRST_WAIT = deployment("2026-12-01T09:20:00Z")


def history(reviews, deployments=(), attempt=1, started="2026-12-01T09:00:00Z", actor="merger"):
    """One run as the REST API shows it: its attempt `attempt` started at `started`."""
    return approval.History(
        run=RUN,
        attempt={
            "id": RUN["id"],
            "run_attempt": attempt,
            "run_started_at": started,
            "triggering_actor": {"login": actor},
        },
        reviews=list(reviews),
        deployments=list(deployments),
    )


SECOND = {"attempt": 2, "started": "2026-12-02T08:00:00Z"}


@pytest.mark.parametrize(
    ("run", "refused"),
    [
        (history([]), "nobody approved the 'production' environment in attempt 1"),
        (history([review("approved", "alice", "production-plan")]), "nobody approved"),
        (history([review("pending", "alice")]), "nobody approved"),
        (history([review("approved", "merger")]), "approved by merger, who started attempt 1"),
        (history([review("rejected", "bob")]), "bob rejected the 'production' deployment"),
        (history([review("approved", "alice")]), None),
        # Rejected in attempt 1, re-run, approved in attempt 2: the latest decision counts.
        (
            history(
                [review("rejected", "bob"), review("approved", "alice")], [FIRST_WAIT], **SECOND
            ),
            None,
        ),
        # Approved in attempt 1 (whose job then failed); attempt 2 started no review of its own,
        # e.g. because the environment lost its reviewers in between.
        (history([review("approved", "alice")], [FIRST_WAIT], **SECOND), "in attempt 2"),
        # Attempt 2 was started by alice, and only she approved it.
        (
            history(
                [review("approved", "bob"), review("approved", "alice")],
                [FIRST_WAIT],
                actor="alice",
                **SECOND,
            ),
            "approved by alice, who started attempt 2",
        ),
        # Another run's deployment, before this run was created, is no earlier attempt of it.
        (history([review("approved", "alice")], [deployment("2026-11-30T09:00:00Z")]), None),
    ],
)
def test_approval_judges_the_current_attempt_only(run, refused):
    actor = run.attempt["triggering_actor"]["login"]
    verdict = approval.verdict(run, "production", actor)
    assert (verdict is None) if refused is None else (refused in verdict)


def test_approval_command_reads_the_attempt_and_the_environments_deployments(monkeypatch, capsys):
    for key, value in {
        "GITHUB_REPOSITORY": "org/eks-config-storage",
        "GITHUB_RUN_ID": "30433642",
        "GITHUB_RUN_ATTEMPT": "2",
        "GITHUB_SHA": "a" * 40,
    }.items():
        monkeypatch.setenv(key, value)
    answers = {
        "/repos/org/eks-config-storage/actions/runs/30433642": RUN,
        "/repos/org/eks-config-storage/actions/runs/30433642/attempts/2": {
            "run_attempt": 2,
            "run_started_at": SECOND["started"],
            "triggering_actor": {"login": "merger"},
        },
        "/repos/org/eks-config-storage/actions/runs/30433642/approvals": [
            review("rejected", "bob"),
            review("approved", "alice"),
        ],
        f"/repos/org/eks-config-storage/deployments?environment=production&sha={'a' * 40}"
        "&per_page=100": [FIRST_WAIT],
    }
    got = approval.fetch_history("production", get=answers.__getitem__)
    assert got.reviews[-1]["user"]["login"] == "alice" and got.deployments == [FIRST_WAIT]
    assert approval.main(["production"], fetch=lambda env: got) == 0
    assert "approved in this attempt by someone other than merger" in capsys.readouterr().out
    alone = approval.History(got.run, got.attempt, got.reviews[:1], got.deployments)
    assert approval.main(["production"], fetch=lambda env: alone) == 1
    assert "::error::Refusing to deploy" in capsys.readouterr().out
    assert approval.main([]) == 2


# ------------------------------------------------------------------------- pulumi_cli


def release(binary: bytes) -> tuple[bytes, str]:
    """A release's linux-x64 tarball holding `binary` as pulumi/pulumi, and its checksums file."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in (("pulumi/pulumi", binary), ("pulumi/pulumi-language-python", b"x")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    tarball = buffer.getvalue()
    checksums = (
        f"{hashlib.sha256(b'other').hexdigest()}  pulumi-v3.272.0-darwin-arm64.tar.gz\n"
        f"{hashlib.sha256(tarball).hexdigest()}  pulumi-v3.272.0-linux-x64.tar.gz\n"
    )
    return tarball, checksums


def served(tarball: bytes, checksums: str):
    tarball_url, checksums_url = pulumi_cli.urls("3.272.0", "x64")
    assert tarball_url == "https://get.pulumi.com/releases/sdk/pulumi-v3.272.0-linux-x64.tar.gz"
    assert checksums_url == (
        "https://github.com/pulumi/pulumi/releases/download/v3.272.0/pulumi-3.272.0-checksums.txt"
    )
    return {tarball_url: tarball, checksums_url: checksums.encode()}.__getitem__


@pytest.mark.parametrize(
    ("tamper", "problem"),
    [
        (None, None),
        ("installed", "is not the pulumi binary of the v3.272.0 release"),
        ("tarball", "but the release lists"),
        ("unlisted", "lists no pulumi-v3.272.0-linux-x64.tar.gz"),
    ],
)
def test_the_pulumi_cli_must_be_the_released_binary(tmp_path, tamper, problem):
    tarball, checksums = release(b"\x7fELF pulumi 3.272.0")
    installed = tmp_path / "pulumi"
    installed.write_bytes(
        b"\x7fELF pulumi 3.272.0" + (b" patched" if tamper == "installed" else b"")
    )
    if tamper == "tarball":
        tarball = release(b"\x7fELF something else")[0]
    if tamper == "unlisted":
        checksums = checksums.splitlines()[0]
    result = pulumi_cli.check("3.272.0", "x64", installed, served(tarball, checksums))
    assert result is None if problem is None else problem in result


def test_the_pulumi_cli_command_checks_the_binary_on_path(tmp_path, monkeypatch, capsys):
    version = (ROOT / ".pulumi-version").read_text().strip()
    tarball, checksums = release(b"\x7fELF pulumi")
    (tmp_path / "pulumi").write_bytes(b"\x7fELF pulumi")
    (tmp_path / "pulumi").chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(pulumi_cli.platform, "machine", lambda: "x86_64")
    checksums = checksums.replace("3.272.0", version)
    tarball_url, checksums_url = pulumi_cli.urls(version, "x64")
    answers = {tarball_url: tarball, checksums_url: checksums.encode()}
    assert pulumi_cli.main([], get=answers.__getitem__) == 0
    assert "SHA-256 checked" in capsys.readouterr().out
    (tmp_path / "pulumi").write_bytes(b"\x7fELF other")
    assert pulumi_cli.main([], get=answers.__getitem__) == 1
    assert "::error::The Pulumi CLI is not the released one" in capsys.readouterr().out


# ------------------------------------------------------------------------- scripts


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


def api_answers(version=200, allowed=None):
    """A stand-in API server: /version answers `version`; each access review answers whether
    `allowed` (a set of "verb resource") holds it."""
    seen = []

    def api(endpoint, ca_pem, token, path, body):
        seen.append((endpoint, ca_pem, token, path, body))
        if path == "/version":
            return version, {}
        attributes = body["spec"]["resourceAttributes"]
        asked = f"{attributes['verb']} {attributes['resource']}"
        return 201, {**body, "status": {"allowed": asked in (allowed or set())}}

    return api, seen


VIEW = {"list namespaces"}
ADMIN = {"list namespaces", "create namespaces"}


@pytest.mark.parametrize(
    ("version", "access", "allowed", "problem"),
    [
        (200, "view", VIEW, None),
        (200, "admin", ADMIN, None),
        (401, "view", VIEW, "answered 401 to this role: it needs an EKS access entry"),
        (0, "view", VIEW, "cannot reach the API server of eks-dev"),
        # Authenticated but without an access policy: /version alone would have passed.
        (200, "view", set(), "may not list namespaces in eks-dev: its job needs view access"),
        (200, "admin", VIEW, "may not create namespaces in eks-dev: its job needs admin access"),
        # A plan or preview role that could write, before any approval.
        (200, "view", ADMIN, "may create namespaces in eks-dev, but it is a view role"),
    ],
)
def test_reach_asks_what_the_role_may_do_with_its_token(version, access, allowed, problem):
    run, calls = aws_answers()
    api, seen = api_answers(version, allowed)
    result = reach.check("eks-dev", "eu-west-1", access, run, api)
    assert result is None if problem is None else problem in result
    endpoint, ca_pem, token, path, body = seen[0]
    assert (endpoint, ca_pem, token, path, body) == (
        CLUSTER["cluster"]["endpoint"],
        "-----BEGIN CERTIFICATE-----",
        "k8s-aws-v1.abc",
        "/version",
        None,
    )
    reviews = [s for s in seen if s[3] == reach.REVIEWS]
    assert all(
        s[2] == "k8s-aws-v1.abc" and s[4]["kind"] == "SelfSubjectAccessReview" for s in reviews
    )
    assert bool(reviews) == (version == 200)
    assert calls[1][:5] == ["aws", "eks", "get-token", "--cluster-name", "eks-dev"]


def test_an_access_review_the_server_refuses_fails():
    run, _ = aws_answers()

    def api(endpoint, ca_pem, token, path, body):
        return (200, {}) if path == "/version" else (403, {})

    assert "answered 403 to an access review" in reach.check(
        "eks-dev", "eu-west-1", "view", run, api
    )


def test_a_cluster_not_created_yet_passes_and_other_errors_fail():
    missing = (254, "", "An error occurred (ResourceNotFoundException): No cluster found")
    run, _ = aws_answers(describe=missing)
    assert reach.check("eks-dev", "eu-west-1", "admin", run, lambda *a: (500, {})) is None
    run, _ = aws_answers(describe=(254, "", "AccessDeniedException"))
    assert "cannot describe cluster eks-dev" in reach.check("eks-dev", "eu-west-1", "view", run)


def test_reach_command_uses_the_stacks_cluster_name_and_region(capsys):
    run, calls = aws_answers()
    assert reach.main(["prod", "view"], run=run, api=api_answers(401)[0]) == 1
    assert calls[0][4:7] == ["eks-prod", "--region", "eu-west-1"]
    assert capsys.readouterr().out.startswith("::error::the API server of eks-prod answered 401")
    assert reach.main(["prod", "admin"], run=run, api=api_answers(200, ADMIN)[0]) == 0
    assert reach.main(["prod"], run=run) == 2
    assert reach.main(["prod", "write"], run=run) == 2


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
