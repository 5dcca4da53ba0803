"""Day-2 changes as functions of a stack config, and how the transition rules judge them."""

from __future__ import annotations

import copy
from collections.abc import Callable

from tests.support.stack_values import NS
from tools import transitions
from tools.offline import Plan, run_config, stack_config
from tools.offline.runner import typed_config
from tools.plan import acknowledged

Values = dict
Change = Callable[[Values], None]


def app(values: Values, name: str) -> dict:
    return next(a for a in values[f"{NS}:apps"] if a["name"] == name)


def rename_app(namespace: str | None) -> Change:
    def change(values: Values) -> None:
        orders = app(values, "orders")
        orders["name"] = "ordering"
        if namespace:
            orders["namespace"] = namespace

    return change


def head(stack: str, change: Change) -> Values:
    values = copy.deepcopy(stack_config(stack))
    change(values)
    return values


def judged(base: Plan, stack: str, values: Values):
    after = run_config(stack, values).document()
    cfg = typed_config(stack, values)
    return transitions.report(base.document(), after, acknowledged(cfg))
