"""pydantic's error messages, made to say what to write instead.

Three classes of mistake get their own words: an unknown nested key (the closest key of that
very mapping; a snake_case spelling of a camelCase key), a value of the wrong type (the value
seen, and for YAML's unquoted numbers the advice to quote: ``1.30`` is read as the number 1.3),
and a value that misses its pattern (the value seen).
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from typing import Any

from pydantic import BaseModel
from pydantic.alias_generators import to_camel
from pydantic_core import ErrorDetails

from design.storage.registry import REGISTRY

NUMBER_TEXT = re.compile(r"^-?\d+(\.\d+)?$")


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    """The models a field's annotation can hold (through Optional, list, Annotated, ...)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    origin = typing.get_origin(annotation)
    if origin is None:
        return []
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        return _models_in(args[0])
    if origin in (typing.Union, types.UnionType, list, tuple, dict):
        return [model for arg in args for model in _models_in(arg)]
    return []


def _walk(
    root: type[BaseModel], loc: tuple[int | str, ...]
) -> tuple[list[type[BaseModel]], tuple[int | str, ...]]:
    """The models that may hold the mapping at ``loc``, and ``loc`` as a key path: without the
    tags pydantic puts in the location of a tagged union's member (``classes[0].gp3.iops``)."""
    current, path = [root], []
    for part in loc:
        if isinstance(part, int):
            path.append(part)
            continue
        fields = [
            field
            for m in current
            for name, field in m.model_fields.items()
            if part in (field.alias or name, name)
        ]
        tagged = [m for m in current if part in _tags(m)] if len(current) > 1 else []
        if not fields and tagged:  # a union's tag (``backing: gp3``), not a key
            current = tagged
            continue
        path.append(part)
        current = [model for field in fields for model in _models_in(field.annotation)]
    return current, tuple(path)


def _tags(model: type[BaseModel]) -> set[Any]:
    return {
        value
        for field in model.model_fields.values()
        if typing.get_origin(field.annotation) is typing.Literal
        for value in typing.get_args(field.annotation)
    }


def key_path(root: type[BaseModel], loc: tuple[int | str, ...]) -> tuple[int | str, ...]:
    """``loc`` without a tagged union's tags: the keys as a stack file writes them."""
    return _walk(root, loc)[1]


def keys_at(root: type[BaseModel], loc: tuple[int | str, ...]) -> list[str]:
    """The keys a stack file may write in the mapping at ``loc`` (its parent's fields)."""
    current = _walk(root, loc)[0]
    return sorted({field.alias or name for m in current for name, field in m.model_fields.items()})


def _other_backend(root: type[BaseModel], loc: tuple[int | str, ...]) -> str | None:
    """A class entry's key that only another backend's classes take: which ones."""
    key = loc[-1]
    if key in keys_at(root, loc[:-1]):
        return None
    takers = [
        backend.label
        for backend in REGISTRY
        if backend.class_fields is not None
        and any(key == (f.alias or n) for n, f in backend.class_fields.model_fields.items())
    ]
    path = key_path(root, loc)
    in_class = len(path) >= 3 and path[-3] in ("classes", "retiredClasses")
    return f"only {' and '.join(takers)} classes take this setting" if takers and in_class else None


def _unknown_key(root: type[BaseModel], loc: tuple[int | str, ...]) -> str:
    key = str(loc[-1])
    known = keys_at(root, loc[:-1])
    if to_camel(key) in known and to_camel(key) != key:
        return f"unknown key; stack files write it in camelCase: '{to_camel(key)}'"
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    hint = f"did you mean '{close[0]}'?" if close else f"this mapping takes {', '.join(known)}"
    return f"unknown key; {hint}" if known else "unknown key"


def _seen(value: Any) -> str:
    if isinstance(value, dict | list):
        return f"a {'mapping' if isinstance(value, dict) else 'list'}"
    return repr(value)


def refine(root: type[BaseModel], err: ErrorDetails) -> str:
    """The message for one validation error of ``root``."""
    kind = err["type"]
    if kind == "value_error":
        # A validator's own ValueError reads better without pydantic's "Value error, " prefix.
        return str(err["ctx"]["error"])
    if kind == "extra_forbidden":
        return _other_backend(root, err["loc"]) or _unknown_key(root, err["loc"])
    if kind == "union_tag_invalid":  # as a Literal's own message (the tag is one key)
        *tags, last = err["ctx"]["expected_tags"].split(", ")
        expected = f"{', '.join(tags)} or {last}" if tags else last
        value = err.get("input")
        tag = value.get(err["ctx"]["discriminator"].strip("'")) if isinstance(value, dict) else None
        return f"Input should be {expected}; got {_seen(err['ctx']['tag'] if tag is None else tag)}"
    if kind == "union_tag_not_found":
        return "Field required"
    return _value_message(err)


def _value_message(err: ErrorDetails) -> str:
    kind, value = err["type"], err.get("input")
    message = err["msg"]
    if kind == "string_type" and isinstance(value, int | float) and not isinstance(value, bool):
        message = f"got the number {value!r}, not text: quote it in the stack file ('{value}')"
    elif kind == "string_pattern_mismatch":
        message = f"{err['msg']}; got {_seen(value)}"
        if isinstance(value, str) and NUMBER_TEXT.match(value):
            message += (
                " (an unquoted YAML number loses its trailing zeros, so 1.30 is read as 1.3: "
                "quote it)"
            )
    elif kind in ("model_type", "model_attributes_type", "dict_type"):
        message = f"should be a mapping (indented keys below it); got {_seen(value)}"
    elif kind.endswith("_type") or kind in ("literal_error", "bool_parsing", "int_parsing"):
        message = f"{err['msg']}; got {_seen(value)}"
    return message
