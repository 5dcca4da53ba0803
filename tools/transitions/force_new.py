"""Where each replacing input of ``semantics.FORCE_NEW`` comes from.

``force_new.json`` holds, per resource type, either the provider's own schema (the
``Schema: map[string]*schema.Schema{...}`` block of its Terraform resource, verbatim at a
commit), from which the replacing inputs are read (``ForceNew: true``), or a cited row per field
naming the file that says so. tests/tools/transitions/test_force_new.py ties every FORCE_NEW
field to one of them.

    python -m tools.transitions.force_new             # FORCE_NEW against the stored schemas
    python -m tools.transitions.force_new --refresh   # download the schemas again at their refs
    python -m tools.transitions.force_new --refresh --ref COMMIT   # ... at another commit

A refresh downloads everything before it writes anything.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import urllib.request
from collections.abc import Callable
from pathlib import Path

from tools.transitions.semantics import FORCE_NEW

DATA = Path(__file__).with_name("force_new.json")
RAW = "https://raw.githubusercontent.com/{repo}/{ref}/{path}"
SOURCE = re.compile(r"^(?P<repo>[\w.-]+/[\w.-]+)@(?P<ref>[^:]+):(?P<path>.+)$")
SCHEMA_START = "\t\tSchema: map[string]*schema.Schema{"
SCHEMA_END = "\t\t},"
ATTRIBUTE = re.compile(r'^\t{3}(?:"(?P<quoted>[a-z0-9_]+)"|names\.Attr(?P<named>\w+)): \{$')
FORCE_NEW_LINE = re.compile(r"^\t{4}ForceNew:\s+true,$")

Fetcher = Callable[[str], bytes]


def snake(name: str) -> str:
    """``names.AttrSubnetIDs`` -> ``subnet_ids`` (the provider's ``names`` constants)."""
    name = name.replace("IDs", "Ids")
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name).lower()


def camel(attribute: str) -> str:
    """A Terraform attribute as pulumi-aws names the input: ``subnet_ids`` -> ``subnetIds``."""
    head, *rest = attribute.split("_")
    return head + "".join(part.capitalize() for part in rest)


def schema_block(go_source: str) -> str:
    """The resource's top-level ``Schema`` map, verbatim."""
    lines = go_source.splitlines()
    start = lines.index(SCHEMA_START)
    end = lines.index(SCHEMA_END, start)
    return "\n".join(lines[start : end + 1])


def replacing(block: str) -> dict[str, bool]:
    """Each top-level attribute of a schema block and whether changing it forces a new
    resource (its own ``ForceNew``; nested ones belong to their block)."""
    found: dict[str, bool] = {}
    current = None
    for line in block.splitlines():
        if match := ATTRIBUTE.match(line):
            current = match["quoted"] or snake(match["named"])
            found[current] = False
        elif current and line == "\t\t\t},":
            current = None
        elif current and FORCE_NEW_LINE.match(line):
            found[current] = True
    return found


def load(path: Path = DATA) -> dict:
    return json.loads(path.read_text())


def from_schemas(data: dict) -> dict[str, set[str]]:
    """Replacing inputs (pulumi names) per type, read from the stored schemas."""
    return {
        resource_type: {camel(a) for a, forced in replacing(entry["schema"]).items() if forced}
        for resource_type, entry in data["schemas"].items()
    }


def download(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=60) as response:
        return response.read()


def refresh(data: dict, fetch: Fetcher = download, ref: str | None = None) -> dict:
    result = json.loads(json.dumps(data))
    for entry in result["schemas"].values():
        source = SOURCE.match(entry["source"])
        assert source, entry["source"]
        at = ref or source["ref"]
        text = fetch(RAW.format(repo=source["repo"], ref=at, path=source["path"])).decode()
        entry["schema"] = schema_block(text)
        entry["source"] = f"{source['repo']}@{at}:{source['path']}"
    return result


def problems(data: dict, force_new: dict[str, frozenset[str]]) -> list[str]:
    """How ``force_new`` departs from the stored schemas and cited rows."""
    found = []
    read = from_schemas(data)
    for resource_type, fields in read.items():
        ours = {f for f in force_new.get(resource_type, ()) if "." not in f}
        if ours != fields:
            found.append(
                f"{resource_type}: FORCE_NEW {sorted(ours)}, the provider's schema {sorted(fields)}"
            )
    cited = {(row["type"], row["field"]) for row in data["cited"]}
    for resource_type, fields in force_new.items():
        for field in fields:
            covered = (resource_type in read and "." not in field) or (
                (resource_type, field) in cited
            )
            if not covered:
                found.append(f"{resource_type} {field}: neither in a stored schema nor cited")
    for resource_type, field in sorted(cited):
        if field not in force_new.get(resource_type, ()):
            found.append(f"{resource_type} {field}: cited but not in FORCE_NEW (stale row)")
    return found


def main(argv: list[str] | None = None, fetch: Fetcher = download, path: Path = DATA) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.transitions.force_new")
    parser.add_argument("--refresh", action="store_true", help="download the schemas again")
    parser.add_argument("--ref", help="with --refresh: the commit or tag to read them at")
    args = parser.parse_args(argv)
    data = load(path)
    if args.refresh:
        data = refresh(data, fetch, args.ref)
        path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    found = problems(data, FORCE_NEW)
    print("\n".join(found) or "FORCE_NEW matches the providers' schemas and cited rows.")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
