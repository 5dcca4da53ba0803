"""Rules that span several fields or depend on the environment.

Each rule returns ``(key path, message)`` pairs; the loader reports all of them at once. They run
after the structure has been validated, so they can rely on every field having its declared type.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator

from config.schema import StackConfig

Problem = tuple[str, str]
Rule = Callable[[StackConfig], Iterator[Problem]]


def one_network_mode(cfg: StackConfig) -> Iterator[Problem]:
    if (cfg.network.create is None) == (cfg.network.existing is None):
        yield "network", "set exactly one of 'create' (new VPC) or 'existing' (adopt a VPC)"


def endpoint_exposure(cfg: StackConfig) -> Iterator[Problem]:
    ep = cfg.endpoint
    if ep.public_access and cfg.production:
        yield "endpoint.publicAccess", "a production cluster's API endpoint must be private only"
    if ep.public_access and not ep.public_access_cidrs:
        yield (
            "endpoint.publicAccessCidrs",
            "a public endpoint must list the CIDRs allowed to reach it",
        )
    if not ep.public_access and ep.public_access_cidrs:
        yield "endpoint.publicAccessCidrs", "CIDRs given but endpoint.publicAccess is false"


def production_safety(cfg: StackConfig) -> Iterator[Problem]:
    if not cfg.production:
        return
    if not cfg.protect:
        yield "protect", "production stacks must protect their stateful resources"
    if cfg.kms.deletion_window_days != 30:
        yield "kms.deletionWindowDays", "production keys keep the longest window (30 days)"


def someone_can_administer(cfg: StackConfig) -> Iterator[Problem]:
    if not cfg.admin_role_arns and not cfg.bootstrap_creator_admin:
        yield (
            "adminRoleArns",
            "list at least one admin role (include the role that deploys this stack), "
            "or set bootstrapCreatorAdmin",
        )


def node_group_sizes(cfg: StackConfig) -> Iterator[Problem]:
    for i, group in enumerate(cfg.node_groups):
        if not group.min_size <= group.desired_size <= group.max_size:
            yield (
                f"nodeGroups[{i}]",
                f"sizes must satisfy minSize <= desiredSize <= maxSize "
                f"(got {group.min_size} <= {group.desired_size} <= {group.max_size})",
            )
    for name, count in Counter(g.name for g in cfg.node_groups).items():
        if count > 1:
            yield "nodeGroups", f"node group name {name!r} is used {count} times"


RULES: tuple[Rule, ...] = (
    one_network_mode,
    endpoint_exposure,
    production_safety,
    someone_can_administer,
    node_group_sizes,
)


def problems(cfg: StackConfig) -> list[Problem]:
    return [problem for rule in RULES for problem in rule(cfg)]
