"""Typed, validated stack configuration (pure: no Pulumi imports)."""

from config.loader import (
    PROJECT,
    ConfigError,
    decode,
    load_stack_config,
    top_level_keys,
    unknown_key_problems,
)
from config.schema import StackConfig

__all__ = [
    "PROJECT",
    "ConfigError",
    "StackConfig",
    "decode",
    "load_stack_config",
    "top_level_keys",
    "unknown_key_problems",
]
