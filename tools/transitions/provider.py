"""The provider's own configuration and the values it resolves only when `up` runs.

- Region: pulumi-aws v7 sets every resource's ``region`` input from the provider configuration
  (pulumi/pulumi-aws: provider/region.go, ``applyRegion``), and the provider forces a new
  resource when it changes (hashicorp/terraform-provider-aws: internal/provider/sdkv2/region.go,
  ``forceNewIfRegionChanges``). IAM is global and keeps its resources.
- Run-time values: the node AMI release comes from an SSM parameter and unpinned add-on
  versions from ``DescribeAddonVersions`` at every run (components/nodes.py, components/addons.py).
  Offline these are the mock's fixed answers (tools/offline/mocks.py), so a diff can never show
  them moving; the report says where they will be resolved instead.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from tools.offline import mocks
from tools.transitions.rules import Violation

ARN = re.compile(r"^arn:aws[a-z-]*:[a-z0-9-]+:([a-z]{2}(?:-[a-z]+)+-\d):")
GLOBAL = ("aws:iam/",)


def region(document: dict) -> str | None:
    """The region the plan's AWS resources were planned in (read from their ARNs)."""
    for resource in document["resources"]:
        for value in (resource.get("outputs") or {}).values():
            if isinstance(value, str) and (match := ARN.match(value)):
                return match.group(1)
    return None


def regional(resource_type: str) -> bool:
    return resource_type.startswith("aws:") and not resource_type.startswith(GLOBAL)


def region_rules(old: dict, new: dict) -> Iterator[tuple[Violation, str, str]]:
    regions = region(old), region(new)
    if None in regions or regions[0] == regions[1]:
        return
    yield (
        Violation(
            "region",
            f"{regions[0]} -> {regions[1]}: every regional resource (key, cluster, logs, file "
            "system, bucket, network) is replaced, explicitly named ones old-first, and a "
            "protected one stops the update; build a new stack and migrate",
            "acknowledge.settings",
        ),
        "settings",
        "region",
    )


def resolved_at_up(document: dict) -> list[str]:
    """What this plan shows with the mock's answer, and `up` resolves again."""
    lines, addons = [], []
    for resource in document["resources"]:
        inputs = resource.get("inputs") or {}
        if resource["type"] == "aws:eks/nodeGroup:NodeGroup" and str(
            inputs.get("releaseVersion", "")
        ).endswith(f"-{mocks.AMI_RELEASE_DATE}"):
            lines.append(
                f"  - {resource['name']}: AMI release resolved at `up` from SSM (the latest for "
                f"{inputs.get('version')}); a newer AMI rolls every node in whatever `up` runs "
                "next (pin releaseVersion to hold it)"
            )
        if resource["type"] == "aws:eks/addon:Addon":
            name, version = inputs.get("addonName"), inputs.get("addonVersion")
            defaults = mocks.ADDON_VERSIONS.get(name, {})
            if version in defaults.values():
                addons.append(name)
    if addons:
        lines.append(
            f"  - add-ons {', '.join(sorted(addons))}: versions resolved at `up` (the default for "
            "the cluster version, unless pinned in config); a new default upgrades them"
        )
    return lines
