"""The configuration reference in docs/configuration.md, generated from the schema.

Each key's description is its field's docstring in ``config/schema/`` (the models set
``use_attribute_docstrings``), so a key is documented where it is declared and the reference
cannot drift from the schema: a test regenerates it and fails when the page is stale.

    venv/bin/python -m tools.config_reference           # rewrite the reference section
    venv/bin/python -m tools.config_reference --check   # exit 1 when it is stale
"""

from __future__ import annotations

import argparse
import dataclasses
import inspect
import sys
import types
import typing
from dataclasses import dataclass
from pathlib import Path

import annotated_types
import yaml
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from config.schema import StackConfig

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "configuration.md"
COMMAND = "venv/bin/python -m tools.config_reference"
BEGIN = f"<!-- BEGIN generated reference: edit config/schema/, then run `{COMMAND}` -->"
END = "<!-- END generated reference -->"

# Required by the schema, but filled in by config.loader.load_stack_config when a stack leaves
# them out (Pulumi.yaml declares them with "" as the default).
DERIVED_DEFAULTS = {
    "environment": "the stack name",
    "clusterName": "`eks-<environment>`",
    "kubernetesVersion": "the newest in EKS standard support",
}
SCALARS = {str: "string", bool: "boolean", int: "integer", float: "number"}


@dataclass(frozen=True)
class Row:
    key: str
    type: str
    default: str
    allowed: str
    description: str


def _strip_optional(annotation: typing.Any) -> typing.Any:
    """The type a value of the key has: ``None`` and ``Annotated`` constraints stripped."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return _strip_optional(args[0])
    if typing.get_origin(annotation) is typing.Annotated:
        return _strip_optional(typing.get_args(annotation)[0])
    return annotation


def _constraints(annotation: typing.Any) -> list[typing.Any]:
    """Constraints inside ``Annotated`` (an optional key keeps them inside its union)."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return [c for arg in typing.get_args(annotation) for c in _constraints(arg)]
    if typing.get_origin(annotation) is typing.Annotated:
        inner, *extra = typing.get_args(annotation)
        found = [c for item in extra for c in getattr(item, "metadata", [item])]
        return found + _constraints(inner)
    return []


def is_model(annotation: typing.Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def members(annotation: typing.Any) -> list[type[BaseModel]]:
    """The models a value may be: one, or each member of a tagged union (a class entry is one
    backend's model, chosen by its ``backing``)."""
    if is_model(annotation):
        return [annotation]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = typing.get_args(annotation)
        if all(is_model(arg) for arg in args):
            return list(args)
    return []


def type_name(annotation: typing.Any) -> str:
    """How a stack file writes the value: ``string``, ``integer[]``, ``object``, ``map``."""
    annotation = _strip_optional(annotation)
    origin = typing.get_origin(annotation)
    if origin is typing.Literal:
        return SCALARS[type(typing.get_args(annotation)[0])]
    if origin is list:
        return f"{type_name(typing.get_args(annotation)[0])}[]"
    if origin is dict:
        return "map"
    if members(annotation):
        return "object"
    return SCALARS.get(annotation, str(annotation))


def list_item(annotation: typing.Any) -> typing.Any:
    annotation = _strip_optional(annotation)
    return (
        _strip_optional(typing.get_args(annotation)[0])
        if typing.get_origin(annotation) is list
        else None
    )


def _literal(value: typing.Any) -> str:
    if isinstance(value, bool):
        return "`true`" if value else "`false`"
    if isinstance(value, str):
        return f"`{value}`" if value else '`""`'
    return f"`{value}`"


def allowed_values(field: FieldInfo) -> str:
    """The values the schema admits, where it says more than the type: choices, ranges, sizes."""
    annotation = _strip_optional(field.annotation)
    item = list_item(annotation)
    if typing.get_origin(item) is typing.Literal:  # a list of choices: each entry one of them
        annotation = item
    if typing.get_origin(annotation) is typing.Literal:
        return ", ".join(_literal(v) for v in typing.get_args(annotation))
    found = [*field.metadata, *_constraints(field.annotation)]
    unit = " characters" if annotation is str else " entries"
    size = _bounds(
        next((c.min_length for c in found if isinstance(c, annotated_types.MinLen)), None),
        next((c.max_length for c in found if isinstance(c, annotated_types.MaxLen)), None),
        unit,
    )
    value = _bounds(
        next((c.ge for c in found if isinstance(c, annotated_types.Ge)), None),
        next((c.le for c in found if isinstance(c, annotated_types.Le)), None),
    )
    return "; ".join(part for part in (value, size) if part)


def _bounds(low: object, high: object, unit: str = "") -> str:
    if low is not None and high is not None:
        return f"{low} to {high}{unit}"
    if low is not None:
        return f"at least {low}{' entry' if (low, unit) == (1, ' entries') else unit}"
    if high is not None:
        return f"at most {high}{unit}"
    return ""


def default_text(key: str, field: FieldInfo) -> str:
    if key in DERIVED_DEFAULTS:
        return DERIVED_DEFAULTS[key]
    if field.is_required():
        return "required"
    value = field.get_default(call_default_factory=True)
    if value is None:
        return "unset"
    if isinstance(value, BaseModel):
        value = value.model_dump(by_alias=True, exclude_defaults=True)
        if not value:
            return "its keys' defaults"
    if isinstance(value, list) and value and isinstance(value[0], BaseModel):
        value = [v.model_dump(by_alias=True, exclude_defaults=True) for v in value]
    if isinstance(value, (dict, list)):
        flow = yaml.safe_dump(value, default_flow_style=True, sort_keys=False).strip()
        return f"`{flow}`"
    return _literal(value)


def _one_line(text: str | None) -> str:
    return " ".join((text or "").split())


def rows(
    model: type[BaseModel], prefix: str = "", seen: dict[type, str] | None = None
) -> list[Row]:
    """Every key of ``model``, depth first in declaration order, so an object's keys stay
    together. A model that extends one documented elsewhere (a retired class is a catalog entry
    plus its name) lists only the fields it declares itself."""
    seen = {} if seen is None else seen
    own = {
        name
        for base in model.__mro__
        if base is model or base not in seen
        for name in inspect.get_annotations(base)
    }
    seen.setdefault(model, prefix)
    found = []
    for name, field in model.model_fields.items():
        if name not in own:
            continue
        inner = _strip_optional(field.annotation)
        item = list_item(inner)
        nested = members(item) or members(inner)
        key = f"{prefix}{field.alias or name}" + ("[]" if members(item) else "")
        found.append(
            Row(
                key=key,
                type=type_name(field.annotation),
                default=default_text(key, field),
                allowed=allowed_values(field),
                description=_one_line(field.description),
            )
        )
        found += _merged([row for m in nested for row in rows(m, f"{key}.", seen)])
        if len(nested) > 1:  # a union's parts are documented: a model extending them adds its own
            seen.update({base: key for m in nested for base in m.__mro__[1:] if base not in seen})
    return found


def _merged(found: list[Row]) -> list[Row]:
    """One row per key: a key every member of a union has (its tag, ``backing``) once, with
    the values of all of them."""
    merged: dict[str, Row] = {}
    for row in found:
        first = merged.get(row.key)
        if first is None:
            merged[row.key] = row
        elif row.allowed and row.allowed != first.allowed:
            merged[row.key] = dataclasses.replace(first, allowed=f"{first.allowed}, {row.allowed}")
    return list(merged.values())


def _cell(text: str) -> str:
    return text.replace("|", "\\|") or "-"


def table(found: list[Row]) -> list[str]:
    lines = ["| Key | Type | Default | Allowed | Meaning |", "|---|---|---|---|---|"]
    for row in found:
        cells = (f"`{row.key}`", row.type, row.default, row.allowed, row.description)
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return lines


def reference(model: type[BaseModel] = StackConfig) -> str:
    """The generated section: the top-level settings, then one table per object key."""
    found = rows(model)
    groups: dict[str, list[Row]] = {}
    for row in found:
        top = row.key.split(".", 1)[0]
        groups.setdefault(top, []).append(row)
    simple = [group[0] for group in groups.values() if len(group) == 1]
    nested = [top for top, group in groups.items() if len(group) > 1]
    contents = ["[Top-level settings](#top-level-settings)"] + [
        f"[`{top}`](#{top.lower().replace('[]', '')})" for top in nested
    ]
    lines = ["Sections: " + " · ".join(contents) + ".", "", "### Top-level settings", ""]
    lines += table(simple)
    for top in nested:
        lines += ["", f"### `{top}`", "", *table(groups[top])]
    # A blank line ends the last table before the end marker (an HTML block).
    return "\n".join(lines) + "\n\n"


def render(page: str, model: type[BaseModel] = StackConfig) -> str:
    """``page`` with the text between the markers replaced by the generated reference."""
    head, found, rest = page.partition(BEGIN + "\n")
    if not found or END not in rest:
        raise ValueError(f"the page needs the markers {BEGIN!r} and {END!r}")
    tail = rest[rest.index(END) :]
    return f"{head}{BEGIN}\n{reference(model)}{tail}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when the page is stale")
    args = parser.parse_args(argv)
    current = PAGE.read_text()
    fresh = render(current)
    if current == fresh:
        return 0
    if args.check:
        print(f"{PAGE.relative_to(ROOT)} is stale: run `{COMMAND}`", file=sys.stderr)
        return 1
    PAGE.write_text(fresh)
    print(f"wrote {PAGE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
