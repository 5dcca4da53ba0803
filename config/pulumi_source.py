"""The one place the program reads Pulumi config: every declared key, decoded and validated."""

from __future__ import annotations

import pulumi

from config.loader import PROJECT, ConfigError, decode, load_stack_config, top_level_keys
from config.schema import StackConfig


def load() -> StackConfig:
    """Validate the stack's config or stop the program (``RunError``: message, no traceback)."""
    cfg = pulumi.Config(PROJECT)
    raw = {key: value for key in top_level_keys() if (value := cfg.get(key)) is not None}
    try:
        return load_stack_config(decode(raw), pulumi.get_stack())
    except ConfigError as exc:
        raise pulumi.RunError(str(exc)) from None
