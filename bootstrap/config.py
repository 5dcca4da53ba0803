"""Typed, validated config of the bootstrap program (one stack per AWS account). Pure.

Every problem is reported at once, by key, before any resource is registered (as the main
program's ``config/`` does)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import Field, ValidationError, model_validator

from bootstrap import facts
from config.schema.base import DNS_LABEL, Model

PROJECT = "eks-pipeline-bootstrap"
# S3 bucket naming rules (S3 User Guide, "General purpose bucket naming rules"), without dots:
# a dotted name breaks virtual-hosted TLS.
BUCKET_NAME = r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$"
# GitHub owner and repository names (letters, digits, '-', and for repositories '_' and '.').
GITHUB_OWNER = r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$"
GITHUB_REPO = r"^[A-Za-z0-9._-]{1,100}$"


class GitHub(Model):
    """The repository whose workflows assume the roles. The ids are part of the immutable
    ``sub`` claim GitHub emits for repositories created or renamed on or after 2026-07-15
    (aws-actions/configure-aws-credentials@v6.2.3:README.md, "immutable subject")."""

    owner: Annotated[str, Field(pattern=GITHUB_OWNER, description="Organization name.")]
    owner_id: Annotated[int, Field(gt=0, description="Organization id (GET /orgs/<owner>: id).")]
    repository: Annotated[str, Field(pattern=GITHUB_REPO, description="Repository name.")]
    repository_id: Annotated[
        int, Field(gt=0, description="Repository id (GET /repos/<owner>/<repo>: id).")
    ]
    legacy_subject: bool = Field(
        default=False,
        description=(
            "Opt-in fallback: also accept the name-only sub (repo:<owner>/<repo>:...) that "
            "repositories created before 2026-07-15 emit until they opt in to immutable subjects."
        ),
    )

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.repository}"


class MainStack(Model):
    """One stack of the main program deployed into this account."""

    name: Annotated[str, Field(pattern=DNS_LABEL, max_length=20)]
    environment: Annotated[str, Field(pattern=DNS_LABEL, max_length=20)] | None = Field(
        default=None, description="The main stack's environment; empty means its name."
    )
    cluster_name: (
        Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]*[a-z0-9]$", max_length=32)] | None
    ) = Field(default=None, description="The main stack's clusterName; empty means eks-<env>.")

    @property
    def env(self) -> str:
        return self.environment or self.name

    @property
    def cluster(self) -> str:
        return self.cluster_name or f"eks-{self.env}"


class BootstrapConfig(Model):
    account_id: Annotated[str, Field(pattern=r"^\d{12}$", description="The account; checked.")]
    state_bucket: Annotated[str, Field(pattern=BUCKET_NAME, description="Pulumi state bucket.")]
    main_project: Annotated[str, Field(pattern=DNS_LABEL)] = "eks-config-storage"
    boundary_name: Annotated[str, Field(pattern=r"^[\w+=,.@-]{1,128}$")] = (
        "eks-config-storage-boundary"
    )
    github: GitHub
    stacks: Annotated[list[MainStack], Field(min_length=1)]

    @model_validator(mode="after")
    def _stacks_have_roles(self) -> BootstrapConfig:
        names = [s.name for s in self.stacks]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"stacks: {repeated} listed more than once")
        for stack in names:
            if not any(r.kind == "deploy" for r in facts.roles_of(stack)):
                raise ValueError(f"stacks: {stack!r} has no deploy role in bootstrap/roles.yaml")
        return self

    @property
    def shared_account(self) -> bool:
        """Several environments in one account: writes are then conditioned on the
        environment tag, so one environment's deploy role cannot change another's."""
        return len({s.env for s in self.stacks}) > 1

    def roles(self) -> list[tuple[MainStack, facts.RoleFact]]:
        return [(s, r) for s in self.stacks for r in facts.roles_of(s.name)]


class BootstrapConfigError(ValueError):
    def __init__(self, stack: str, problems: list[tuple[str, str]]):
        self.problems = problems
        lines = [f"  - {PROJECT}:{key}: {message}" for key, message in problems]
        super().__init__(
            f"invalid configuration for bootstrap stack '{stack}' ({len(problems)} "
            f"problem{'s' * (len(problems) != 1)}):\n" + "\n".join(lines)
        )


def _path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "(root)"


def _decoded(key: str, value: Any) -> Any:
    """Structured keys arrive as JSON text; a value that is not JSON is reported by its key."""
    if isinstance(value, str) and key in ("github", "stacks"):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def load(raw: Mapping[str, Any], stack: str) -> BootstrapConfig:
    """Validate the stack's ``eks-pipeline-bootstrap:*`` values (as Pulumi hands them: strings,
    structured values as JSON); raise ``BootstrapConfigError`` naming every problem by key."""
    known = {f.alias or n for n, f in BootstrapConfig.model_fields.items()}
    problems = [(k, "unknown key") for k in sorted(set(raw) - known)]
    values = {key: _decoded(key, value) for key, value in raw.items()}
    try:
        cfg = BootstrapConfig.model_validate(values)
    except ValidationError as exc:
        for err in exc.errors():
            message = str(err["ctx"]["error"]) if err["type"] == "value_error" else err["msg"]
            problems.append((_path(err["loc"]), message))
        raise BootstrapConfigError(stack, problems) from None
    if problems:
        raise BootstrapConfigError(stack, problems)
    return cfg
