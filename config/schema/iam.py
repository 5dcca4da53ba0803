"""IAM settings of the stack: the permissions boundary its roles carry."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from config.schema.base import Model

IAM_POLICY_ARN = r"^arn:aws[a-z-]*:iam::\d{12}:policy/[\w+=,.@/-]+$"


class Iam(Model):
    """How the stack's IAM roles are bounded."""

    permissions_boundary: Annotated[str, Field(pattern=IAM_POLICY_ARN)] | None = Field(
        default=None,
        description=(
            "ARN of the customer managed policy every IAM role of the stack carries as its "
            "permissions boundary: the bootstrap program's `permissionsBoundary` output. The "
            "pipeline's deploy roles may create and change roles only under it, so a stack "
            "deployed by them needs it; required when `production` is true, and a policy of the "
            "stack's own account."
        ),
    )
