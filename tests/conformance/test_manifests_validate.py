"""The built-in Kubernetes objects each stack renders validate strictly against the OpenAPI
schema of the cluster's Kubernetes version (unknown fields are errors)."""

from __future__ import annotations

import copy

import kubernetes_validate
import pytest

from tests.support.plan_helpers import typed
from tools.offline import Plan, stack_config
from tools.offline.manifests import is_built_in, manifests


def schema_version(plan: Plan) -> str:
    return typed(plan.stack).kubernetes_version + ".0"


def test_built_in_objects_validate_strictly(plan):
    built_in = [m for m in manifests(plan) if is_built_in(m)]
    assert {m["kind"] for m in built_in} >= {"StorageClass", "CronJob", "ClusterRole"}
    for manifest in built_in:
        kubernetes_validate.validate(manifest, schema_version(plan), strict=True)


def test_the_validator_catches_an_unknown_field(plans):
    storage_class = next(m for m in manifests(plans["dev"]) if m["kind"] == "StorageClass")
    broken = copy.deepcopy(storage_class)
    broken["allowVolumeExpansionn"] = True
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, schema_version(plans["dev"]), strict=True)


def test_custom_kinds_are_recognised_as_such(plan):
    custom = {m["kind"] for m in manifests(plan) if not is_built_in(m)}
    backups = stack_config(plan.stack).get("eks-config-storage:backups", {}).get("enabled")
    expected = {"VolumeSnapshotClass", "ClusterSecretStore", "ExternalSecret", "PushSecret"}
    alerting = (
        stack_config(plan.stack).get("eks-config-storage:monitoring", {}).get("prometheusRules")
    )
    assert custom == expected | ({"Schedule"} if backups else set()) | (
        {"PrometheusRule"} if alerting else set()
    )
