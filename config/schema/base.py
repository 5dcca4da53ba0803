"""What every config model shares: frozen, camelCase keys, unknown keys refused; common
field types."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from design.schema_base import ConfigModel

DNS_LABEL = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
IAM_ROLE_ARN = r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+$"
IAM_PRINCIPAL_ARN = r"^arn:aws[a-z-]*:iam::\d{12}:(role|user)/[\w+=,.@/-]+$"

DnsLabel = Annotated[str, Field(pattern=DNS_LABEL, max_length=63)]
RoleArn = Annotated[str, Field(pattern=IAM_ROLE_ARN)]
PrincipalArn = Annotated[str, Field(pattern=IAM_PRINCIPAL_ARN)]


class Model(ConfigModel):
    """Every config model (design/schema_base.py says how they read their keys)."""
