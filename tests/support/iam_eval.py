"""A small evaluator of the IAM policy grammar the project's resource policies use, to ask of a
bucket policy "does any statement deny this request?".

It follows the IAM User Guide, reference_policies_elements_condition_operators.html:
- a condition block holds when every operator holds, an operator when every key holds, and a
  key when any of its policy values matches the request's value;
- a key absent from the request makes a positive operator false and a negated one
  (``StringNotEquals``, ``ArnNotEquals``, ...) true;
- ``...IfExists`` makes an absent key true;
- ``Null: "true"`` holds when the key is absent, ``Null: "false"`` when it is present.
Action and resource patterns take ``*`` and ``?``. Unknown operators raise, so a policy that
starts using one cannot pass untested.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Request:
    action: str
    resource: str
    context: Mapping[str, str] = field(default_factory=dict)


def _values(value: object) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _like(pattern: str, value: str) -> bool:
    return fnmatch.fnmatchcase(value, pattern)


POSITIVE = {
    "StringEquals": lambda p, v: p == v,
    "StringLike": _like,
    "ArnEquals": lambda p, v: p == v,
    "ArnLike": _like,
    "Bool": lambda p, v: p.lower() == v.lower(),
}
NEGATED = {
    "StringNotEquals": "StringEquals",
    "StringNotLike": "StringLike",
    "ArnNotEquals": "ArnEquals",
    "ArnNotLike": "ArnLike",
}


def _operator_holds(operator: str, keys: Mapping[str, object], context: Mapping[str, str]) -> bool:
    if_exists = operator.endswith("IfExists")
    base = operator.removesuffix("IfExists")
    for key, policy_value in keys.items():
        present = key in context
        if base == "Null":
            if (str(policy_value).lower() == "true") == present:
                return False
            continue
        if not present:
            if if_exists or base in NEGATED:
                continue
            return False
        value = context[key]
        if base in NEGATED:
            match = POSITIVE[NEGATED[base]]
            if any(match(p, value) for p in _values(policy_value)):
                return False
        elif base in POSITIVE:
            if not any(POSITIVE[base](p, value) for p in _values(policy_value)):
                return False
        else:
            raise ValueError(f"operator {operator} is not modelled")
    return True


def condition_holds(condition: Mapping[str, Mapping[str, object]], context: Mapping[str, str]):
    return all(_operator_holds(op, keys, context) for op, keys in condition.items())


def applies(statement: Mapping, request: Request) -> bool:
    if statement.get("Principal") != "*":
        raise ValueError("only Principal '*' is modelled")
    actions = _values(statement["Action"])
    resources = _values(statement["Resource"])
    return (
        any(_like(a, request.action) for a in actions)
        and any(_like(r, request.resource) for r in resources)
        and condition_holds(statement.get("Condition") or {}, request.context)
    )


def denied_by(policy: Mapping, request: Request) -> list[str]:
    """The Sids of the Deny statements that apply to ``request``."""
    return [
        s.get("Sid", "?")
        for s in policy["Statement"]
        if s["Effect"] == "Deny" and applies(s, request)
    ]
