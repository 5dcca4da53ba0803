"""Secret-looking values are refused wherever a user could paste one, by key and before anything
is registered; ordinary settings pass; the policy rule judges ConfigMaps with the same function.

Every token below is assembled from parts at run time, so this file does not itself read as a
leaked credential to a scanner."""

from __future__ import annotations

import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from config import ConfigError, load_stack_config
from design.apps import looks_secret, secret_reason
from policies.rules.configuration import configmap_no_secrets
from tests.support.plan_helpers import rejected
from tests.support.rule_subjects import DEV, k8s
from tests.support.stack_values import MINIMAL, broken, with_apps
from tools.offline import stack_config

ALNUM = string.ascii_letters + string.digits
# Fixed "random" runs: a scanner must judge the same value the same way on every run.
RUN = "Xq7Lm2Pz9Rt4Vw8Ks1Nd6Hy3Bc5Fg0Jk"
B64 = "Zm9vYmFyYmF6cXV4" * 5 + "Zm9vYmFyYmF6cXV4Zg=="  # 88 characters, an Azure AccountKey

SECRETS = {
    # (value, kind named in the message)
    "jwt": (
        "eyJ" + "hbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"
        ".eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ"
        ".SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
        "JSON Web Token",
    ),
    "aws access key": ("AK" + "IAIOSFODNN7EXAMPLE", "AWS Access Key"),
    "aws secret key": ("wJalrXUtnFEMI/K7MDENG/" + "bPxRfiCYEXAMPLEKEY", "high-entropy string"),
    "gcp api key": ("AI" + "za" + RUN + "abc", "GCP API Key"),
    "gcp service account": (
        '{"type": "service_account", "private_key": "-----BEGIN '
        + 'PRIVATE KEY-----\\nMIIEvQIBADANBg"}',
        "Private Key",
    ),
    "azure storage": (
        "DefaultEndpointsProtocol=https;AccountName=orders;Account" + f"Key={B64}",
        "Azure Storage Account access key",
    ),
    "azure ad client secret": ("abc8" + "Q~" + RUN + "ab", "Azure AD Client Secret"),
    "github classic": ("gh" + "p_" + RUN + "abcd", "GitHub Token"),
    "github fine-grained": ("github" + "_pat_" + (RUN * 3)[:82], "GitHub Token"),
    "gitlab": ("gl" + "pat-" + RUN[:20], "GitLab Token"),
    "slack bot": ("xo" + "xb-123456789012-1234567890123-" + RUN[:24], "Slack Token"),
    "slack webhook": (
        "https://hooks.slack.com/services/" + "T0123ABCD/B0123ABCD/" + RUN[:24],
        "Slack Token",
    ),
    "stripe": ("sk" + "_live_" + RUN[:24], "Stripe Access Key"),
    "rsa private key": ("-----BEGIN RSA " + "PRIVATE KEY-----\nMIIEpAIBAAKCAQEA", "Private Key"),
    "openssh private key": ("-----BEGIN OPENSSH " + "PRIVATE KEY-----\nb3Bl", "Private Key"),
    "url user and password": (
        "postgres://app:" + "hunter2@db.internal/orders",
        "password in a URL",
    ),
    "url password only": ("https://:" + "s3cr3t@api.example.com", "password in a URL"),
    "redis password only": ("redis://:" + "pw@cache.internal:6379", "password in a URL"),
    "amqp": ("amqp://guest:" + "guest@rabbit:5672/", "password in a URL"),
    "url encoded password": ("https://ops:" + "p%40ss@example.com/x", "password in a URL"),
    "go dsn": ("app:" + "hunter2@tcp(db:3306)/orders", "password in a connection string"),
    "libpq": ("host=db user=app pass" + "word=hunter2", "secret assignment"),
    "presigned url": (
        "https://b.s3.amazonaws.com/a.pdf?X-Amz-Expires=300&X-Amz-" + "Signature=0a1b2c",
        "credential in a URL's query",
    ),
    "sas url": ("https://x.blob.core.windows.net/c?sv=2022-11-02&s" + "ig=AbC%2B", "URL's query"),
    "token in query": ("https://api.example.com/v1?access" + "_token=abc", "URL's query"),
    "hex key": ("5d41402abc4b2a76" + "b9719d911017c592", "high-entropy hex string"),
    "base64 key": ("q9Xz" + RUN + "Yw2=", "high-entropy string"),
}


def config_map(data: dict[str, str]):
    return k8s("ConfigMap", "core/v1", {"data": data})


@pytest.mark.parametrize("kind", sorted(SECRETS))
def test_each_kind_of_secret_in_app_config_is_refused_by_key(kind):
    value, says = SECRETS[kind]
    apps = [{"name": "orders", "config": {"LOG_LEVEL": "info", "UPSTREAM": value}}]
    line = rejected("dev", with_apps("dev", apps), "apps[0].config")
    assert "UPSTREAM (" in line and says in line and "secrets:" in line
    assert "LOG_LEVEL" not in line
    assert value not in line  # the message names the kind, never echoes the value


@pytest.mark.parametrize("kind", sorted(SECRETS))
def test_the_policy_rule_catches_the_same_values(kind):
    value, says = SECRETS[kind]
    violations = list(
        configmap_no_secrets(k8s("ConfigMap", "core/v1", {"data": {"X": value}}), DEV)
    )
    assert len(violations) == 1 and says in violations[0]


def test_key_names_still_decide_on_their_own():
    assert secret_reason("DB_PASSWORD", "") == "named like a secret"
    assert secret_reason("stripeApiKey", "x") == "named like a secret"
    assert secret_reason("LOG_LEVEL", "debug") is None


def test_a_secret_in_a_relaxed_namespace_reason_is_refused():
    apps = [
        {
            "name": "reports",
            "podSecurity": {
                "level": "baseline",
                "reason": "root; key " + SECRETS["github classic"][0],
            },
        }
    ]
    assert "GitHub Token" in rejected("dev", with_apps("dev", apps), "apps[0].podSecurity.reason")


def test_a_secret_in_a_node_label_is_refused():
    values = broken(stack_config("dev"), "nodeGroups.0.labels", {"team": SECRETS["stripe"][0]})
    assert "team (Stripe Access Key" in rejected("dev", values, "nodeGroups[0].labels")


WORDS = st.sampled_from(
    [
        "orders",
        "payments",
        "invoices",
        "catalog",
        "search",
        "reports",
        "eu",
        "west",
        "north",
        "archive",
        "daily",
        "monthly",
        "v1",
        "v2",
        "api",
        "internal",
        "service",
        "public",
        "images",
        "static",
        "uploads",
        "processed",
        "incoming",
        "2024",
        "2025",
        "exports",
        "billing",
        "checkout",
        "cart",
        "users",
        "accounts",
        "region",
        "health",
        "metrics",
    ]
)
LABEL = st.from_regex(r"[a-z][a-z0-9-]{0,14}[a-z0-9]", fullmatch=True)
HOSTS = st.lists(LABEL, min_size=1, max_size=4).map(".".join).map(lambda h: f"{h}.example.com")
PATHS = st.lists(WORDS, max_size=5).map(lambda ws: "".join(f"/{w}" for w in ws))
QUERY_NAMES = st.sampled_from(
    ["retry", "mode", "limit", "region", "sort", "page", "format", "lang", "timeout", "sslmode"]
)
QUERIES = st.lists(st.tuples(QUERY_NAMES, WORDS | st.integers(0, 10_000).map(str)), max_size=4).map(
    lambda ps: ("?" + "&".join(f"{k}={v}" for k, v in ps)) if ps else ""
)
URLS = st.builds(
    lambda scheme, host, port, path, query: f"{scheme}://{host}{port}{path}{query}",
    st.sampled_from(["https", "http", "redis", "postgres", "amqp", "grpc", "nats"]),
    HOSTS,
    st.none().map(lambda _: "") | st.integers(1, 65535).map(lambda p: f":{p}"),
    PATHS,
    QUERIES,
)
ARNS = st.builds(
    lambda service, region, account, kind, name: (
        f"arn:aws:{service}:{region}:{account}:{kind}/{name}"
    ),
    st.sampled_from(["iam", "s3", "sqs", "sns", "kms", "dynamodb", "lambda"]),
    st.sampled_from(["", "eu-west-1", "us-east-1", "ap-southeast-2"]),
    st.from_regex(r"[0-9]{12}", fullmatch=True),
    st.sampled_from(["role", "table", "key", "function", "queue"]),
    st.lists(WORDS, min_size=1, max_size=3).map("-".join),
)
S3_PATHS = st.builds(
    lambda bucket, path: f"s3://{bucket}{path}/", LABEL.map(lambda b: f"example-{b}"), PATHS
)
SEMVER = st.builds(
    lambda a, b, c, pre: f"{a}.{b}.{c}{pre}",
    st.integers(0, 40),
    st.integers(0, 99),
    st.integers(0, 999),
    st.sampled_from(["", "-rc.1", "-beta.2", "+build.5", "-alpha+001"]),
)
DURATIONS = st.builds(
    lambda n, unit: f"{n}{unit}", st.integers(1, 10_000), st.sampled_from(["ms", "s", "m", "h"])
)
ORDINARY = st.one_of(
    URLS,
    HOSTS,
    st.integers(-(10**12), 10**12).map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(str),
    st.sampled_from(["true", "false", "yes", "no", "on", "off", "enabled", "disabled"]),
    DURATIONS,
    st.sampled_from(["trace", "debug", "info", "warn", "warning", "error", "fatal", "DEBUG"]),
    st.lists(WORDS | LABEL, max_size=8).map(",".join),
    st.uuids().map(str),
    st.uuids().map(lambda u: str(u).upper()),
    ARNS,
    S3_PATHS,
    SEMVER,
    st.just(""),
)
ORDINARY_KEYS = st.sampled_from(
    ["LOG_LEVEL", "PAYMENTS_URL", "FEATURE_FLAGS", "CACHE_TTL", "REGION", "TENANT_ID", "BUCKET"]
)


@given(key=ORDINARY_KEYS, value=ORDINARY)
def test_ordinary_settings_pass_config_and_policy(key, value):
    assert secret_reason(key, value) is None
    cfg = load_stack_config(
        {**MINIMAL, "apps": [{"name": "orders", "config": {key: value}}]}, "dev"
    )
    assert cfg.apps[0].config == {key: value.strip()}
    assert not list(configmap_no_secrets(config_map({key: value}), DEV))


@given(
    scheme=st.sampled_from(["https", "redis", "postgres", "mongodb+srv"]),
    user=st.from_regex(r"[a-z]{0,8}", fullmatch=True),
    password=st.text(ALNUM + "%!*-._~", min_size=1, max_size=20),
    host=HOSTS,
    port=st.none().map(lambda _: "") | st.integers(1, 65535).map(lambda p: f":{p}"),
)
def test_any_password_in_a_url_is_refused(scheme, user, password, host, port):
    url = f"{scheme}://{user}:{password}@{host}{port}/x"
    assert looks_secret("UPSTREAM", url)
    with pytest.raises(ConfigError) as failure:
        load_stack_config({**MINIMAL, "apps": [{"name": "a", "config": {"UPSTREAM": url}}]}, "dev")
    assert [key for key, _ in failure.value.problems] == ["apps[0].config"]


@given(key=st.text(max_size=20), value=st.text(max_size=200))
def test_any_text_is_judged_without_error(key, value):
    reason = secret_reason(key, value)
    assert reason is None or isinstance(reason, str)


COMMIT = "3f786850e387550fdab836ed7e6dc881de23001b"


@pytest.mark.parametrize(
    ("key", "value", "secret"),
    [
        ("GIT_SHA", COMMIT, False),
        ("BUILD_COMMIT", COMMIT, False),
        ("IMAGE", f"registry.example.com/orders@sha256:{COMMIT}{COMMIT[:24]}", False),
        ("SHARED_DRIVE", COMMIT, True),
        ("UPSTREAM", COMMIT, True),
    ],
)
def test_hex_digests_pass_where_their_key_or_prefix_says_digest(key, value, secret):
    assert looks_secret(key, value) is secret
