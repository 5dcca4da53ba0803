"""The bootstrap's config and account, read once per run, before any resource."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from bootstrap import facts
from bootstrap.config import PROJECT, BootstrapConfig, BootstrapConfigError, load
from bootstrap.design.context import Account


def load_config() -> BootstrapConfig:
    stack = pulumi.get_stack()
    prefix = f"{PROJECT}:"
    raw = {
        key.removeprefix(prefix): value
        for key, value in pulumi.runtime.get_config_env().items()
        if key.startswith(prefix)
    }
    try:
        return load(raw, stack)
    except BootstrapConfigError as exc:
        raise pulumi.RunError(str(exc)) from None


def account_of(cfg: BootstrapConfig) -> Account:
    """Ask the provider where it deploys; stop before any resource if it is not the account
    the stack file names (a stack per account: the wrong credentials are the likely mistake)."""
    identity = aws.get_caller_identity()
    if identity.account_id != cfg.account_id:
        raise pulumi.RunError(
            f"{PROJECT}:accountId is {cfg.account_id}, but the credentials are of account "
            f"{identity.account_id}"
        )
    return Account(
        partition=aws.get_partition().partition,
        region=aws.get_region().region,
        account_id=cfg.account_id,
        state_bucket=cfg.state_bucket,
        main_project=cfg.main_project,
        boundary_name=cfg.boundary_name,
        pipeline_roles=tuple(r.name for r in facts.roles()),
        shared=cfg.shared_account,
    )
