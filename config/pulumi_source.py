"""The one place the program reads Pulumi config: every declared key, decoded and validated."""

from __future__ import annotations

import pulumi
from pulumi.runtime import is_config_secret

from config.loader import PROJECT, ConfigError, decode, load_stack_config, top_level_keys
from config.schema import StackConfig

SECRET_REFUSED = (
    "holds a Pulumi secret, but no setting of this program is secret: secret values belong in "
    "Secrets Manager or Parameter Store (apps[].secrets, fetched by External Secrets) or in "
    "Sealed Secrets, never in stack config, where they would end up in a ConfigMap or a plan"
)


def load() -> StackConfig:
    """Validate the stack's config or stop the program (``RunError``: message, no traceback)."""
    stack = pulumi.get_stack()
    secret = [key for key in top_level_keys() if is_config_secret(f"{PROJECT}:{key}")]
    if secret:
        raise pulumi.RunError(str(ConfigError(stack, [(k, SECRET_REFUSED) for k in secret])))
    cfg = pulumi.Config(PROJECT)
    raw = {key: value for key in top_level_keys() if (value := cfg.get(key)) is not None}
    try:
        return load_stack_config(decode(raw), stack)
    except ConfigError as exc:
        raise pulumi.RunError(str(exc)) from None
