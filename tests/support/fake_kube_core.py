"""What every concern of the stand-in kubectl shares: errors, argv and selector parsing, name
checks, manifest parsing, and the simulated clock.

A plain module, imported by fake_kubectl.py (run as a script, so this directory is first
on sys.path) and never by the tests: every call of the stand-in is a new Python process, and
each import costs milliseconds the script's tests pay thousands of times.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping

DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
LABEL_NAME = re.compile(r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?")
LABEL_VALUE = re.compile(r"([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?")
DURATION = re.compile(r"(\d+(\.\d+)?(ns|us|ms|s|m|h))+")
DURATION_UNITS = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}

# Flags taking a value, mapped to their canonical name.
VALUE_FLAGS = {
    "--namespace": "--namespace",
    "-n": "--namespace",
    "--selector": "--selector",
    "-l": "--selector",
    "--output": "--output",
    "-o": "--output",
    "--filename": "--filename",
    "-f": "--filename",
    "--for": "--for",
    "--timeout": "--timeout",
    "--type": "--type",
    "--patch": "--patch",
    "-p": "--patch",
}
# Boolean flags: bare means true, a value only as "--flag=value".
BOOL_FLAGS = {
    "--all-namespaces": "--all-namespaces",
    "-A": "--all-namespaces",
    "--wait": "--wait",
    "--ignore-not-found": "--ignore-not-found",
}


class KubectlError(Exception):
    """A failure real kubectl would report: message on stderr, exit status 1."""


class UnsupportedError(Exception):
    """A command form the fake does not know: exit status 3."""


class Command:
    # A plain class, not a dataclass: importing dataclasses (and inspect) would add about 12 ms
    # to every call, and the script's tests make thousands of calls.
    def __init__(self) -> None:
        self.args: list[str] = []
        self.flags: dict[str, str] = {}

    def take(self, name: str) -> str | None:
        return self.flags.pop(name, None)

    def require(self, name: str) -> str:
        value = self.take(name)
        if value is None:
            raise UnsupportedError(f"missing {name}")
        return value

    def done(self) -> None:
        if self.flags:
            raise UnsupportedError(f"unexpected flags {sorted(self.flags)}")


def parse_argv(argv: list[str]) -> Command:
    cmd = Command()
    it = iter(argv)
    for arg in it:
        name, eq, inline = arg.partition("=")
        if name in BOOL_FLAGS:
            canonical, value = BOOL_FLAGS[name], inline if eq else "true"
        elif name in VALUE_FLAGS:
            canonical = VALUE_FLAGS[name]
            value = inline if eq else next(it, None)
            if value is None:
                raise UnsupportedError(f"flag {name} without a value")
        elif arg.startswith("-") and arg != "-":
            raise UnsupportedError(f"flag {arg}")
        else:
            cmd.args.append(arg)
            continue
        if canonical in cmd.flags:
            raise UnsupportedError(f"repeated flag {name}")
        cmd.flags[canonical] = value
    return cmd


def parse_selector(selector: str) -> Callable[[dict[str, str]], bool]:
    """A predicate on labels for comma-separated k=v, k==v, k!=v, k and !k terms."""
    tests = []
    for raw in selector.split(","):
        term = raw.strip()
        if not term or any(c in term for c in "() "):
            raise UnsupportedError(f"selector {selector!r}")
        if "!=" in term:
            key, value = term.split("!=", 1)
            tests.append(lambda labels, k=key, v=value: labels.get(k) != v)
        elif "=" in term:
            key, value = re.split("==?", term, maxsplit=1)
            tests.append(lambda labels, k=key, v=value: labels.get(k) == v)
        elif term.startswith("!"):
            tests.append(lambda labels, k=term[1:]: k not in labels)
        else:
            tests.append(lambda labels, k=term: k in labels)
    return lambda labels: all(test(labels) for test in tests)


def not_found(kind: str, name: str) -> KubectlError:
    return KubectlError(f'Error from server (NotFound): {kind} "{name}" not found')


def string_map(value: object, what: str) -> dict[str, str]:
    value = value or {}
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise KubectlError(f"error: {what} must map strings to strings: {value!r}")
    return value


def valid_label_key(key: str) -> bool:
    prefix, _, name = key.rpartition("/")
    if prefix and (not DNS_SUBDOMAIN.fullmatch(prefix) or len(prefix) > 253):
        return False
    return bool(LABEL_NAME.fullmatch(name)) and len(name) <= 63


def object_name(value: object, what: str, kind: str) -> str:
    if not isinstance(value, str) or not DNS_SUBDOMAIN.fullmatch(value) or len(value) > 253:
        raise KubectlError(f"The {kind} is invalid: {what}: Invalid value: {value!r}")
    return value


def metadata_maps(meta: dict, kind: str) -> tuple[dict[str, str], dict[str, str]]:
    """Labels and annotations of a manifest, labels checked as the API server does."""
    labels = string_map(meta.get("labels"), "labels")
    for key, value in labels.items():
        if not valid_label_key(key) or not LABEL_VALUE.fullmatch(value) or len(value) > 63:
            raise KubectlError(f"The {kind} is invalid: labels: {key}={value}")
    annotations = string_map(meta.get("annotations"), "annotations")
    if not all(valid_label_key(key) for key in annotations):
        raise KubectlError(f"The {kind} is invalid: annotations: {sorted(annotations)}")
    return labels, annotations


def load_manifest(text: str) -> dict:
    # The stand-in runs without site (python -S: 4 ms less per call); only create needs a
    # third-party module, so only create pays for site-packages.
    import site  # noqa: PLC0415

    site.main()
    import yaml  # noqa: PLC0415

    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise KubectlError(f"error: error parsing STDIN: {exc}") from exc
    if not isinstance(doc, dict):
        raise KubectlError("error: no objects passed to create")
    return doc


def duration_seconds(text: str) -> float:
    if not DURATION.fullmatch(text):
        raise KubectlError("error: invalid argument for --timeout")
    return sum(
        float(n) * DURATION_UNITS[unit]
        for n, _, unit in re.findall(r"(\d+(\.\d+)?)(ns|us|ms|s|m|h)", text)
    )


def advance_clock(seconds: float, env: Mapping[str, str]) -> None:
    """Let simulated time pass, as a wait that runs into its timeout would: the harness's
    ``date`` reads FAKE_CLOCK (seconds since the epoch) when it is set."""
    path = env.get("FAKE_CLOCK")
    if not path:
        return
    with open(path, encoding="utf-8") as f:
        now = int(f.read().strip())
    with open(path, "w", encoding="utf-8") as f:
        f.write(f"{now + int(seconds)}\n")


def bump_version(state: dict, obj: dict) -> None:
    """A new resourceVersion, as every write gets from the API server."""
    state["resource_version"] = state.get("resource_version", 1000) + 1
    obj["resourceVersion"] = str(state["resource_version"])


def patch_document(cmd: Command) -> object:
    try:
        return json.loads(cmd.require("--patch"))
    except json.JSONDecodeError as exc:
        raise KubectlError(f"error: unable to parse the patch: {exc}") from exc
