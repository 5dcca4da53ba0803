"""How every model of the stack config reads its keys: frozen, camelCase, unknown keys refused,
strings stripped, a field's docstring its description (the reference, docs/configuration.md, is
generated from it by tools/config_reference.py). Here, below both ``config`` and ``design``,
so the storage backends' schema parts and the config models share it."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


class ConfigModel(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        frozen=True,
        extra="forbid",
        str_strip_whitespace=True,
        use_attribute_docstrings=True,
    )
