"""Managed node groups."""

from __future__ import annotations

from collections.abc import Iterator

from config.rules.base import Problem, repeated
from config.schema import StackConfig


def node_group_sizes(cfg: StackConfig) -> Iterator[Problem]:
    for i, group in enumerate(cfg.node_groups):
        if not group.min_size <= group.desired_size <= group.max_size:
            yield (
                f"nodeGroups[{i}]",
                f"sizes must satisfy minSize <= desiredSize <= maxSize "
                f"(got {group.min_size} <= {group.desired_size} <= {group.max_size})",
            )
    yield from repeated("nodeGroups", "node group name", (g.name for g in cfg.node_groups))
