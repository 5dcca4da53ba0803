"""Refuse to deploy unless this attempt of the run was approved, by someone other than the person
who started the attempt.

    python -m tools.pipeline.approval production

Required reviewers exist on public repositories and, for private or internal ones, only with
GitHub Enterprise: "If you are on a GitHub Free, GitHub Pro, or GitHub Team plan, other deployment
protection rules, such as a wait timer or required reviewers, are only available for public
repositories" (docs.github.com, "Reviewing deployments"). Without them a job naming the environment
starts at once and nothing in the job says so; this check makes that a failure.

Which reviews belong to this attempt. The run's review history, GET /repos/{owner}/{repo}/actions/
runs/{run_id}/approvals ("Get the review history for a workflow run"), spans every attempt, and its
entries carry `state`, `user`, `environments` and `comment`: no time and no attempt
(github/rest-api-description, schema `environment-approvals`; the `created_at` in `environments`
is the environment's own). So time comes from what GitHub does date:
- the attempt: GET .../actions/runs/{run_id}/attempts/{GITHUB_RUN_ATTEMPT} gives `run_started_at`
  and `triggering_actor` (who started this attempt);
- the environment's deployments: "When a workflow job that references an environment runs, it
  creates a deployment object with the environment property set to the name of your environment"
  (docs.github.com, "Deployments and environments"); GET /repos/{owner}/{repo}/deployments?
  environment=...&sha=... lists them with `created_at`.
Every deployment of the environment made for this run before this attempt started stands for an
earlier attempt's job, which a review let through; the reviews that decided those come first in
the history (a log, appended as reviews are made), so they are skipped, and the latest of the rest
decides: an approval after an earlier attempt's rejection counts, an earlier attempt's approval
does not. If GitHub ever listed the history newest first, this would skip the wrong reviews and
refuse a rejected-then-approved re-run (start a new run then); it cannot let a rejection through
while `prevent_self_review` is set (docs/pipeline-setup.md).

GITHUB_TOKEN needs `actions: read` (runs, attempts, approvals) and `deployments: read`.
"""

from __future__ import annotations

import json
import os
import sys
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

DECISIONS = ("approved", "rejected")

Get = Callable[[str], object]


@dataclass(frozen=True)
class History:
    """What GitHub records of one run, in the REST API's shapes."""

    run: dict  # GET .../actions/runs/{run_id}
    attempt: dict  # GET .../actions/runs/{run_id}/attempts/{n}
    reviews: list[dict]  # GET .../actions/runs/{run_id}/approvals
    deployments: list[dict]  # GET .../deployments?environment=E&sha=S


def api_get(path: str) -> object:
    base = os.environ.get("GITHUB_API_URL", "https://api.github.com")
    request = urllib.request.Request(
        f"{base}{path}",
        headers={
            "Accept": "application/vnd.github+json",
            "Authorization": f"Bearer {os.environ['GITHUB_TOKEN']}",
            "X-GitHub-Api-Version": "2022-11-28",
        },
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


def fetch_history(environment: str, get: Get = api_get) -> History:
    repo, run_id = os.environ["GITHUB_REPOSITORY"], os.environ["GITHUB_RUN_ID"]
    runs = f"/repos/{repo}/actions/runs/{run_id}"
    query = urllib.parse.urlencode(
        {"environment": environment, "sha": os.environ["GITHUB_SHA"], "per_page": 100}
    )
    return History(
        run=get(runs),
        attempt=get(f"{runs}/attempts/{os.environ['GITHUB_RUN_ATTEMPT']}"),
        reviews=get(f"{runs}/approvals"),
        deployments=get(f"/repos/{repo}/deployments?{query}"),
    )


def when(timestamp: str) -> datetime:
    return datetime.fromisoformat(timestamp.replace("Z", "+00:00"))


def this_attempts_reviews(history: History, environment: str) -> list[dict]:
    """The decisions on `environment` made in this attempt, oldest first."""
    decisions = [
        r
        for r in history.reviews
        if r.get("state") in DECISIONS
        and any(e.get("name") == environment for e in r.get("environments", []))
    ]
    run_created = when(history.run["created_at"])
    started = when(history.attempt["run_started_at"])
    earlier = [
        d
        for d in history.deployments
        if d.get("environment") == environment and run_created <= when(d["created_at"]) < started
    ]
    return decisions[len(earlier) :]


def verdict(history: History, environment: str, triggered_by: str) -> str | None:
    """None when this attempt's latest decision on `environment` is an approval by someone other
    than `triggered_by`; else the reason to refuse."""
    attempt = history.attempt.get("run_attempt", "?")
    reviews = this_attempts_reviews(history, environment)
    if not reviews:
        return (
            f"nobody approved the '{environment}' environment in attempt {attempt} of this run, "
            "so it has no required reviewers (an approval of an earlier attempt does not count). "
            "Add them (Settings > Environments; on a private repository this needs GitHub "
            "Enterprise) or follow docs/pipeline.md, 'Production without required reviewers'"
        )
    latest = reviews[-1]
    who = latest.get("user", {}).get("login", "")
    if latest["state"] == "rejected":
        return f"{who} rejected the '{environment}' deployment of attempt {attempt}"
    if who == triggered_by:
        return f"'{environment}' was approved by {who}, who started attempt {attempt}"
    return None


def main(argv: list[str] | None = None, fetch: Callable[[str], History] = fetch_history) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m tools.pipeline.approval ENVIRONMENT", file=sys.stderr)
        return 2
    history = fetch(args[0])
    triggered_by = (history.attempt.get("triggering_actor") or {}).get("login") or os.environ.get(
        "GITHUB_TRIGGERING_ACTOR", ""
    )
    problem = verdict(history, args[0], triggered_by)
    if problem:
        print(f"::error::Refusing to deploy: {problem}.")
        return 1
    print(f"'{args[0]}' was approved in this attempt by someone other than {triggered_by}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
