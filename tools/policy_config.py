"""Policy pack settings of a stack, derived from its stack file (the one source of truth).

python -m tools.policy_config prod > policy-config.prod.json
pulumi preview --policy-pack policies --policy-pack-config policy-config.prod.json
"""

from __future__ import annotations

import json
import sys

from config import ConfigError, StackConfig
from policies import rules
from tools.offline import stack_config
from tools.offline.runner import typed_config


def settings_of(cfg: StackConfig) -> rules.Settings:
    return rules.Settings(
        environment=cfg.environment,
        production=cfg.production,
        protect=cfg.protect,
        permissions_boundary=cfg.iam.permissions_boundary or "",
    )


def settings_for(stack: str, values: dict | None = None) -> rules.Settings:
    return settings_of(typed_config(stack, stack_config(stack) if values is None else values))


def pack_config(settings: rules.Settings) -> dict:
    """``--policy-pack-config`` form: every policy gets the same settings."""
    values = {
        "environment": settings.environment,
        "production": settings.production,
        "protect": settings.protect,
        "permissionsBoundary": settings.permissions_boundary,
    }
    names = [r.name for r in rules.RESOURCE_RULES] + [r.name for r in rules.STACK_RULES]
    return {name: dict(values) for name in names}


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m tools.policy_config <stack>", file=sys.stderr)
        return 2
    try:
        settings = settings_for(args[0])
    except (ConfigError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(pack_config(settings), indent=2, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
