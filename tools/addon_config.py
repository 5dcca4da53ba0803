"""Add-on settings EKS accepts: each add-on's ``configurationValues`` checked against EKS's own
configuration schema for the version the stack resolves, before ``pulumi up`` sends them.

python -m tools.addon_config prod      (needs the AWS CLI v2 and eks:Describe* rights)

EKS validates ``configurationValues`` against the add-on's JSON schema, whose objects refuse
unknown keys (``additionalProperties: false``), and answers ``InvalidParameterException``
(aws/containers-roadmap#1955); the schema is published only through DescribeAddonConfiguration
(https://docs.aws.amazon.com/eks/latest/APIReference/API_DescribeAddonConfiguration.html), and an
add-on's schema is a subset of its chart's (kubernetes-sigs/aws-ebs-csi-driver#2371), so the
vendored chart schema the tests use cannot settle it. The version is the stack's pin, or the one
EKS marks default for the cluster's Kubernetes version, as the program resolves it
(components/addons.py, DescribeAddonVersions).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Sequence

from jsonschema import Draft201909Validator

from tools.offline import run_config, stack_config
from tools.offline.runner import typed_config

ADDON = "aws:eks/addon:Addon"
Aws = Callable[[Sequence[str]], dict]


def aws_cli(args: Sequence[str]) -> dict:
    proc = subprocess.run(
        ["aws", *args, "--output", "json"], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        raise RuntimeError(f"aws {' '.join(args)}: {proc.stderr.strip() or proc.returncode}")
    return json.loads(proc.stdout)


def default_version(aws: Aws, addon: str, kubernetes_version: str) -> str:
    answer = aws(
        [
            "eks",
            "describe-addon-versions",
            "--addon-name",
            addon,
            "--kubernetes-version",
            kubernetes_version,
        ]
    )
    for entry in answer.get("addons", []):
        for version in entry.get("addonVersions", []):
            if any(
                c.get("defaultVersion") and c.get("clusterVersion") == kubernetes_version
                for c in version.get("compatibilities", [])
            ):
                return version["addonVersion"]
    raise RuntimeError(f"EKS names no default {addon} version for Kubernetes {kubernetes_version}")


def configuration_schema(aws: Aws, addon: str, version: str) -> dict:
    answer = aws(
        ["eks", "describe-addon-configuration", "--addon-name", addon, "--addon-version", version]
    )
    return json.loads(answer["configurationSchema"])


def configuration_problems(values: dict, schema: dict) -> list[str]:
    """Every place ``values`` breaks ``schema``, as ``path: message`` lines."""
    return sorted(
        f"{'.'.join(str(p) for p in error.absolute_path) or '(top)'}: {error.message}"
        for error in Draft201909Validator(schema).iter_errors(values)
    )


def pin_of(cfg, addon: str) -> str | None:
    return getattr(cfg.addons, addon.removeprefix("aws-").replace("-", "_"), None)


def check(stack: str, aws: Aws = aws_cli) -> list[str]:
    """Lines to print; those starting with ``error:`` fail the check."""
    values = stack_config(stack)
    cfg = typed_config(stack, values)
    lines = []
    for addon in run_config(stack, values).of_type(ADDON):
        raw = addon.inputs.get("configurationValues")
        if not raw:
            continue
        name = addon.inputs["addonName"]
        try:
            version = pin_of(cfg, name) or default_version(aws, name, cfg.kubernetes_version)
            problems = configuration_problems(
                json.loads(raw), configuration_schema(aws, name, version)
            )
        except RuntimeError as exc:
            lines.append(f"error: {name}: {exc}")
            continue
        if problems:
            lines += [f"error: {name} {version} refuses {p}" for p in problems]
            lines.append(
                f"error: {name} {version}: EKS would refuse the add-on at create "
                "(InvalidParameterException); see docs/backups.md, 'Add-on settings EKS refuses'"
            )
        else:
            lines.append(f"{name} {version}: configuration accepted by EKS's schema")
    return lines


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m tools.addon_config <stack>", file=sys.stderr)
        return 2
    lines = check(args[0])
    for line in lines:
        print(line, file=sys.stderr if line.startswith("error:") else sys.stdout)
    return 1 if any(line.startswith("error:") for line in lines) else 0


if __name__ == "__main__":
    sys.exit(main())
