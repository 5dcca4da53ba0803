"""Review artefacts (rule R8): what a pull request should show before anything applies.

- ``render``: every Kubernetes object as YAML (one file per object) and every IAM, KMS and EFS
  policy document as JSON, in stable order and formatting, so a change reads as a plain diff;
- the change between two plans, and its verdict, is ``tools.transitions``.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import yaml

from design.resource_types import TYPES
from tools.offline.plan import Plan

# The types that carry a JSON policy document, and where: the per-type facts table says.
POLICY_DOCUMENTS = {t: facts.document for t, facts in TYPES.items() if facts.document}


class _Dumper(yaml.SafeDumper):
    """Block style, keys sorted, long strings (scripts, documents) kept as literal blocks."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def to_yaml(obj: Any) -> str:
    return yaml.dump(obj, Dumper=_Dumper, sort_keys=True, default_flow_style=False, width=100)


def _kubernetes_path(resource_type: str, inputs: dict) -> Path:
    kind = resource_type.rsplit(":", 1)[-1]
    meta = inputs.get("metadata") or {}
    namespace = meta.get("namespace") or "_cluster"
    name = meta.get("name") or inputs.get("name")
    return Path("kubernetes") / namespace / f"{kind}-{name}.yaml"


def render(plan: Plan, directory: Path) -> list[Path]:
    """Write the artefacts under ``directory`` (its kubernetes/ and iam/ are replaced)."""
    for sub in ("kubernetes", "iam"):
        shutil.rmtree(directory / sub, ignore_errors=True)
    written: list[Path] = []

    def write(relative: Path, text: str) -> None:
        path = directory / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        written.append(relative)

    for resource in sorted(plan, key=lambda r: r.urn):
        if (
            resource.type.startswith("kubernetes:")
            and resource.type != "pulumi:providers:kubernetes"
        ):
            inputs = dict(resource.inputs)
            if resource.type == "kubernetes:helm.sh/v3:Release":
                path = (
                    Path("kubernetes")
                    / str(inputs.get("namespace"))
                    / f"HelmRelease-{inputs['name']}.yaml"
                )
            else:
                path = _kubernetes_path(resource.type, inputs)
            write(path, to_yaml(inputs))
        elif resource.type in POLICY_DOCUMENTS:
            key, label = POLICY_DOCUMENTS[resource.type]
            document = json.loads(resource.inputs[key])
            write(
                Path("iam") / f"{resource.name}.{label}.json",
                json.dumps(document, indent=2, sort_keys=True) + "\n",
            )
    return written
