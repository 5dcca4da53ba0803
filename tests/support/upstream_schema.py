"""Judge rendered objects and chart values by the upstream files in tests/upstream/.

Custom resources: a CRD version's ``openAPIV3Schema`` becomes a strict JSON schema, as the API
server applies it with strict field validation (kubectl's default, ``--validate=strict``): an
object refuses fields its schema does not declare unless it has
``x-kubernetes-preserve-unknown-fields: true``; ``x-kubernetes-int-or-string`` takes an integer
or a string; ``nullable`` takes null; ``metadata`` is left to the API server (it checks names
and labels itself) but must be an object. OpenAPI v3.0 schemas use draft 4's boolean
``exclusiveMinimum``, so they are checked with the draft 4 validator. CEL rules
(``x-kubernetes-validations``) are evaluated with cel-python where they judge the object alone;
transition rules (those that read ``oldSelf``) apply only to updates and are not. Not checked
here: ``format`` and list-map key uniqueness.

Chart values: the values the program passes, merged over the chart's ``values.yaml``, against
the chart's ``values.schema.json`` where it has one. Chart schemas mostly leave objects open, so
every key path the program sets must also exist in ``values.yaml`` (or the schema): for a chart
without a schema that is the nearest judge available. An empty map in ``values.yaml``
(``resources.requests: {}``) is a free-form map.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import celpy
import jsonschema
import yaml

from tools import refresh_upstream
from tools.offline.stackfiles import Loader

UPSTREAM = Path(__file__).resolve().parents[1] / "upstream"
# Keys whose values are schemas the strict rules recurse into. anyOf/allOf/oneOf/not are kept as
# upstream wrote them: a structural schema may only add value checks there, never fields.
_STRUCTURAL = ("properties", "items", "additionalProperties")


class UpstreamError(Exception):
    """A manifest names a kind or version the vendored CRDs do not serve."""


def sources() -> refresh_upstream.Manifest:
    return refresh_upstream.read((UPSTREAM / "SOURCES.yaml").read_text(encoding="utf-8"))


@cache
def load(path: str) -> Any:
    """A vendored file, parsed (YAML or JSON); the first document of a YAML file."""
    text = (UPSTREAM / path).read_text(encoding="utf-8")
    if path.endswith(".json"):
        return json.loads(text)
    return next(d for d in yaml.load_all(text, Loader=Loader) if d is not None)


# -- custom resources --------------------------------------------------------------------------


def strict(node: dict) -> dict:
    """An OpenAPI v3 schema node of a CRD as a JSON schema that refuses undeclared fields."""
    out = {
        k: v
        for k, v in node.items()
        if k not in _STRUCTURAL and k != "nullable" and not k.startswith("x-kubernetes-")
    }
    if "pattern" in node:
        out["pattern"] = go_pattern(node["pattern"])
    if node.get("x-kubernetes-int-or-string"):
        out["type"] = ["integer", "string"]
    if "properties" in node:
        out["properties"] = {k: strict(v) for k, v in node["properties"].items()}
    if isinstance(node.get("items"), dict):
        out["items"] = strict(node["items"])
    if isinstance(node.get("additionalProperties"), dict):
        out["additionalProperties"] = strict(node["additionalProperties"])
    elif node.get("type") == "object" and not node.get("x-kubernetes-preserve-unknown-fields"):
        if node.get("x-kubernetes-embedded-resource"):
            embedded = {"apiVersion": {"type": "string"}, "kind": {"type": "string"}}
            out["properties"] = {**embedded, **out.get("properties", {})}
            out["properties"]["metadata"] = {"type": "object"}
        out["additionalProperties"] = False
    if node.get("x-kubernetes-list-type") == "set":
        out["uniqueItems"] = True
    if node.get("nullable"):
        return {"anyOf": [{"type": "null"}, out]}
    return out


def go_pattern(pattern: str) -> str:
    """A Go (RE2) pattern as Python reads it. RE2 takes flags after a leading ``^``, as in
    prometheus-operator/prometheus-operator@v0.93.0's ``^(?i)(abort|warn)?$``, and applies them
    to the rest of the pattern; Python 3.11 takes global flags only first."""
    match = re.match(r"\^(\(\?[a-zA-Z]+\))", pattern)
    return match.group(1) + "^" + pattern[match.end() :] if match else pattern


@dataclass(frozen=True)
class CrdVersion:
    file: str
    group: str
    kind: str
    name: str
    scope: str
    served: bool
    deprecated: bool
    schema: dict

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.name}"


def crd_versions(path: str) -> list[CrdVersion]:
    crd = load(path)
    spec = crd["spec"]
    return [
        CrdVersion(
            file=path,
            group=spec["group"],
            kind=spec["names"]["kind"],
            name=version["name"],
            scope=spec["scope"],
            served=bool(version.get("served")),
            deprecated=bool(version.get("deprecated")),
            schema=version["schema"]["openAPIV3Schema"],
        )
        for version in spec["versions"]
    ]


@cache
def catalogue() -> dict[tuple[str, str], list[CrdVersion]]:
    """Every vendored CRD's versions, by (group, kind)."""
    found: dict[tuple[str, str], list[CrdVersion]] = {}
    for entry in sources().files:
        path = entry["path"]
        if path.endswith(".yaml") and load(path).get("kind") == "CustomResourceDefinition":
            versions = crd_versions(path)
            found[(versions[0].group, versions[0].kind)] = versions
    return found


def crd_version(api_version: str, kind: str) -> CrdVersion:
    group, _, version = api_version.rpartition("/")
    versions = catalogue().get((group, kind))
    if versions is None:
        raise UpstreamError(f"no vendored CRD for {kind} in group {group!r}")
    served = [v.name for v in versions if v.served]
    match = next((v for v in versions if v.name == version), None)
    if match is None or not match.served:
        raise UpstreamError(f"{api_version} {kind} is not served (served: {', '.join(served)})")
    return match


@cache
def _validator(api_version: str, kind: str) -> jsonschema.Draft4Validator:
    version = crd_version(api_version, kind)
    schema = strict(version.schema)
    schema["properties"] = {
        **schema.get("properties", {}),
        "apiVersion": {"enum": [api_version]},
        "kind": {"enum": [kind]},
        "metadata": {"type": "object"},
    }
    schema["required"] = sorted({*schema.get("required", []), "apiVersion", "kind", "metadata"})
    return jsonschema.Draft4Validator(schema)


def manifest_problems(manifest: dict) -> list[str]:
    """Why the API server would refuse ``manifest`` by its vendored CRD; empty if it would not."""
    api_version, kind = manifest.get("apiVersion", ""), manifest.get("kind", "")
    meta = manifest.get("metadata") if isinstance(manifest.get("metadata"), dict) else {}
    name = f"{kind} {meta.get('namespace', '') + '/' if meta.get('namespace') else ''}"
    name += str(meta.get("name", "?"))
    try:
        validator = _validator(api_version, kind)
    except UpstreamError as exc:
        return [f"{name}: {exc}"]
    problems = [f"{name}: {_where(e)}: {e.message}" for e in _errors(validator, manifest)]
    if not problems:
        schema = crd_version(api_version, kind).schema
        problems = [
            f"{name}: {where}: {message}" for where, message in cel_problems(schema, manifest)
        ]
    if crd_version(api_version, kind).scope == "Cluster" and "namespace" in meta:
        problems.append(f"{name}: metadata.namespace: {kind} is cluster-scoped")
    return problems


# -- CEL rules -------------------------------------------------------------------------------

CEL = celpy.Environment()

# Property names that are CEL reserved words are escaped as __name__, and so are some characters
# (kubernetes/kubernetes@v1.34.0: staging/src/k8s.io/apiserver/pkg/cel/escaping.go).
CEL_RESERVED = frozenset(
    {
        "true",
        "false",
        "null",
        "in",
        "as",
        "break",
        "const",
        "continue",
        "else",
        "for",
        "function",
        "if",
        "import",
        "let",
        "loop",
        "package",
        "namespace",
        "return",
        "var",
        "void",
        "while",
    }
)


def _cel_escaped(value: Any) -> Any:
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            name = key.replace("__", "__underscores__")
            for char, word in ((".", "dot"), ("-", "dash"), ("/", "slash")):
                name = name.replace(char, f"__{word}__")
            out[f"__{name}__" if name in CEL_RESERVED else name] = _cel_escaped(item)
        return out
    if isinstance(value, list):
        return [_cel_escaped(item) for item in value]
    return value


@cache
def _cel_program(rule: str):
    return CEL.program(CEL.compile(rule))


def cel_holds(expression: str, variables: dict[str, Any]) -> bool:
    """Evaluate a boolean CEL expression over JSON ``variables``; anything but a boolean (an
    evaluation error included) fails loudly: the expression or the evaluator is wrong."""
    result = _cel_program(expression).evaluate(
        {name: celpy.json_to_cel(value) for name, value in variables.items()}
    )
    assert isinstance(result, celpy.celtypes.BoolType), (expression, result)
    return bool(result)


def cel_problems(schema: dict, value: Any, path: str = "") -> list[tuple[str, str]]:
    """(where, message) of each ``x-kubernetes-validations`` rule ``value`` breaks."""
    found = []
    for validation in schema.get("x-kubernetes-validations", []):
        rule = validation["rule"]
        if "oldSelf" in rule:
            continue
        if not cel_holds(rule, {"self": _cel_escaped(value)}):
            found.append((path or "(root)", validation.get("message", f"failed rule: {rule}")))
    if isinstance(value, dict):
        for key, item in value.items():
            child = (schema.get("properties") or {}).get(key)
            if child is None and isinstance(schema.get("additionalProperties"), dict):
                child = schema["additionalProperties"]
            if child is not None:
                found += cel_problems(child, item, f"{path}.{key}" if path else key)
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for i, item in enumerate(value):
            found += cel_problems(schema["items"], item, f"{path}[{i}]")
    return found


# -- chart values ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Chart:
    """A chart's vendored defaults and, where upstream has one, its values schema."""

    defaults: dict
    schema: dict | None


def chart(helm_chart: str) -> Chart:
    manifest = sources()
    pin = next((p for p in manifest.pins if p.get("helm_chart") == helm_chart), None)
    if pin is None:
        pin = manifest.pin(helm_chart)
    paths = {Path(f["path"]).name: f["path"] for f in manifest.files_of(pin["name"])}
    schema = load(paths["values.schema.json"]) if "values.schema.json" in paths else None
    return Chart(load(paths["values.yaml"]), schema)


def merged(defaults: Any, values: Any) -> Any:
    """Helm's coalescing of user values over chart defaults (maps merge, the rest replaces)."""
    if isinstance(defaults, dict) and isinstance(values, dict):
        out = copy.deepcopy(defaults)
        for key, value in values.items():
            out[key] = merged(defaults.get(key), value)
        return out
    return copy.deepcopy(values)


def unknown_keys(values: dict, defaults: Any, schema: dict | None, path: str = "") -> list[str]:
    """Key paths of ``values`` neither in ``defaults`` nor in the schema's properties, and maps
    set where the chart's default is not one (or the reverse)."""
    problems = []
    declared = (schema or {}).get("properties", {})
    for key, value in values.items():
        where = f"{path}.{key}" if path else key
        default = defaults.get(key) if isinstance(defaults, dict) else None
        if not (isinstance(defaults, dict) and key in defaults) and key not in declared:
            problems.append(f"{where}: no such key in the chart's values")
            continue
        if isinstance(value, dict) != isinstance(default, dict) and default is not None:
            problems.append(f"{where}: the chart's default is {type(default).__name__}")
        elif isinstance(value, dict) and (default or declared.get(key, {}).get("properties")):
            problems.extend(unknown_keys(value, default or {}, declared.get(key), where))
    return problems


def values_problems(helm_chart: str, values: dict) -> list[str]:
    """Why ``values`` do not fit the vendored chart ``helm_chart``; empty when they do."""
    judge = chart(helm_chart)
    problems = unknown_keys(values, judge.defaults, judge.schema)
    if judge.schema is not None:
        validator_class = jsonschema.validators.validator_for(judge.schema)
        validator = validator_class(judge.schema)
        full = merged(judge.defaults, values)
        problems += [f"{_where(e)}: {e.message}" for e in _errors(validator, full)]
    return [f"{helm_chart}: {p}" for p in problems]


def _errors(validator: jsonschema.protocols.Validator, instance: Any) -> list:
    return sorted(validator.iter_errors(instance), key=lambda e: list(map(str, e.absolute_path)))


def _where(error: jsonschema.ValidationError) -> str:
    return ".".join(str(p) for p in error.absolute_path) or "(root)"
