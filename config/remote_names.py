"""Names of Secrets Manager secrets and Parameter Store parameters, as written in app config.

They are relative: the program puts every name under the environment's prefix, the secret
``<environment>/<name>`` and the parameter ``/<environment>/<name>`` (design.apps), so that an
app's role and the External Secrets stores read one environment only. What AWS accepts:

- Secrets Manager: ASCII letters, digits and ``/_+=.@-``, at most 512 characters
  (https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_CreateSecret.html, Name).
- Parameter Store: ``a-zA-Z0-9_.-`` with ``/`` between hierarchy levels, at most fifteen levels,
  at most 1011 characters counting the ARN before the name, and no name beginning with ``aws``
  or ``ssm``
  (https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_PutParameter.html, Name).

Checks that need the stack's environment (its own name as a prefix, lengths with the prefix)
are rules (config.rules.apps); the rest run here, with the structure.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator

SECRET_CHARACTERS = re.compile(r"[A-Za-z0-9/_+=.@-]")
PARAMETER_CHARACTERS = re.compile(r"[A-Za-z0-9/_.-]")
SECRET_NAME_MAX = 512
PARAMETER_NAME_MAX = 1011
PARAMETER_LEVELS_MAX = 15
# The ARN before a parameter's name counts against its 1011 characters: the longest partition
# and a long region name, so the limit holds in any account.
PARAMETER_ARN_BEFORE_NAME = len("arn:aws-iso-b:ssm:ap-southeast-5:123456789012:parameter")
RESERVED_PARAMETER_PREFIXES = ("aws", "ssm")
# Names a stack is commonly called: a remote name starting with one reads as another
# environment's secret, which the environment's own prefix then hides.
KNOWN_ENVIRONMENTS = frozenset(
    {
        "dev",
        "development",
        "test",
        "testing",
        "qa",
        "uat",
        "stage",
        "staging",
        "preprod",
        "pre-prod",
        "prod",
        "production",
        "sandbox",
    }
)


def prefix_hint(store: str) -> str:
    prefix = "<environment>/" if store == "secret" else "/<environment>/"
    return f"the program adds {prefix!r} itself"


def name_problem(name: str, store: str) -> str | None:
    """Why ``name`` (relative to the environment) cannot name a ``store`` item, or None.

    ``store`` is ``"secret"`` (Secrets Manager) or ``"parameter"`` (Parameter Store)."""
    if not name:
        return "empty name"
    if name.startswith("/"):
        return f"starts with '/': {prefix_hint(store)}; write {name.lstrip('/')!r}"
    allowed, shown = (
        (SECRET_CHARACTERS, "letters, digits and /_+=.@-")
        if store == "secret"
        else (PARAMETER_CHARACTERS, "letters, digits and /_.-")
    )
    if bad := sorted({c for c in name if not allowed.fullmatch(c)}):
        return f"{''.join(bad)!r} not allowed: a {store} name takes {shown}"
    return _segments_problem(name, store)


def _segments_problem(name: str, store: str) -> str | None:
    segments = name.split("/")
    if "" in segments:
        return "empty segment ('//' or a trailing '/')"
    if any(s in (".", "..") for s in segments):
        return "'.' and '..' segments: remote names are not paths to resolve"
    if segments[0].lower() in KNOWN_ENVIRONMENTS:
        return environment_prefix_problem(name, store)
    if store == "parameter" and len(segments) + 1 > PARAMETER_LEVELS_MAX:
        return (
            f"{len(segments) + 1} levels with the environment's: Parameter Store allows "
            f"{PARAMETER_LEVELS_MAX}"
        )
    return None


def environment_prefix_problem(name: str, store: str) -> str:
    first, _, rest = name.partition("/")
    return (
        f"starts with the environment name {first!r}: {prefix_hint(store)}, so this would name "
        f"'<environment>/{name}'; write {rest or '<name>'!r}"
    )


def full_length_problem(name: str, store: str, environment: str) -> str | None:
    """The length AWS counts, once the environment's prefix is added."""
    if store == "secret":
        length, limit = len(f"{environment}/{name}"), SECRET_NAME_MAX
    else:
        length = PARAMETER_ARN_BEFORE_NAME + len(f"/{environment}/{name}")
        limit = PARAMETER_NAME_MAX
    if length > limit:
        return f"{length} characters with the environment's prefix: AWS allows {limit}"
    return None


def _checked(store: str):
    def check(name: str) -> str:
        if problem := name_problem(name, store):
            raise ValueError(problem)
        return name

    return check


SecretName = Annotated[str, AfterValidator(_checked("secret"))]
"""A Secrets Manager secret's name under ``<environment>/``."""
ParameterName = Annotated[str, AfterValidator(_checked("parameter"))]
"""A Parameter Store parameter's name under ``/<environment>/``."""
