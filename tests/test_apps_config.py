"""App config is refused, by key and before anything is registered, whenever it would put a
secret in a ConfigMap, reach outside the catalog, or blur one app into another."""

from __future__ import annotations

import copy

import pytest

from tests.conftest import rejected
from tests.test_config import NS
from tools.offline import ProgramError, run_config, stack_config

ORDERS = {"name": "orders", "config": {"LOG_LEVEL": "info"}}


def with_apps(stack: str, apps: list[dict]) -> dict:
    values = copy.deepcopy(stack_config(stack))
    values[f"{NS}:apps"] = apps
    return values


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
