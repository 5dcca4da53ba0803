"""The permissions boundary: required in production, and of the stack's own account."""

from __future__ import annotations

from collections.abc import Iterator

from config.rules.base import Problem
from config.schema import StackConfig

KEY = "iam.permissionsBoundary"


def permissions_boundary(cfg: StackConfig) -> Iterator[Problem]:
    """A production stack is deployed by the pipeline, whose deploy role may create a role only
    with the boundary (bootstrap/design/policies.py): without it the first ``up`` would stop at
    the first role, after the key and the network exist. A stack run by an administrator (a
    sandbox) may go without. The boundary must be in the account the admin roles are in: IAM
    refuses a boundary of another account."""
    boundary = cfg.iam.permissions_boundary
    if boundary is None:
        if cfg.production:
            yield KEY, "required when production is true (the pipeline creates roles only under it)"
        return
    account = boundary.split(":")[4]
    others = sorted({arn.split(":")[4] for arn in cfg.admin_role_arns} - {account})
    if others:
        yield KEY, f"is a policy of account {account}, but adminRoleArns are of {others}"
