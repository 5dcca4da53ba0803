"""The ruleset on main and CODEOWNERS, the review every change to the program and the pipeline
goes through before it runs with the deploy roles. The preflight reads the rules with `gh api`
(given a GH_TOKEN); here `gh` is a stand-in that answers recorded JSON in the documented REST
shape through the real jq, as `gh api --jq` does with its built-in one."""

from __future__ import annotations

import fnmatch
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.pipeline_scripts import PREFLIGHT_ENV, fake_aws, repo_copy, run_script

ROOT = Path(__file__).resolve().parents[2]
STACK_FILE = (
    "secretsprovider: awskms://alias/pulumi-secrets-dev?region=eu-west-1\n"
    "encryptedkey: AQICAHh...\nconfig:\n  aws:region: eu-west-1\n"
)

SOURCE = {"ruleset_source_type": "Repository", "ruleset_source": "acme/eks", "ruleset_id": 42}
# `GET /repos/{owner}/{repo}/rules/branches/main`: an array of the active rules that apply to the
# branch, each with its type, its ruleset and the rule's parameters (docs.github.com, REST API
# "Rules", "Get rules for a branch").
PROTECTED = [
    {"type": "deletion", **SOURCE},
    {"type": "non_fast_forward", **SOURCE},
    {
        "type": "pull_request",
        **SOURCE,
        "parameters": {
            "dismiss_stale_reviews_on_push": True,
            "require_code_owner_review": True,
            "require_last_push_approval": True,
            "required_approving_review_count": 1,
            "required_review_thread_resolution": False,
        },
    },
]
OWNERS = "* @acme/platform-admins\n"


def ruleset_check(tmp_path: Path, rules: list | None, owners: str = OWNERS, token="t"):
    """The preflight with a `gh` that answers ``rules`` (None: the API refuses)."""
    tmp_path.mkdir(exist_ok=True)
    bin_dir = fake_aws(tmp_path)
    answer = tmp_path / "rules.json"
    if rules is not None:
        answer.write_text(json.dumps(rules))
    gh = bin_dir / "gh"
    gh.write_text(
        "#!/usr/bin/env bash\n"
        f'echo "$*" >> "{tmp_path}/gh.log"\n'
        f'[[ -f "{answer}" ]] || {{ echo "HTTP 403: Resource not accessible" >&2; exit 1; }}\n'
        f'[[ $1 == api && $3 == --jq ]] && exec jq -r "$4" "{answer}"\n'
        "exit 2\n"
    )
    gh.chmod(0o755)
    repo = repo_copy(tmp_path, STACK_FILE)
    (repo / ".github").mkdir()
    (repo / ".github" / "CODEOWNERS").write_text(owners)
    env = {**PREFLIGHT_ENV, "GH_TOKEN": token, "GITHUB_REPOSITORY": "acme/eks"}
    result = run_script("preflight.sh", tmp_path, {**env, "CWD": repo, "PATH": str(bin_dir)})
    log = tmp_path / "gh.log"
    return result, log.read_text() if log.exists() else ""


needs_jq = pytest.mark.skipif(shutil.which("jq") is None, reason="jq is not installed")


@needs_jq
def test_a_protected_main_with_real_code_owners_passes(tmp_path):
    result, calls = ruleset_check(tmp_path, PROTECTED)
    assert result.returncode == 0, result.stdout
    assert calls.startswith("api repos/acme/eks/rules/branches/main?per_page=100 --jq ")


@needs_jq
def test_each_missing_protection_is_named(tmp_path):
    pull_request = PROTECTED[2]
    weak = [  # neither asks for an approval by a code owner
        {
            **pull_request,
            "parameters": {**pull_request["parameters"], "required_approving_review_count": 0},
        },
        {**pull_request, "parameters": {"require_code_owner_review": False}},
    ]
    result, _ = ruleset_check(tmp_path, weak, owners="* @<org>/platform-admins\n")
    errors = [line for line in result.stdout.splitlines() if line.startswith("::error::")]
    assert errors == [
        "::error::the rules on main lack a pull_request rule with at least 1 approval and"
        " code-owner review (docs/pipeline-setup.md: 'Protect main')",
        "::error::the rules on main lack a non_fast_forward rule (blocks force pushes)"
        " (docs/pipeline-setup.md: 'Protect main')",
        "::error::the rules on main lack a deletion rule (docs/pipeline-setup.md: 'Protect main')",
        "::error::.github/CODEOWNERS still names the placeholder @<org>/...: put the team that"
        " owns the platform there (docs/pipeline-setup.md: 'Protect main')",
    ]


@needs_jq
def test_unreadable_rules_fail_and_no_token_means_no_check(tmp_path):
    result, _ = ruleset_check(tmp_path / "a", None)
    assert "::error::cannot read the rules of main in acme/eks: HTTP 403" in result.stdout
    result, calls = ruleset_check(tmp_path / "b", [], token="")
    assert result.returncode == 0 and calls == ""


# -- CODEOWNERS ------------------------------------------------------------------------------

# What the review of main must cover: the program and everything that runs or installs it.
OWNED = [
    ".github/",
    "Makefile",
    "tools/",
    "policies/",
    "components/",
    "config/",
    "design/",
    "bootstrap/",
    "requirements",
    "__main__.py",
    "Pulumi.yaml",
    "stacks/",
]


def owners_of(path: str, rules: list[tuple[str, list[str]]]) -> list[str]:
    """GitHub's CODEOWNERS matching for the patterns used here (gitignore-style, last match
    wins; docs.github.com, "About code owners")."""
    found: list[str] = []
    for pattern, owners in rules:
        anchored = pattern.lstrip("/")
        if (
            pattern == "*"
            or (pattern.endswith("/") and path.startswith(anchored))
            or fnmatch.fnmatch(path, anchored)
        ):
            found = owners
    return found


def test_codeowners_owns_the_program_and_the_pipeline():
    rules = [
        (line.split()[0], line.split()[1:])
        for line in (ROOT / ".github" / "CODEOWNERS").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    files = [*tracked, ".github/CODEOWNERS", ".github/egress-hosts.txt"]
    for prefix in OWNED:
        under = [f for f in files if f.startswith(prefix)]
        assert under, prefix
        for path in under:
            assert owners_of(path, rules) == ["@<org>/platform-admins"], path
    assert owners_of("docs/pipeline-setup.md", [("/docs/", [])]) == []  # a rule can un-own
