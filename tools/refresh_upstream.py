"""Refresh the upstream files the tests judge the program by (tests/upstream/).

``tests/upstream/SOURCES.yaml`` lists pins (a project pin and the upstream tag it maps to) and
files (each byte-for-byte the upstream file at ``owner/repo@tag:path``, with its sha256).
Moving a pin rewrites every file of that pin from the new tag and the manifest with it:

    python -m tools.refresh_upstream --set external-secrets=0.21.0
    python -m tools.refresh_upstream --all      # fetch every file again at its recorded tag

Standard library only, so it runs before any install. The manifest is written in a fixed
subset of YAML (comments above the first key, then block lists of flat maps whose values are
JSON strings) that this module reads and writes; the tests check PyYAML reads the same.
Everything is downloaded before anything is written: a failed download changes nothing.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
UPSTREAM = ROOT / "tests" / "upstream"
MANIFEST = UPSTREAM / "SOURCES.yaml"
RAW = "https://raw.githubusercontent.com/{repo}/{tag}/{path}"
PIN_KEYS = ("name", "version", "repo", "tag", "helm_chart", "eks_addon", "app_version", "note")
FILE_KEYS = ("path", "pin", "source", "sha256", "note")
# An EKS add-on build (v8.3.0-eksbuild.1) ships the upstream release without the suffix.
EKS_BUILD = re.compile(r"-eksbuild\.\d+$")
APP_VERSION = re.compile(r'^appVersion:\s*"?([^"\s]+)"?\s*$', re.MULTILINE)

Fetcher = Callable[[str], bytes]


class ManifestError(Exception):
    """SOURCES.yaml is not in the form this module reads, or names something unknown."""


@dataclass
class Source:
    """A parsed ``owner/repo@tag:path``."""

    repo: str
    tag: str
    path: str

    @classmethod
    def parse(cls, text: str) -> Source:
        match = re.fullmatch(r"([\w.-]+/[\w.-]+)@([^:]+):(.+)", text)
        if match is None:
            raise ManifestError(f"source {text!r} is not owner/repo@tag:path")
        return cls(*match.groups())

    def __str__(self) -> str:
        return f"{self.repo}@{self.tag}:{self.path}"

    @property
    def url(self) -> str:
        return RAW.format(repo=self.repo, tag=self.tag, path=self.path)


@dataclass
class Manifest:
    header: list[str]
    pins: list[dict[str, str]]
    files: list[dict[str, str]] = field(default_factory=list)

    def pin(self, name: str) -> dict[str, str]:
        for pin in self.pins:
            if pin["name"] == name:
                return pin
        raise ManifestError(f"no pin {name!r} in SOURCES.yaml (pins: {self.pin_names()})")

    def pin_names(self) -> list[str]:
        return [p["name"] for p in self.pins]

    def files_of(self, pin: str) -> list[dict[str, str]]:
        return [f for f in self.files if f["pin"] == pin]


def tag_for(pin: dict[str, str], version: str) -> str:
    return pin["tag"].format(version=version, upstream=EKS_BUILD.sub("", version))


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# -- the manifest's YAML subset ----------------------------------------------------------------


def read(text: str) -> Manifest:
    header: list[str] = []
    sections: dict[str, list[dict[str, str]]] = {"pins": [], "files": []}
    current: list[dict[str, str]] | None = None
    for number, line in enumerate(text.splitlines(), 1):
        if current is None and (line.startswith("#") or not line.strip()):
            header.append(line)
            continue
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if re.fullmatch(r"(pins|files):", line):
            current = sections[line[:-1]]
            continue
        match = re.fullmatch(r"  (- |  )(\w+): (.+)", line)
        if current is None or match is None:
            raise ManifestError(f"SOURCES.yaml line {number} is not in the manifest's form")
        start, key, raw = match.groups()
        if start == "- ":
            current.append({})
        elif not current:
            raise ManifestError(f"SOURCES.yaml line {number}: a key before any '- '")
        current[-1][key] = _scalar(raw, number)
    return Manifest(header, sections["pins"], sections["files"])


def _scalar(raw: str, number: int) -> str:
    if raw.startswith('"'):
        try:
            value = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ManifestError(f"SOURCES.yaml line {number}: {exc}") from exc
        if isinstance(value, str):
            return value
    raise ManifestError(f"SOURCES.yaml line {number}: values are double-quoted strings")


def write(manifest: Manifest) -> str:
    lines = list(manifest.header)
    for section, keys in (("pins", PIN_KEYS), ("files", FILE_KEYS)):
        lines.append(f"{section}:")
        for entry in getattr(manifest, section):
            unknown = set(entry) - set(keys)
            if unknown:
                raise ManifestError(f"unknown keys {sorted(unknown)} in {section} entry {entry}")
            present = [k for k in keys if k in entry]
            for i, key in enumerate(present):
                lead = "  - " if i == 0 else "    "
                lines.append(f"{lead}{key}: {json.dumps(entry[key], ensure_ascii=False)}")
    return "\n".join(lines) + "\n"


# -- refreshing --------------------------------------------------------------------------------


def download(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=60) as response:
        return response.read()


def refresh(
    manifest: Manifest, versions: dict[str, str], fetch: Fetcher, root: Path = UPSTREAM
) -> list[str]:
    """Move each pin in ``versions`` to its new version, fetch its files from the new tag and
    write them and the manifest under ``root``. Returns one line per file written."""
    fetched: list[tuple[dict[str, str], Source, bytes]] = []
    for name, version in versions.items():
        pin = manifest.pin(name)
        tag = tag_for(pin, version)
        entries = manifest.files_of(name)
        if not entries:
            raise ManifestError(f"pin {name!r} has no files")
        for entry in entries:
            old = Source.parse(entry["source"])
            new = Source(old.repo, tag, old.path)
            try:
                data = fetch(new.url)
            except Exception as exc:
                raise ManifestError(f"cannot fetch {new} ({new.url}): {exc}") from exc
            fetched.append((entry, new, data))
    report = []
    for name, version in versions.items():
        pin = manifest.pin(name)
        pin["version"] = version
    for entry, new, data in fetched:
        (root / entry["path"]).parent.mkdir(parents=True, exist_ok=True)
        (root / entry["path"]).write_bytes(data)
        entry["source"] = str(new)
        entry["sha256"] = sha256(data)
        if entry["path"].endswith("Chart.yaml"):
            _record_app_version(manifest.pin(entry["pin"]), data)
        report.append(f"{entry['path']} <- {new}")
    (root / "SOURCES.yaml").write_text(write(manifest), encoding="utf-8")
    return report


def _record_app_version(pin: dict[str, str], chart_yaml: bytes) -> None:
    """A chart's app version is what its CRDs and images belong to: record it beside the pin."""
    if "app_version" in pin:
        match = APP_VERSION.search(chart_yaml.decode())
        if match is None:
            raise ManifestError(f"no appVersion in the Chart.yaml of pin {pin['name']!r}")
        pin["app_version"] = match.group(1)


def parse_sets(items: list[str]) -> dict[str, str]:
    versions = {}
    for item in items:
        name, sep, version = item.partition("=")
        if not sep or not name or not version:
            raise ManifestError(f"--set takes PIN=VERSION, got {item!r}")
        versions[name] = version
    return versions


def main(argv: list[str] | None = None, fetch: Fetcher = download, root: Path = UPSTREAM) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.refresh_upstream", description=__doc__)
    parser.add_argument("--set", action="append", default=[], metavar="PIN=VERSION")
    parser.add_argument("--all", action="store_true", help="fetch every pin at its version")
    args = parser.parse_args(argv)
    try:
        manifest = read((root / "SOURCES.yaml").read_text(encoding="utf-8"))
        versions = {p["name"]: p["version"] for p in manifest.pins} if args.all else {}
        versions.update(parse_sets(args.set))
        if not versions:
            parser.error("nothing to refresh: give --set PIN=VERSION or --all")
        for line in refresh(manifest, versions, fetch, root):
            print(line)
    except ManifestError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
