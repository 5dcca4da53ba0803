"""Trust policies of the pipeline roles on GitHub's OIDC provider. Pure.

STS validates GitHub's own claims as condition keys (AWS What's New, 2026-01, "AWS STS supports
validation of identity provider claims"; aws-actions/configure-aws-credentials@v6.2.3:README.md,
"Claims and scoping permissions"). A job's ``sub`` names its environment but no branch, so deploy
and plan roles also require ``ref`` and the workflow.
"""

from __future__ import annotations

from bootstrap.facts import RoleFact

ISSUER = "token.actions.githubusercontent.com"
AUDIENCE = "sts.amazonaws.com"


def subjects(
    fact: RoleFact, *, owner: str, owner_id: int, repo: str, repo_id: int, legacy: bool
) -> list[str]:
    """The ``sub`` a job of this role presents. Repositories created or renamed on or after
    2026-07-15 emit the immutable form ``repo:<owner>@<owner-id>/<repo>@<repo-id>:...``
    (aws-actions/configure-aws-credentials@v6.2.3:README.md, "immutable subject"; github/docs
    #45221); the name-only form is an opt-in fallback for older repositories."""
    context = (
        f"environment:{fact.trust['environment']}"
        if "environment" in fact.trust
        else fact.trust["event"]
    )
    found = [f"repo:{owner}@{owner_id}/{repo}@{repo_id}:{context}"]
    if legacy:
        found.append(f"repo:{owner}/{repo}:{context}")
    return found


def trust_policy(
    fact: RoleFact,
    provider_arn: str,
    *,
    owner: str,
    owner_id: int,
    repo: str,
    repo_id: int,
    legacy: bool = False,
) -> dict:
    claims: dict[str, object] = {
        f"{ISSUER}:aud": AUDIENCE,
        f"{ISSUER}:sub": subjects(
            fact, owner=owner, owner_id=owner_id, repo=repo, repo_id=repo_id, legacy=legacy
        ),
        f"{ISSUER}:repository": f"{owner}/{repo}",
        f"{ISSUER}:repository_id": str(repo_id),
    }
    if "environment" in fact.trust:
        claims[f"{ISSUER}:environment"] = fact.trust["environment"]
    if "ref" in fact.trust:
        claims[f"{ISSUER}:ref"] = fact.trust["ref"]
    if "workflow" in fact.trust:
        claims[f"{ISSUER}:job_workflow_ref"] = (
            f"{owner}/{repo}/.github/workflows/{fact.trust['workflow']}@{fact.trust['ref']}"
        )
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": provider_arn},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {"StringEquals": claims},
            }
        ],
    }
