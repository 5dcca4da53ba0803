"""Stack config values for tests that break or extend a stack: the smallest valid config, the
project namespace, and edits by key path."""

from __future__ import annotations

import copy
from typing import Any

from tools.offline import stack_config

# The smallest valid config, for tests of the pure loader (decoded values, no namespace).
MINIMAL: dict[str, Any] = {
    "adminRoleArns": ["arn:aws:iam::123456789012:role/admin"],
    "nodeGroups": [
        {"name": "a", "instanceTypes": ["m6i.large"], "minSize": 1, "maxSize": 1, "desiredSize": 1}
    ],
    "externalSecrets": {"chartVersion": "0.20.4"},
    "sealedSecrets": {"chartVersion": "2.17.3"},
    "endpoint": {"publicAccess": True, "publicAccessCidrs": ["198.51.100.10/32"]},
}


NS = "eks-config-storage"


def broken(values: dict, key: str, value) -> dict:
    """Set a (possibly nested, dot-separated) key of a stack config to ``value``."""
    out = copy.deepcopy(values)
    head, *rest = key.split(".")
    target = out.setdefault(f"{NS}:{head}", {})
    if not rest:
        out[f"{NS}:{head}"] = value
        return out
    for part in rest[:-1]:
        target = target[int(part)] if part.isdigit() else target.setdefault(part, {})
    last = rest[-1]
    if last.isdigit():
        target[int(last)] = value
    else:
        target[last] = value
    return out


def with_apps(stack: str, apps: list[dict]) -> dict:
    """A stack's own config with its apps replaced by ``apps``."""
    values = copy.deepcopy(stack_config(stack))
    values[f"{NS}:apps"] = apps
    return values
