"""Refuse to deploy unless this run's gated environment was really approved by someone else.

    python -m tools.pipeline.approval production

Required reviewers exist on public repositories and, for private or internal ones, only with
GitHub Enterprise: "If you are on a GitHub Free, GitHub Pro, or GitHub Team plan, other deployment
protection rules, such as a wait timer or required reviewers, are only available for public
repositories" (docs.github.com, "Reviewing deployments"). Without them a job naming the environment
starts at once and nothing in the job says so; this check makes that a failure. It reads the run's
review history, GET /repos/{owner}/{repo}/actions/runs/{run_id}/approvals ("Anyone with read
access to the repository can use this endpoint"; GitHub Apps, which GITHUB_TOKEN is, need
`actions: read`), whose entries carry `state`, `user` and `environments`.
"""

from __future__ import annotations

import json
import os
import sys
import urllib.request
from collections.abc import Callable


def fetch_approvals() -> list[dict]:
    url = "{}/repos/{}/actions/runs/{}/approvals".format(
        os.environ.get("GITHUB_API_URL", "https://api.github.com"),
        os.environ["GITHUB_REPOSITORY"],
        os.environ["GITHUB_RUN_ID"],
    )
    request = urllib.request.Request(
        url,
        headers={
            "Accept": "application/vnd.github+json",
            "Authorization": f"Bearer {os.environ['GITHUB_TOKEN']}",
            "X-GitHub-Api-Version": "2022-11-28",
        },
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


def verdict(approvals: list[dict], environment: str, triggered_by: str) -> str | None:
    """None when someone other than the person who started the run approved the environment."""
    reviews = [
        a for a in approvals if any(e.get("name") == environment for e in a.get("environments", []))
    ]
    if any(a.get("state") == "rejected" for a in reviews):
        return f"the '{environment}' deployment of this run was rejected"
    approvers = {a.get("user", {}).get("login") for a in reviews if a.get("state") == "approved"}
    if not approvers:
        return (
            f"nobody approved the '{environment}' environment in this run, so it has no required "
            "reviewers. Add them (Settings > Environments; on a private repository this needs "
            "GitHub Enterprise) or follow docs/pipeline.md, 'Production without required "
            "reviewers'."
        )
    if approvers <= {triggered_by}:
        return f"'{environment}' was approved only by {triggered_by}, who started this run"
    return None


def main(argv: list[str] | None = None, fetch: Callable[[], list[dict]] = fetch_approvals) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m tools.pipeline.approval ENVIRONMENT", file=sys.stderr)
        return 2
    triggered_by = os.environ.get("GITHUB_TRIGGERING_ACTOR") or os.environ.get("GITHUB_ACTOR", "")
    problem = verdict(fetch(), args[0], triggered_by)
    if problem:
        print(f"::error::Refusing to deploy: {problem}.")
        return 1
    print(f"'{args[0]}' was approved by someone other than {triggered_by}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
