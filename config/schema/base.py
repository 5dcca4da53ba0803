"""What every config model shares: frozen, camelCase keys, unknown keys refused; common
field types."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

DNS_LABEL = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
IAM_ROLE_ARN = r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+$"
IAM_PRINCIPAL_ARN = r"^arn:aws[a-z-]*:iam::\d{12}:(role|user)/[\w+=,.@/-]+$"

DnsLabel = Annotated[str, Field(pattern=DNS_LABEL, max_length=63)]
RoleArn = Annotated[str, Field(pattern=IAM_ROLE_ARN)]
PrincipalArn = Annotated[str, Field(pattern=IAM_PRINCIPAL_ARN)]


class Model(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        frozen=True,
        extra="forbid",
        str_strip_whitespace=True,
        # A field's docstring is its description: the reference (docs/configuration.md) is
        # generated from it (tools/config_reference.py).
        use_attribute_docstrings=True,
    )
