"""R1 and F2: settings outside the image, secrets never in plain text."""

from __future__ import annotations

from collections.abc import Iterator

from design.apps import looks_secret, secret_reason

from .base import (
    ResourceRule,
    Settings,
    StackRule,
    Subject,
    as_list,
    containers,
    pod_spec,
)


def configmap_no_secrets(s: Subject, _: Settings) -> Iterator[str]:
    """R1: settings live in ConfigMaps, secrets never do."""
    if s.type != "kubernetes:core/v1:ConfigMap":
        return
    for key, value in (s.props.get("data") or {}).items():
        if reason := secret_reason(key, str(value)):
            yield (
                f"ConfigMap key {key!r} looks like a secret ({reason}): use a Secret "
                "(External Secrets)"
            )


def env_no_literal_secrets(s: Subject, _: Settings) -> Iterator[str]:
    """R1/F2: a secret-looking variable must come from a Secret, not a literal in the spec."""
    pod = pod_spec(s)
    if pod is None:
        return
    for container in containers(pod):
        for env in as_list(container.get("env")):
            if "value" in env and looks_secret(str(env.get("name", "")), str(env["value"])):
                yield f"container {container.get('name')}: {env.get('name')} is a literal secret"


def no_secret_data(s: Subject, _: Settings) -> Iterator[str]:
    """F2: Secret values never pass through this program (or its state)."""
    if s.type == "kubernetes:core/v1:Secret" and (s.props.get("data") or s.props.get("stringData")):
        yield "a Secret with data: fetch it with External Secrets or commit it sealed"


RESOURCE_RULES: tuple[ResourceRule, ...] = (
    ResourceRule(
        "configmap-no-secrets",
        "R1",
        "ConfigMaps hold settings, never secrets",
        "mandatory",
        configmap_no_secrets,
    ),
    ResourceRule(
        "env-no-literal-secrets",
        "R1",
        "Secret-looking container variables come from Secrets",
        "mandatory",
        env_no_literal_secrets,
    ),
    ResourceRule(
        "no-secret-data",
        "F2",
        "No Secret with data is created by the program",
        "mandatory",
        no_secret_data,
    ),
)

STACK_RULES: tuple[StackRule, ...] = ()
