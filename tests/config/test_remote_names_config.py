"""Remote secret and parameter names are relative to the environment's prefix and within what
AWS accepts; each refusal names its key and the program registers nothing."""

from __future__ import annotations

import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from config import ConfigError, load_stack_config
from config.remote_names import (
    KNOWN_ENVIRONMENTS,
    PARAMETER_ARN_BEFORE_NAME,
    name_problem,
)
from design.apps import external_secret_spec
from tests.support.plan_helpers import rejected
from tests.support.stack_values import MINIMAL, with_apps

SECRET = st.text(string.ascii_letters + string.digits + "_+=.@-", min_size=1, max_size=20)
PARAMETER = st.text(string.ascii_letters + string.digits + "_.-", min_size=1, max_size=20)


def ordinary(segment: str) -> bool:
    return segment not in (".", "..") and segment.lower() not in KNOWN_ENVIRONMENTS


@given(segments=st.lists(SECRET.filter(ordinary), min_size=1, max_size=8))
def test_any_secret_name_aws_accepts_is_accepted(segments):
    assert name_problem("/".join(segments), "secret") is None


@given(segments=st.lists(PARAMETER.filter(ordinary), min_size=1, max_size=14))
def test_any_parameter_name_aws_accepts_is_accepted(segments):
    assert name_problem("/".join(segments), "parameter") is None


@given(name=st.text(min_size=1, max_size=30), store=st.sampled_from(["secret", "parameter"]))
def test_a_name_is_accepted_only_with_aws_characters_and_real_segments(name, store):
    allowed = string.ascii_letters + string.digits + "/_.-" + ("+=@" if store == "secret" else "")
    segments = name.split("/")
    if name_problem(name, store) is None:
        assert set(name) <= set(allowed)
        assert all(segments) and not set(segments) & {".", ".."}
        assert segments[0].lower() not in KNOWN_ENVIRONMENTS


def app(**fields) -> list[dict]:
    return [{"name": "orders", **fields}]


BAD_NAMES = [
    # (apps, key named, what the message says)
    (
        app(secrets=[{"key": "A", "secretsManager": "/orders/db"}]),
        "secrets[0].secretsManager",
        "the program adds '<environment>/' itself; write 'orders/db'",
    ),
    (
        app(secrets=[{"key": "A", "parameter": "/orders/token"}]),
        "secrets[0].parameter",
        "the program adds '/<environment>/' itself",
    ),
    (
        app(secrets=[{"key": "A", "secretsManager": "prod/orders/db"}]),
        "secrets[0].secretsManager",
        "starts with the environment name 'prod'",
    ),
    (
        app(secrets=[{"key": "A", "secretsManager": "dev/orders/db"}]),
        "secrets[0].secretsManager",
        "write 'orders/db'",
    ),
    (app(aws={"parameters": ["Staging/limits"]}), "aws.parameters[0]", "'Staging'"),
    (app(aws={"parameters": ["orders/a+b"]}), "aws.parameters[0]", "'+' not allowed"),
    (app(aws={"parameters": ["orders@v2"]}), "aws.parameters[0]", "'@' not allowed"),
    (app(aws={"secretsManager": ["orders db"]}), "aws.secretsManager[0]", "' ' not allowed"),
    (app(aws={"secretsManager": ["orders//db"]}), "aws.secretsManager[0]", "empty segment"),
    (app(aws={"secretsManager": ["orders/db/"]}), "aws.secretsManager[0]", "empty segment"),
    (app(aws={"secretsManager": ["orders/../billing"]}), "aws.secretsManager[0]", "'..'"),
    (
        app(aws={"parameters": ["/".join("abcdefghijklmno")]}),
        "aws.parameters[0]",
        "16 levels with the environment's: Parameter Store allows 15",
    ),
    (
        app(aws={"secretsManager": ["o" * 509]}),
        "aws.secretsManager[0]",
        "513 characters with the environment's prefix: AWS allows 512",
    ),
]


@pytest.mark.parametrize(("apps", "named", "says"), BAD_NAMES)
def test_bad_remote_names_are_refused_by_key(apps, named, says):
    assert says in rejected("dev", with_apps("dev", apps), f"apps[0].{named}")


def test_lengths_count_the_prefix_at_the_limit():
    longest_secret = "o" * (512 - len("dev/"))
    longest_parameter = "o" * (1011 - PARAMETER_ARN_BEFORE_NAME - len("/dev/"))
    ok = app(aws={"secretsManager": [longest_secret], "parameters": [longest_parameter]})
    assert load_stack_config({**MINIMAL, "apps": ok}, "dev").apps[0].aws.parameters
    too_long = app(
        aws={"secretsManager": [longest_secret + "o"], "parameters": [longest_parameter + "o"]}
    )
    with pytest.raises(ConfigError) as failure:
        load_stack_config({**MINIMAL, "apps": too_long}, "dev")
    assert [key for key, _ in failure.value.problems] == [
        "apps[0].aws.secretsManager[0]",
        "apps[0].aws.parameters[0]",
    ]


def test_a_custom_environment_name_is_also_a_prefix_the_program_adds():
    apps = app(secrets=[{"key": "A", "parameter": "blue/orders/token"}])
    with pytest.raises(ConfigError) as failure:
        load_stack_config({**MINIMAL, "environment": "blue", "apps": apps}, "blue")
    ((key, message),) = failure.value.problems
    assert key == "apps[0].secrets[0].parameter" and "'blue'" in message


def test_an_environment_named_like_a_reserved_parameter_prefix_is_refused_for_parameters():
    apps = app(aws={"parameters": ["orders/limits"], "secretsManager": ["orders/db"]})
    with pytest.raises(ConfigError) as failure:
        load_stack_config({**MINIMAL, "environment": "ssm-lab", "apps": apps}, "ssm-lab")
    assert [key for key, _ in failure.value.problems] == ["apps[0].aws.parameters[0]"]


def test_accepted_names_are_the_remote_names_external_secrets_reads():
    spec = external_secret_spec(
        app="orders",
        refresh_interval="1h",
        secrets_manager_store="sm",
        parameter_store="ps",
        items=[("A", "secretsManager", "orders/db", None), ("B", "parameter", "orders/t", None)],
        environment="dev",
    )
    assert [d["remoteRef"]["key"] for d in spec["data"]] == ["dev/orders/db", "/dev/orders/t"]
