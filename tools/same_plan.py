"""Zero-difference proof for refactors: the plan of every stack, before and after, is the same.

    python -m tools.same_plan main          # plans at `main` against the working tree
    python -m tools.same_plan HEAD~3 --keep plans/same   # and keep both sets of documents

Plans every stack file in stacks/ plus generated stacks that cover each storage backend and
feature (EBS volume types, EFS off/provisioned/backed up, retired classes, Velero, drills,
alerts, apps with Pod Identity and IRSA, created and adopted networks) twice: at BASE_REF, checked
out in a temporary detached worktree, and in the working tree. Each run writes ``python -m
tools.plan <stack> --stack-file FILE --json OUT``'s document (URNs, types, parents, inputs,
options with dependencies, outputs, exports). Exits 1 and lists the differing resources when any
document differs, or when a stack does not plan on either side.
"""

from __future__ import annotations

import argparse
import copy
import json
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from design.storage import efs
from tools.offline.stackfiles import ROOT, stack_names, stacks_dir

NS = "eks-config-storage"

# Runs inside one tree (its own imports): every stack of a list planned in one process, each
# through the plan command's own entry point, so the document is exactly what --json writes.
_DRIVER = """
import contextlib, io, json, sys
from tools import plan
jobs = json.loads(sys.argv[1])
failed = []
for stack, stack_file, out in jobs:
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer), contextlib.redirect_stderr(buffer):
        plan.main([stack, "--stack-file", stack_file, "--json", out])
    if not __import__("os").path.exists(out):
        failed.append(stack)
        print(f"{stack}: no plan\\n{buffer.getvalue()[-3000:]}", file=sys.stderr)
sys.exit(1 if failed else 0)
"""


def _edit(base: dict, environment: str, change: Callable[[dict], None]) -> dict:
    document = copy.deepcopy(base)
    change(document["config"])
    # Class names carry the environment, which defaults to the stack's name.
    document["config"].setdefault(f"{NS}:environment", environment)
    return document


def _ebs_types(c: dict) -> None:
    c[f"{NS}:storage"]["classes"] = [
        {"backing": "gp3", "access": "rwo", "default": True, "iops": 4000, "throughputMibps": 200},
        {"backing": "io2", "access": "rwo", "tier": "db", "iops": 8000, "fsType": "xfs"},
        {"backing": "st1", "access": "rwo", "tier": "logs"},
        {"backing": "sc1", "access": "rwo", "tier": "cold", "reclaimPolicy": "Retain"},
        {
            "backing": "efs",
            "access": "rwx",
            "tier": "shared",
            "directoryPerms": "750",
            "gidRangeStart": 60000,
            "gidRangeEnd": 70000,
            "basePath": "/shared",
        },
    ]
    c[f"{NS}:storage"]["retiredClasses"] = [
        {"name": "gp3-ssd-dev-rwo-old", "backing": "gp3", "access": "rwo"},
        {"name": "efs-elastic-dev-rwx", "backing": "efs", "access": "rwx"},
    ]
    c[f"{NS}:storage"]["demoteGp2"] = False
    for app in c[f"{NS}:apps"]:
        app.pop("storage", None)


def _efs_off(c: dict) -> None:
    storage = c[f"{NS}:storage"]
    storage["efs"] = {"enabled": False}
    storage["classes"] = [k for k in storage["classes"] if k["backing"] not in efs.BACKEND.backings]
    for app in c[f"{NS}:apps"]:
        app["storage"] = [s for s in app.get("storage", []) if not s["class"].startswith("efs")]
    c[f"{NS}:identity"] = "both"
    c[f"{NS}:addons"] = {"ebsCsiDriver": "v1.58.0-eksbuild.1"}


def _efs_provisioned_and_backups(c: dict) -> None:
    c[f"{NS}:storage"]["efs"] = {
        "throughputMode": "provisioned",
        "provisionedThroughputMibps": 64,
        "performanceMode": "maxIO",
        "transitionToIaDays": 14,
        "backup": True,
    }
    for app in c[f"{NS}:apps"]:
        app.pop("storage", None)
    c[f"{NS}:storage"]["classes"][0]["protection"] = {
        "snapshotPolicies": ["daily"],
        "backupSchedule": "nightly",
    }
    c[f"{NS}:backups"] = {
        "enabled": True,
        "breakGlassReaders": ["arn:aws:iam::123456789012:role/platform-admin"],
        "schedules": [{"name": "nightly", "schedule": "30 1 * * *", "ttl": "168h"}],
    }
    c[f"{NS}:monitoring"] = {"prometheusRules": True, "ruleLabels": {"release": "kps"}}
    c[f"{NS}:restoreDrills"] = [{"name": "weekly", "policy": "daily", "schedule": "0 5 * * 1"}]
    c[f"{NS}:snapshots"]["policies"].append(
        {"name": "weekly", "schedule": "@weekly", "keep": 4, "maxAge": "5w"}
    )


def _prod_pod_identity(c: dict) -> None:
    c[f"{NS}:identity"] = "podIdentity"
    c[f"{NS}:addons"] = {
        "ebsCsiDriver": "v1.58.0-eksbuild.1",
        "podIdentityAgent": "v1.3.8-eksbuild.2",
    }
    c[f"{NS}:apps"][0]["identity"] = "irsa"
    c[f"{NS}:restoreDrills"].append(
        {"name": "hourly", "policy": "hourly", "schedule": "45 */6 * * *", "timeoutSeconds": 900}
    )


GENERATED: dict[str, tuple[str, Callable[[dict], None]]] = {
    "gen-ebs-types": ("dev", _ebs_types),
    "gen-efs-off": ("dev", _efs_off),
    "gen-efs-backups": ("dev", _efs_provisioned_and_backups),
    "gen-prod-pod-identity": ("prod", _prod_pod_identity),
}


def stack_files(directory: Path) -> dict[str, Path]:
    """Every stack of stacks/ and every generated one, written to ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    files: dict[str, Path] = {}
    bases: dict[str, dict] = {}
    for stack in stack_names():
        path = stacks_dir() / f"Pulumi.{stack}.yaml"
        bases[stack] = yaml.safe_load(path.read_text())
        files[stack] = directory / path.name
        files[stack].write_text(path.read_text())
    for name, (base, change) in GENERATED.items():
        if base not in bases:
            continue
        files[name] = directory / f"Pulumi.{name}.yaml"
        files[name].write_text(yaml.safe_dump(_edit(bases[base], base, change), sort_keys=False))
    return files


def plan_all(tree: Path, files: dict[str, Path], out: Path, python: str) -> None:
    out.mkdir(parents=True, exist_ok=True)
    jobs = [[stack, str(path), str(out / f"{stack}.json")] for stack, path in files.items()]
    done = subprocess.run(
        [python, "-c", _DRIVER, json.dumps(jobs)],
        check=False,
        cwd=tree,
        capture_output=True,
        text=True,
    )
    if done.returncode:
        raise SystemExit(f"planning in {tree} failed:\n{done.stderr[-6000:]}")


def _changed_fields(old: dict, new: dict) -> list[str]:
    return sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))


def differences(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Every way two plan documents differ, one line each, resources named by URN."""
    lines: list[str] = []
    if old.get("stack") != new.get("stack"):
        lines.append(f"stack: {old.get('stack')!r} -> {new.get('stack')!r}")
    before = {r["urn"]: r for r in old.get("resources", [])}
    after = {r["urn"]: r for r in new.get("resources", [])}
    lines += [f"- {urn}" for urn in sorted(set(before) - set(after))]
    lines += [f"+ {urn}" for urn in sorted(set(after) - set(before))]
    for urn in sorted(set(before) & set(after)):
        fields = _changed_fields(before[urn], after[urn])
        for field in fields:
            if isinstance(before[urn].get(field), dict) and isinstance(after[urn].get(field), dict):
                inner = _changed_fields(before[urn][field], after[urn][field])
                lines.append(f"~ {urn}: {field}: {', '.join(inner)}")
            else:
                lines.append(f"~ {urn}: {field}")
    for name in _changed_fields(old.get("exports", {}), new.get("exports", {})):
        lines.append(f"~ export {name}")
    order_old = [r["urn"] for r in old.get("resources", [])]
    order_new = [r["urn"] for r in new.get("resources", [])]
    if not lines and order_old != order_new:
        lines.append("resource order differs")
    if not lines and old != new:
        lines.append("documents differ outside resources and exports")
    return lines


def compare(base_dir: Path, new_dir: Path, stacks: list[str]) -> dict[str, list[str]]:
    return {
        stack: differences(
            json.loads((base_dir / f"{stack}.json").read_text()),
            json.loads((new_dir / f"{stack}.json").read_text()),
        )
        for stack in stacks
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.same_plan", description=__doc__.split("\n")[0]
    )
    parser.add_argument("base", help="the git revision to compare the working tree with")
    parser.add_argument("--keep", type=Path, help="write both sets of plan documents here")
    args = parser.parse_args(argv)
    python = sys.executable
    with tempfile.TemporaryDirectory(prefix="same-plan-") as tmp:
        work = args.keep or Path(tmp)
        files = stack_files(work / "stacks")
        base_tree = Path(tmp) / "tree"
        subprocess.run(
            ["git", "worktree", "add", "--detach", "--quiet", str(base_tree), args.base],
            cwd=ROOT,
            check=True,
        )
        try:
            plan_all(base_tree, files, work / "before", python)
        finally:
            subprocess.run(
                ["git", "worktree", "remove", "--force", str(base_tree)], cwd=ROOT, check=True
            )
        plan_all(ROOT, files, work / "after", python)
        found = compare(work / "before", work / "after", list(files))
    total = 0
    for stack, lines in found.items():
        count = sum(1 for line in lines if line[:1] in "+-~")
        total += len(lines)
        print(
            f"{stack}: {'same' if not lines else f'{len(lines)} differences ({count} resources)'}"
        )
        for line in lines[:200]:
            print(f"  {line}")
    print(f"{len(found)} stacks planned at {args.base} and in the working tree: ", end="")
    print("zero differences" if not total else f"{total} differences")
    return 1 if total else 0


if __name__ == "__main__":
    sys.exit(main())
