"""The small part of IAM policy evaluation no library does offline: does a set of identity
policy documents allow one request (action, resource, context)? Explicit Deny wins, then any
Allow (IAM User Guide, "Policy evaluation logic", identity-based policies of one account).

Only what the pipeline's documents use: Action/NotAction, Resource/NotResource with ``*`` and
``?`` wildcards, and the condition operators StringEquals, StringLike, StringNotEquals,
ArnEquals, ArnLike, Bool and Null, with ForAnyValue/ForAllValues. Anything else raises, so a
policy that grows a new operator cannot pass unjudged."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from fnmatch import fnmatchcase
from typing import Any

Context = Mapping[str, Any]


def _list(value: Any) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def _glob(pattern: str, value: str, *, fold: bool) -> bool:
    # IAM wildcards are * and ?; fnmatch's [..] classes do not exist in IAM: escape them.
    pattern = pattern.replace("[", "[[]")
    if fold:
        return fnmatchcase(value.lower(), pattern.lower())
    return fnmatchcase(value, pattern)


def _lookup(context: Context, key: str) -> Any:
    for k, v in context.items():
        if k.lower() == key.lower():
            return v
    return None


def _values_match(op: str, expected: list, actual: str) -> bool:
    if op in ("StringEquals", "ArnEquals", "Bool"):
        return any(
            str(e).lower() == str(actual).lower() if op == "Bool" else str(e) == str(actual)
            for e in expected
        )
    if op in ("StringLike", "ArnLike"):
        return any(_glob(str(e), str(actual), fold=False) for e in expected)
    if op == "StringNotEquals":
        return all(str(e) != str(actual) for e in expected)
    raise NotImplementedError(f"condition operator {op}")


def condition_holds(condition: Mapping[str, Mapping[str, Any]], context: Context) -> bool:
    for operator, pairs in condition.items():
        qualifier, _, op = operator.rpartition(":")
        for key, wanted in pairs.items():
            actual = _list(_lookup(context, key))
            expected = _list(wanted)
            if op == "Null":
                # "true": the key must be absent from the request; "false": present.
                if (str(expected[0]).lower() == "true") != (not actual):
                    return False
            elif qualifier == "ForAnyValue":
                if not any(_values_match(op, expected, a) for a in actual):
                    return False
            elif qualifier == "ForAllValues":
                if not all(_values_match(op, expected, a) for a in actual):
                    return False
            elif qualifier:
                raise NotImplementedError(f"condition qualifier {qualifier}")
            elif not actual:
                # A key missing from the request: a positive operator fails; StringNotEquals
                # "evaluates to true" for a missing key (IAM User Guide, condition operators).
                if op != "StringNotEquals":
                    return False
            elif not any(_values_match(op, expected, a) for a in actual):
                return False
    return True


def _matches(stmt: Mapping, action: str, resource: str, context: Context) -> bool:
    if "NotAction" in stmt:
        if any(_glob(p, action, fold=True) for p in _list(stmt["NotAction"])):
            return False
    elif not any(_glob(p, action, fold=True) for p in _list(stmt.get("Action"))):
        return False
    if "NotResource" in stmt:
        if any(_glob(p, resource, fold=False) for p in _list(stmt["NotResource"])):
            return False
    elif not any(p == "*" or _glob(p, resource, fold=False) for p in _list(stmt.get("Resource"))):
        return False
    return condition_holds(stmt.get("Condition") or {}, context)


def statements(documents: Iterable[Mapping]) -> list[Mapping]:
    return [s for d in documents for s in _list(d.get("Statement"))]


def allowed(documents: Sequence[Mapping], action: str, resource: str, context: Context) -> bool:
    found = [s for s in statements(documents) if _matches(s, action, resource, context)]
    if any(s["Effect"] == "Deny" for s in found):
        return False
    return any(s["Effect"] == "Allow" for s in found)


def allowed_actions(documents: Sequence[Mapping]) -> set[str]:
    """Every action an Allow statement names (NotAction is refused by the rules)."""
    return {
        a for s in statements(documents) if s["Effect"] == "Allow" for a in _list(s.get("Action"))
    }
