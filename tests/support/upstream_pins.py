"""Whether tests/upstream/ holds the upstream files of exactly the versions the program deploys,
and whether those files are still the bytes SOURCES.yaml says they came from."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from tests.support.upstream_schema import UPSTREAM, load
from tools.offline import Plan
from tools.refresh_upstream import Manifest, Source, sha256, tag_for

RELEASE = "kubernetes:helm.sh/v3:Release"
ADDON = "aws:eks/addon:Addon"


def deployed(plans: Iterable[Plan]) -> dict[tuple[str, str], set[str]]:
    """Versions per deployed thing: ("helm_chart", chart) and ("eks_addon", add-on name).

    Read from the plans, so a version counts wherever it comes from: a stack file, a config
    default or, for an unpinned add-on, the version EKS answers (the offline mock's answer)."""
    found: dict[tuple[str, str], set[str]] = {}
    for plan in plans:
        for release in plan.of_type(RELEASE):
            key = ("helm_chart", release.inputs["chart"])
            found.setdefault(key, set()).add(release.inputs["version"])
        for addon in plan.of_type(ADDON):
            key = ("eks_addon", addon.inputs["addonName"])
            found.setdefault(key, set()).add(addon.inputs["addonVersion"])
    return found


def pin_problems(plans: Iterable[Plan], manifest: Manifest) -> list[str]:
    """Every Helm chart, and every add-on SOURCES.yaml judges, deployed at the version of its
    vendored files; every pin that claims to be deployed is."""
    problems = []
    versions = deployed(plans)
    pins = {
        (kind, pin[kind]): pin
        for pin in manifest.pins
        for kind in ("helm_chart", "eks_addon")
        if kind in pin
    }
    for (kind, name), seen in sorted(versions.items()):
        pin = pins.get((kind, name))
        if pin is None:
            if kind == "helm_chart":
                problems.append(f"chart {name} has no vendored upstream files in SOURCES.yaml")
            continue
        for version in sorted(seen - {pin["version"]}):
            problems.append(
                f"{name} is deployed at {version} but tests/upstream holds {pin['version']}: "
                f"run python -m tools.refresh_upstream --set {pin['name']}={version}"
            )
    for key, pin in sorted(pins.items()):
        if key not in versions:
            problems.append(f"pin {pin['name']} names {key[0]} {key[1]}, which no plan deploys")
    return problems


def file_problems(manifest: Manifest, root: Path = UPSTREAM) -> list[str]:
    """Each file listed, present, unedited and from its pin's repository at its pin's tag."""
    problems = []
    listed = {entry["path"] for entry in manifest.files}
    on_disk = {
        p.relative_to(root).as_posix()
        for p in root.rglob("*")
        if p.is_file() and p.name != "SOURCES.yaml"
    }
    problems += [f"{p}: not listed in SOURCES.yaml" for p in sorted(on_disk - listed)]
    problems += [f"{p}: listed in SOURCES.yaml but missing" for p in sorted(listed - on_disk)]
    for entry in manifest.files:
        path, pin = entry["path"], manifest.pin(entry["pin"])
        source = Source.parse(entry["source"])
        expected = (pin["repo"], tag_for(pin, pin["version"]))
        if (source.repo, source.tag) != expected:
            problems.append(
                f"{path}: from {source.repo}@{source.tag}, pin {pin['name']} is at "
                f"{expected[0]}@{expected[1]}"
            )
        if path in on_disk and sha256((root / path).read_bytes()) != entry["sha256"]:
            problems.append(f"{path}: sha256 differs from SOURCES.yaml (edited after vendoring?)")
    return problems


def chart_problems(manifest: Manifest) -> list[str]:
    """A vendored Chart.yaml says the version and app version its pin records."""
    problems = []
    for entry in manifest.files:
        if Path(entry["path"]).name != "Chart.yaml":
            continue
        pin, chart_yaml = manifest.pin(entry["pin"]), load(entry["path"])
        if str(chart_yaml["version"]) != pin["version"]:
            problems.append(
                f"{entry['path']}: version {chart_yaml['version']}, pin {pin['version']}"
            )
        if str(chart_yaml.get("appVersion")) != pin.get("app_version"):
            problems.append(
                f"{entry['path']}: appVersion {chart_yaml.get('appVersion')}, "
                f"pin app_version {pin.get('app_version')}"
            )
    return problems
