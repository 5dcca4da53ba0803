"""App config is refused, by key and before anything is registered, whenever it would put a
secret in a ConfigMap, reach outside the catalog, or blur one app into another."""

from __future__ import annotations

import copy
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from config import ConfigError, load_stack_config
from design.apps import config_map_manifest, serialized_size
from tests.support.plan_helpers import rejected
from tests.support.stack_values import MINIMAL, NS, with_apps
from tools.offline import ProgramError, run_config, runner, stack_config

ORDERS = {"name": "orders", "config": {"LOG_LEVEL": "info"}}


BAD_APPS = [
    ([{**ORDERS, "config": {"DB_PASSWORD": "hunter2"}}], "apps[0].config", "secrets:"),
    ([{**ORDERS, "config": {"stripeApiKey": "x"}}], "apps[0].config", "secrets:"),
    ([{**ORDERS, "config": {"AUTH_TOKEN": "x"}}], "apps[0].config", "secrets:"),
    ([{**ORDERS, "config": {"UPLOAD": "AKIAABCDEFGHIJKLMNOP"}}], "apps[0].config", "secrets:"),
    (
        [{**ORDERS, "config": {"DB_URL": "postgres://app:pw@db/orders"}}],
        "apps[0].config",
        "secrets:",
    ),
    ([{**ORDERS, "config": {"has space": "x"}}], "apps[0].config.has space", "pattern"),
    (
        [{**ORDERS, "storage": [{"class": "gp3-ssd-prod-rwo", "requests": "1Gi", "claims": 1}]}],
        "apps[0].storage[0].class",
        "unknown StorageClass",
    ),
    (
        [{**ORDERS, "storage": [{"class": "gp3-ssd-dev-rwo", "requests": "1GB", "claims": 1}]}],
        "apps[0].storage[0].requests",
        "pattern",
    ),
    ([ORDERS, ORDERS], "apps", "used 2 times"),
    ([ORDERS, {"name": "billing", "namespace": "orders"}], "apps", "used 2 times"),
    ([{"name": "Orders"}], "apps[0].name", "pattern"),
    ([{"name": "orders", "namespace": "Orders_NS"}], "apps[0].namespace", "pattern"),
    ([{"name": "orders", "namespace": "kube-system"}], "apps[0].namespace", "platform"),
    ([{"name": "orders", "namespace": "external-secrets"}], "apps[0].namespace", "platform"),
    (
        [{"name": "orders", "podSecurity": {"level": "baseline"}}],
        "apps[0].podSecurity.reason",
        "why",
    ),
    (
        [
            {
                "name": "orders",
                "podSecurity": {"level": "privileged", "reason": "needs host network"},
            }
        ],
        "apps[0].podSecurity.level",
        "Input should be",
    ),
    (
        [{"name": "orders", "secrets": [{"key": "A", "secretsManager": "a", "parameter": "b"}]}],
        "apps[0].secrets[0]",
        "exactly one",
    ),
    ([{"name": "orders", "secrets": [{"key": "A"}]}], "apps[0].secrets[0]", "exactly one"),
    (
        [{"name": "orders", "secrets": [{"key": "A", "secretsManager": "/abs"}]}],
        "apps[0].secrets[0].secretsManager",
        "the program adds '<environment>/' itself",
    ),
    (
        [
            {
                "name": "orders",
                "secrets": [{"key": "A", "secretsManager": "a"}, {"key": "A", "parameter": "b"}],
            }
        ],
        "apps[0].secrets",
        "used 2 times",
    ),
    (
        [{"name": "orders", "aws": {"s3": [{"bucket": "Bad_Bucket"}]}}],
        "apps[0].aws.s3[0].bucket",
        "pattern",
    ),
    (
        [{"name": "orders", "aws": {"s3": [{"bucket": "ok-bucket", "prefix": "*"}]}}],
        "apps[0].aws.s3[0].prefix",
        "pattern",
    ),
    (
        [{"name": "orders", "aws": {"secretsManager": ["*"]}}],
        "apps[0].aws.secretsManager[0]",
        "'*' not allowed",
    ),
    (
        [{"name": "orders", "sealedSecrets": ["orders-secrets"]}],
        "apps[0].sealedSecrets",
        "External Secrets target",
    ),
    (
        [{"name": "orders", "secretRefreshInterval": "hourly"}],
        "apps[0].secretRefreshInterval",
        "pattern",
    ),
]


@pytest.mark.parametrize(("apps", "named", "says"), BAD_APPS)
def test_bad_app_config_is_rejected_by_key_before_any_resource(apps, named, says):
    assert says in rejected("dev", with_apps("dev", apps), named)


@pytest.mark.parametrize("chart", ["externalSecrets", "sealedSecrets"])
def test_charts_must_be_pinned(chart):
    values = copy.deepcopy(stack_config("dev"))
    values[f"{NS}:{chart}"] = {"chartVersion": "latest"}
    with pytest.raises(ProgramError, match=rf"{NS}:{chart}.chartVersion:"):
        run_config("dev", values)
    del values[f"{NS}:{chart}"]
    with pytest.raises(ProgramError, match=rf"{NS}:{chart}: Field required"):
        run_config("dev", values)


def test_a_pulumi_secret_in_stack_config_is_refused(dev_values):
    """`pulumi config set --secret --path apps[0].config.X` would land in a ConfigMap."""
    dev_values[f"{NS}:apps"][0]["config"]["PAYMENTS_URL"] = {"secure": "v1:abc"}
    assert "holds a Pulumi secret" in rejected("dev", dev_values, "apps")


MIB = 1024 * 1024


def sent_size(app: str, namespace: str, data: dict[str, str]) -> int:
    """The ConfigMap the program creates, as compact JSON: written out here rather than taken
    from design.apps, so the check is measured against the object itself."""
    manifest = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": f"{app}-config",
            "namespace": namespace,
            "labels": {
                "app.kubernetes.io/managed-by": "pulumi",
                "app.kubernetes.io/part-of": "eks-config-storage",
                "app.kubernetes.io/name": app,
            },
        },
        "data": data,
    }
    return len(json.dumps(manifest, separators=(",", ":")).encode())


def with_config(data: dict[str, str], namespace: str | None = None) -> dict:
    app = {"name": "orders", "config": data, **({"namespace": namespace} if namespace else {})}
    return {**MINIMAL, "apps": [app]}


@pytest.mark.parametrize("namespace", [None, "orders-with-a-much-longer-namespace"])
def test_a_config_map_of_exactly_one_mib_is_accepted_and_one_byte_more_refused(namespace):
    data = {"LOG_LEVEL": "info", "BLOB": ""}
    overhead = sent_size("orders", namespace or "orders", data)
    data["BLOB"] = "x" * (MIB - overhead)
    assert sent_size("orders", namespace or "orders", data) == MIB
    load_stack_config(with_config(data, namespace), "dev")
    data["BLOB"] += "x"
    with pytest.raises(ConfigError) as failure:
        load_stack_config(with_config(data, namespace), "dev")
    ((key, message),) = failure.value.problems
    assert key == "apps[0].config"
    assert "ConfigMap orders-config would be 1,048,577 bytes" in message
    assert "at most 1,048,576 bytes (1 MiB)" in message


def test_the_name_namespace_and_labels_count_not_only_the_values():
    """Values that Kubernetes' own sum would accept are refused when the object is too big."""
    data = {f"K{i:05d}": "v" * 100 for i in range(10_000)}
    assert sum(len(v) for v in data.values()) < MIB < sent_size("orders", "orders", data)
    with pytest.raises(ConfigError, match=r"apps\[0\]\.config: ConfigMap orders-config would be"):
        load_stack_config(with_config(data), "dev")


@given(
    data=st.dictionaries(
        st.from_regex(r"[A-Za-z][A-Za-z0-9_.-]{0,20}", fullmatch=True),
        st.text(max_size=40),
        max_size=5,
    )
)
def test_size_counts_utf8_bytes_and_gos_html_escapes(data):
    manifest = config_map_manifest("orders", "orders", data)
    text = json.dumps(manifest, separators=(",", ":"), ensure_ascii=False)
    escaped = sum(text.count(c) for c in "<>&\u2028\u2029")
    extra = sum(6 - len(c.encode()) for c in text if c in "<>&\u2028\u2029")
    assert serialized_size(manifest) == len(text.encode()) + extra
    assert serialized_size(manifest) >= len(text.encode()) + 3 * escaped


def test_the_size_is_measured_on_the_config_map_the_program_creates(plans):
    for plan in plans.values():
        for app in stack_config(plan.stack)[f"{NS}:apps"]:
            (made,) = [
                r
                for r in plan.of_type("kubernetes:core/v1:ConfigMap")
                if r.inputs["metadata"]["name"] == f"{app['name']}-config"
            ]
            namespace = app.get("namespace", app["name"])
            expected = config_map_manifest(app["name"], namespace, app.get("config", {}))
            assert made.inputs["metadata"] == expected["metadata"]
            assert made.inputs["data"] == expected["data"]


def test_an_oversized_config_map_registers_nothing():
    data = {"BLOB": "x" * MIB}
    line = rejected("dev", with_apps("dev", [{"name": "orders", "config": data}]), "apps[0].config")
    assert "bytes" in line


def test_a_nested_pulumi_secret_is_named_by_its_whole_path(dev_values):
    dev_values[f"{NS}:apps"][1]["config"]["LOG_LEVEL"] = {"secure": "v1:abc"}
    with pytest.raises(ConfigError) as failure:
        runner.typed_config("dev", dev_values)
    assert dict(failure.value.problems)["apps[1].config.LOG_LEVEL"].startswith(
        "holds a Pulumi secret"
    )
