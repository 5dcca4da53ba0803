"""The one place the program reads Pulumi config: every declared key, decoded and validated."""

from __future__ import annotations

import pulumi
from pulumi.runtime import get_config_env, is_config_secret

from config import rules
from config.loader import (
    PROJECT,
    SECRET_REFUSED,
    ConfigError,
    decode,
    load_stack_config,
    top_level_keys,
)
from config.schema import StackConfig


def stack_keys() -> list[str]:
    """Every key of this project's namespace that the stack sets.

    The CLI hands the program the stack's whole config as JSON in ``PULUMI_CONFIG``
    (pulumi/pulumi@v3.259.0:sdk/python/cmd/pulumi-language-python/main.go, ``pulumiConfigVar``),
    which ``get_config_env`` reads; the other namespaces' keys go to ``config.namespaces``.
    """
    prefix = f"{PROJECT}:"
    return [key.removeprefix(prefix) for key in get_config_env() if key.startswith(prefix)]


ENGINE_ONLY = (
    "__main__.py is a Pulumi program: the engine runs it (`pulumi preview`, `pulumi up`); "
    "to plan a stack offline, run `venv/bin/python -m tools.plan <stack>` from the repository root"
)


def require_engine() -> None:
    """Stop a program started by hand (``python __main__.py``): with no engine it would see no
    stack config, and report every required key as missing from a stack file that is fine."""
    if pulumi.runtime.settings.get_monitor() is None:
        raise SystemExit(ENGINE_ONLY)


def load() -> StackConfig:
    """Validate the stack's config or stop the program (``RunError``: message, no traceback)."""
    stack = pulumi.get_stack()
    secret = [key for key in top_level_keys() if is_config_secret(f"{PROJECT}:{key}")]
    if secret:
        raise pulumi.RunError(str(ConfigError(stack, [(k, SECRET_REFUSED) for k in secret])))
    cfg = pulumi.Config(PROJECT)
    raw = {key: value for key in top_level_keys() if (value := cfg.get(key)) is not None}
    others = {k: v for k, v in get_config_env().items() if not k.startswith(f"{PROJECT}:")}
    try:
        cfg = load_stack_config(
            decode(raw), stack, unknown_keys=stack_keys(), other_namespaces=others
        )
    except ConfigError as exc:
        raise pulumi.RunError(str(exc)) from None
    for key, message in rules.warnings(cfg):
        pulumi.log.warn(f"{PROJECT}:{key}: {message}")
    return cfg


def check_deployer(cfg: StackConfig, caller_arn: str) -> None:
    """Stop an ``up`` that would lock its own identity out (see ``rules.deployer_problems``); a
    preview only warns, and says nothing for the stack's own preview roles."""
    problems = rules.deployer_problems(cfg, caller_arn)
    if not problems:
        return
    message = str(ConfigError(pulumi.get_stack(), problems))
    if not pulumi.runtime.is_dry_run():
        raise pulumi.RunError(message)
    if not rules.previewer(cfg, caller_arn):
        pulumi.log.warn(message + "\n(a preview only warns; `pulumi up` stops here)")
