"""Every class of config mistake is named by its key path, with what to write instead, before
anything is registered: duplicates in lists that become resources, platform namespaces, pinned
node releases, YAML numbers, nested typos, lax booleans, untested image pins."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from config import ConfigError, load_stack_config
from config.schema import Backups, Snapshots
from design import drills, images
from tests.support.stack_values import MINIMAL
from tools.offline import runner, stack_config
from tools.offline.target import target_of

EBS = {"backing": "gp3", "access": "rwo", "default": True}


def problems(**overrides: Any) -> dict[str, str]:
    with pytest.raises(ConfigError) as failure:
        load_stack_config({**copy.deepcopy(MINIMAL), **overrides}, "dev")
    return dict(failure.value.problems)


def accepted(**overrides: Any):
    return load_stack_config({**copy.deepcopy(MINIMAL), **overrides}, "dev")


# -- lists whose entries become resources ----------------------------------------------------

GROUP = {"instanceTypes": ["m6i.large"], "minSize": 1, "maxSize": 1, "desiredSize": 1}
DUPLICATES = [
    ("nodeGroups", [{"name": "a", **GROUP}, {"name": "a", **GROUP}], "nodeGroups"),
    (
        "storage",
        {"classes": [EBS, {"backing": "gp3", "access": "rwo"}]},
        "storage.classes",
    ),
    (
        "snapshots",
        {"policies": [{"name": "d", "schedule": "0 3 * * *", "keep": 1}] * 2},
        "snapshots.policies",
    ),
    (
        "backups",
        {"enabled": True, "schedules": [{"name": "n", "schedule": "0 1 * * *", "ttl": "24h"}] * 2},
        "backups.schedules",
    ),
    ("apps", [{"name": "a"}, {"name": "a"}], "apps"),
    ("apps", [{"name": "a"}, {"name": "b", "namespace": "a"}], "apps"),
    (
        "apps",
        [{"name": "a", "secrets": [{"key": "K", "parameter": "a/x"}] * 2}],
        "apps[0].secrets",
    ),
    ("apps", [{"name": "a", "sealedSecrets": ["tls", "tls"]}], "apps[0].sealedSecrets"),
    (
        "apps",
        [{"name": "a", "aws": {"s3": [{"bucket": "bkt-a"}, {"bucket": "bkt-a"}]}}],
        "apps[0].aws.s3",
    ),
    (
        "endpoint",
        {"publicAccess": False, "privateAccessCidrs": ["10.0.0.0/16", "10.0.0.0/16"]},
        "endpoint.privateAccessCidrs",
    ),
]


@pytest.mark.parametrize(("key", "value", "path"), DUPLICATES)
def test_a_repeated_entry_is_refused_at_its_list(key, value, path):
    found = problems(**{key: value})
    assert path in found, found
    assert "used 2 times" in found[path] or "2 classes are named" in found[path]


def test_restore_drills_are_unique_by_name():
    snapshots = {"policies": [{"name": "d", "schedule": "0 3 * * *", "keep": 2}]}
    drill = {"name": "w", "policy": "d", "schedule": "0 4 * * 0"}
    found = problems(snapshots=snapshots, restoreDrills=[drill, drill])
    assert found["restoreDrills"] == "drill 'w' is used 2 times: restoreDrills[0], restoreDrills[1]"


# -- namespaces ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "namespace", "owner"),
    [
        ({}, "external-secrets", "externalSecrets.namespace"),
        ({}, "storage-snapshots", "snapshots.namespace"),
        ({"backups": {"enabled": True}}, "velero", "backups.namespace"),
        ({"monitoring": {"prometheusRules": True}}, "monitoring", "monitoring.namespace"),
        ({"snapshots": {"namespace": "ops"}}, "ops", "snapshots.namespace"),
    ],
)
def test_an_app_cannot_take_a_platform_namespace(overrides, namespace, owner):
    found = problems(**overrides, apps=[{"name": "shop", "namespace": namespace}])
    assert found["apps[0].namespace"] == f"{namespace!r} belongs to the platform ({owner})"


def test_the_drills_scratch_namespace_is_reserved_while_drills_run():
    snapshots = {"policies": [{"name": "d", "schedule": "0 3 * * *", "keep": 2}]}
    drill = {"name": "w", "policy": "d", "schedule": "0 4 * * 0"}
    app = {"name": "x", "namespace": drills.NAMESPACE}
    found = problems(snapshots=snapshots, restoreDrills=[drill], apps=[app])
    assert found["apps[0].namespace"].endswith("(restoreDrills)")
    assert accepted(snapshots=snapshots, apps=[app]).apps[0].namespace == drills.NAMESPACE


def test_an_unused_feature_leaves_its_namespace_free():
    assert accepted(apps=[{"name": "velero"}]).apps[0].namespace_name == "velero"


@given(
    features=st.lists(
        st.sampled_from(["externalSecrets", "sealedSecrets", "snapshots", "backups", "monitoring"]),
        min_size=2,
        max_size=2,
        unique=True,
    )
)
def test_two_platform_features_never_share_a_namespace(features):
    values = {
        "backups": {"enabled": True},
        "monitoring": {"prometheusRules": True},
        "externalSecrets": {"chartVersion": "0.20.4"},
        "sealedSecrets": {"chartVersion": "2.17.3"},
    }
    for feature in features:
        values[feature] = {**values.get(feature, {}), "namespace": "shared"}
    found = problems(**values)
    order = ["externalSecrets", "sealedSecrets", "snapshots", "backups", "monitoring"]
    later = max(features, key=order.index)
    earlier = min(features, key=order.index)
    assert found[f"{later}.namespace"] == (
        f"'shared' is already {earlier}.namespace: give each feature its own"
    )


# -- node releases ---------------------------------------------------------------------------


@given(minor=st.integers(30, 40), patch=st.integers(0, 9))
def test_a_pinned_node_release_must_be_the_clusters_minor(minor, patch):
    group = {"name": "a", **GROUP, "releaseVersion": f"1.{minor}.{patch}-20261115"}
    values = {**copy.deepcopy(MINIMAL), "nodeGroups": [group], "kubernetesVersion": "1.35"}
    try:
        load_stack_config(values, "dev")
        found = {}
    except ConfigError as exc:
        found = dict(exc.problems)
    message = found.get("nodeGroups[0].releaseVersion")
    if minor == 35:
        assert message is None
    else:
        assert message.startswith(
            f"'1.{minor}.{patch}-20261115' is a release of Kubernetes 1.{minor}"
        )


# -- values: YAML numbers, strict types, nested keys ------------------------------------------


def test_yaml_numbers_are_shown_and_told_to_be_quoted():
    found = problems(
        kubernetesVersion="1.3",
        sealedSecrets={"chartVersion": 2.17},
        apps=[{"name": "a", "config": {"SHARDS": 3}}],
    )
    assert "got '1.3'" in found["kubernetesVersion"] and "quote it" in found["kubernetesVersion"]
    assert found["sealedSecrets.chartVersion"] == (
        "got the number 2.17, not text: quote it in the stack file ('2.17')"
    )
    assert found["apps[0].config.SHARDS"].startswith("got the number 3")


@pytest.mark.parametrize(
    ("key", "value", "path"),
    [
        ("production", "yes", "production"),
        ("protect", 1, "protect"),
        (
            "snapshots",
            {"policies": [{"name": "d", "schedule": "0 3 * * *", "keep": "14"}]},
            "snapshots.policies[0].keep",
        ),
        ("storage", {"classes": [{**EBS, "default": "true"}]}, "storage.classes[0].default"),
    ],
)
def test_no_value_is_coerced_silently(key, value, path):
    found = problems(**{key: value})
    assert path in found and "got " in found[path], found


@pytest.mark.parametrize(
    ("key", "value", "path", "message"),
    [
        (
            "storage",
            {"classes": [{**EBS, "iosp": 3000}]},
            "storage.classes[0].iosp",
            "did you mean 'iops'?",
        ),
        (
            "apps",
            [{"name": "a", "secrets": [{"key": "K", "secretManager": "a/b"}]}],
            "apps[0].secrets[0].secretManager",
            "did you mean 'secretsManager'?",
        ),
        (
            "storage",
            {"classes": [{**EBS, "throughput_mibps": 250}]},
            "storage.classes[0].throughput_mibps",
            "stack files write it in camelCase: 'throughputMibps'",
        ),
        ("kms", {"deletion_window_days": 30}, "kms.deletion_window_days", "'deletionWindowDays'"),
    ],
)
def test_a_nested_unknown_key_gets_the_closest_key_of_its_mapping(key, value, path, message):
    found = problems(**{key: value})
    assert found[path].startswith("unknown key; ") and found[path].endswith(message), found[path]


# -- images ----------------------------------------------------------------------------------


def test_production_names_the_tested_digest_of_each_default_image():
    found = problems(production=True, protect=True, backups={"enabled": True})
    for key, default in (
        ("snapshots.jobImage", Snapshots().job_image),
        ("backups.pluginImage", Backups().plugin_image),
    ):
        assert f"write '{default}@{images.TESTED[default]}'" in found[key], found[key]


def test_the_tested_digests_are_the_defaults_and_what_prod_deploys():
    assert set(images.TESTED) == {Snapshots().job_image, Backups().plugin_image}
    prod = yaml.safe_load(Path("stacks/Pulumi.prod.yaml").read_text())["config"]
    deployed = {
        prod["eks-config-storage:snapshots"]["jobImage"],
        prod["eks-config-storage:backups"]["pluginImage"],
    }
    assert deployed == {images.pinned(image) for image in images.TESTED}


# -- anything at all -------------------------------------------------------------------------

SCALARS = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8)
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)


@given(
    key=st.sampled_from(sorted(stack_config("prod"))) | st.text(max_size=12),
    value=VALUES,
)
def test_any_value_at_any_key_is_judged_by_key_never_a_traceback(key, value):
    values = {**stack_config("prod"), key: value}
    try:
        runner.typed_config("prod", values, offline=True)
    except ConfigError as exc:
        assert exc.problems and all(path and message for path, message in exc.problems)
    target_of(values, "eks-config-storage")  # the offline stand-ins never fail either
