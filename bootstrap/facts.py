"""The pipeline's role fact sheet (``roles.yaml``): the one list the bootstrap builds roles from,
the workflows' tests check against and the docs point to. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

import yaml

ROLES = Path(__file__).with_name("roles.yaml")
Kind = Literal["preview", "plan", "deploy"]
KINDS: tuple[Kind, ...] = ("preview", "plan", "deploy")
# IAM's range for MaxSessionDuration (IAM API Reference, CreateRole).
SESSION_LIMITS = (3600, 43_200)


@dataclass(frozen=True)
class RoleFact:
    name: str
    stack: str
    kind: Kind
    variable: str
    trust: dict[str, str]
    max_session_duration: int


@cache
def roles(path: Path = ROLES) -> tuple[RoleFact, ...]:
    """Every role of the fact sheet; raises ``ValueError`` naming a row that breaks the naming
    the workflows rely on (``github-<kind>-<stack>``, ``AWS_<KIND>_ROLE_ARN_<STACK>``)."""
    found = []
    for i, row in enumerate(yaml.safe_load(path.read_text())["roles"]):
        fact = RoleFact(
            name=row["name"],
            stack=row["stack"],
            kind=row["kind"],
            variable=row["variable"],
            trust=dict(row["trust"]),
            max_session_duration=int(row["maxSessionDuration"]),
        )
        problems = [
            f"kind {fact.kind!r} is none of {KINDS}" * (fact.kind not in KINDS),
            "name is not github-<kind>-<stack>" * (fact.name != f"github-{fact.kind}-{fact.stack}"),
            "variable is not AWS_<KIND>_ROLE_ARN_<STACK>"
            * (fact.variable != f"AWS_{fact.kind.upper()}_ROLE_ARN_{fact.stack.upper()}"),
            f"maxSessionDuration outside {SESSION_LIMITS}"
            * (not SESSION_LIMITS[0] <= fact.max_session_duration <= SESSION_LIMITS[1]),
            "trust names neither an event nor an environment"
            * (not ({"event", "environment"} & fact.trust.keys())),
        ]
        if any(problems):
            raise ValueError(f"roles[{i}] ({fact.name}): " + "; ".join(p for p in problems if p))
        found.append(fact)
    return tuple(found)


def roles_of(stack: str) -> tuple[RoleFact, ...]:
    return tuple(r for r in roles() if r.stack == stack)


def session_limits() -> dict[str, int]:
    """MaxSessionDuration by repository variable: what a job's role-duration-seconds may ask."""
    return {r.variable: r.max_session_duration for r in roles()}
