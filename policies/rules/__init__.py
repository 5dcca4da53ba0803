"""The design rules as code: one implementation of each, used by the CrossGuard pack
(``pulumi preview --policy-pack policies``) and by the offline plan.

The rules live in one module per concern; this package assembles them into the one catalogue
both consumers read. A rule sees a ``Subject`` (type, name, URN, input properties, protect) and
yields violation messages. Inputs arrive as the engine sends them: camelCase keys, JSON documents
as strings. Under the real CLI, reading a value that is unknown during preview raises inside the
pack's proxy and the check is skipped for that resource; it runs again, with values, during
``up``.
"""

from __future__ import annotations

from collections.abc import Sequence

from . import configuration, encryption, escalation, identity, lifecycle, recovery, storage
from .base import (
    SNAPSHOT_CLASS,
    STORAGE_CLASS,
    Enforcement,
    ResourceRule,
    Settings,
    StackRule,
    Subject,
    Verdict,
)

CONCERNS = (identity, escalation, encryption, configuration, storage, lifecycle, recovery)
RESOURCE_RULES: tuple[ResourceRule, ...] = tuple(r for m in CONCERNS for r in m.RESOURCE_RULES)
STACK_RULES: tuple[StackRule, ...] = tuple(r for m in CONCERNS for r in m.STACK_RULES)

__all__ = [
    "RESOURCE_RULES",
    "SNAPSHOT_CLASS",
    "STACK_RULES",
    "STORAGE_CLASS",
    "Enforcement",
    "ResourceRule",
    "Settings",
    "StackRule",
    "Subject",
    "Verdict",
    "evaluate",
]


def evaluate(subjects: Sequence[Subject], settings: Settings) -> list[Verdict]:
    """Every rule over every subject: the offline plan's verdicts."""
    verdicts = [
        Verdict(
            rule.name,
            rule.principle,
            rule.enforcement,
            rule.description,
            [(s.urn, message) for s in subjects for message in rule.check(s, settings)],
        )
        for rule in RESOURCE_RULES
    ]
    verdicts += [
        Verdict(
            rule.name,
            rule.principle,
            rule.enforcement,
            rule.description,
            list(rule.check(subjects, settings)),
        )
        for rule in STACK_RULES
    ]
    return verdicts
