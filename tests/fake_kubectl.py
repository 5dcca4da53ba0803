#!/usr/bin/env python3
"""Stand-in kubectl for the snapshot rotation script's tests.

It serves exactly the command forms components/scripts/snapshot_rotate.sh uses,
against a JSON state file, and refuses anything else (exit 3, "fake kubectl:
unsupported: ...") so a change in the script's calls shows up as a failing test.

Environment:
  FAKE_KUBECTL_STATE  JSON state file, read and rewritten on every call:
      {"pvcs": [{"namespace", "name", "labels": {}}],
       "snapshots": [{"namespace", "name", "labels": {}, "creationTimestamp", "pvc",
                      "readyToUse": bool, "annotations": {}, "volumeSnapshotClassName",
                      "boundVolumeSnapshotContentName": str | null}],
       "contents": [{"name", "deletionPolicy": "Delete" | "Retain", "snapshotHandle",
                     "volumeSnapshotRef": {"namespace", "name"}}],
       "physical": ["snapshotHandle", ...],   snapshots that exist on the storage system
       "classes": {"class": "Delete" | "Retain"},  VolumeSnapshotClass deletionPolicy
       "fail_create_for": ["ns/pvc"],     create of a snapshot of that PVC fails
       "never_ready": ["ns/pvc"],         new snapshots of that PVC never become ready
       "fail_delete": ["ns/snapshot"],    delete of that snapshot fails
       "fail_patch": ["content"],         patch of that VolumeSnapshotContent fails
       "list_reversed": bool}             list snapshots in reverse name order
                                          (the API server lists by name; this shows
                                          whether a caller relies on that)
      As the snapshot controller does, creating a snapshot of a class listed in "classes"
      binds it to a new content with the class's deletionPolicy and a new physical
      snapshot (a class not listed leaves it unbound); deleting a snapshot deletes its
      content and physical snapshot only when the content points back at it and its
      deletionPolicy is Delete (kubernetes-csi/external-snapshotter@v8.3.0:
      pkg/common-controller/snapshot_controller.go).
  FAKE_KUBECTL_LOG    every call is appended as a JSON line {"argv": [...]}, plus
                      "stdin" for create
  FAKE_NOW            creationTimestamp of new snapshots (default 2026-11-27T03:00:00Z)

Supported forms (flags in any order, "--flag value" or "--flag=value"):
  get persistentvolumeclaims --all-namespaces -l SEL -o jsonpath=PVC_TEMPLATE
  get volumesnapshots --namespace NS -l SEL -o jsonpath=SNAPSHOT_TEMPLATE
  get persistentvolumeclaims --all-namespaces -l SEL -o jsonpath=LABELLED_TEMPLATE
  get volumesnapshots --all-namespaces -l SEL -o jsonpath=LABELLED_TEMPLATE
  get volumesnapshot --namespace NS NAME -o jsonpath=BOUND_TEMPLATE
  get volumesnapshotcontent NAME -o jsonpath=CONTENT_TEMPLATE
  create -f -                                    (VolumeSnapshot manifest on stdin)
  wait --namespace NS --for=jsonpath={.status.readyToUse}=true --timeout=D volumesnapshot/NAME
  patch volumesnapshotcontent NAME --type=merge -p {"spec":{"deletionPolicy":"Delete"}}
  delete volumesnapshot --namespace NS NAME --wait=false
Selectors: comma-separated terms "k=v", "k==v", "k!=v", "k" and "!k".
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Callable

PVC_TEMPLATE = '{range .items[*]}{.metadata.namespace}{" "}{.metadata.name}{"\\n"}{end}'
SNAPSHOT_TEMPLATE = (
    '{range .items[*]}{.metadata.creationTimestamp}{"\\t"}{.metadata.name}{"\\t"}'
    '{.spec.source.persistentVolumeClaimName}{"\\t"}{.status.readyToUse}{"\\n"}{end}'
)
# Listing across namespaces with the policy label's value; every "." of the key escaped.
LABELLED_TEMPLATE = re.compile(
    r'jsonpath=\{range \.items\[\*\]\}\{\.metadata\.namespace\}\{"\\t"\}'
    r'\{\.metadata\.name\}\{"\\t"\}\{\.metadata\.labels\.((?:[^.{}\\]|\\\.)+)\}'
    r'\{"\\n"\}\{end\}'
)
BOUND_TEMPLATE = "{.status.boundVolumeSnapshotContentName}"
CONTENT_TEMPLATE = (
    '{.spec.volumeSnapshotRef.namespace}{" "}{.spec.volumeSnapshotRef.name}{" "}'
    "{.spec.deletionPolicy}"
)
READY_CONDITION = "jsonpath={.status.readyToUse}=true"
DEFAULT_NOW = "2026-11-27T03:00:00Z"
SNAPSHOT_KIND = "volumesnapshots.snapshot.storage.k8s.io"
CONTENT_KIND = "volumesnapshotcontents.snapshot.storage.k8s.io"
DELETION_POLICIES = ("Delete", "Retain")

DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
LABEL_NAME = re.compile(r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?")
LABEL_VALUE = re.compile(r"([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?")
DURATION = re.compile(r"(\d+(\.\d+)?(ns|us|ms|s|m|h))+")

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
BOOL_FLAGS = {"--all-namespaces": "--all-namespaces", "-A": "--all-namespaces", "--wait": "--wait"}


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


class Fake:
    def __init__(self, state: dict, stdin_text: str | None):
        self.state = state
        self.stdin_text = stdin_text
        for key in (
            "pvcs",
            "snapshots",
            "contents",
            "physical",
            "fail_create_for",
            "never_ready",
            "fail_delete",
            "fail_patch",
        ):
            state.setdefault(key, [])
        state.setdefault("classes", {})

    def run(self, cmd: Command) -> str:
        verb, *rest = cmd.args or [""]
        handlers = {
            ("get", "persistentvolumeclaims"): self.get_pvcs,
            ("get", "volumesnapshots"): self.get_snapshots,
            ("get", "volumesnapshot"): self.get_bound_content,
            ("get", "volumesnapshotcontent"): self.get_content,
            ("create",): self.create,
            ("wait",): self.wait,
            ("patch", "volumesnapshotcontent"): self.patch_content,
            ("delete", "volumesnapshot"): self.delete,
        }
        for form, handler in handlers.items():
            if (verb, *rest[: len(form) - 1]) == form:
                return handler(cmd, rest[len(form) - 1 :])
        raise UnsupportedError(f"command {cmd.args}")

    def get_pvcs(self, cmd: Command, args: list[str]) -> str:
        if args or cmd.require("--all-namespaces") != "true":
            raise UnsupportedError("get persistentvolumeclaims form")
        selected = parse_selector(cmd.require("--selector"))
        output = cmd.require("--output")
        cmd.done()
        pvcs = [p for p in self.state["pvcs"] if selected(p.get("labels", {}))]
        if output != f"jsonpath={PVC_TEMPLATE}":
            return labelled_rows(pvcs, output)
        rows = sorted((p["namespace"], p["name"]) for p in pvcs)
        return "".join(f"{ns} {name}\n" for ns, name in rows)

    def get_snapshots(self, cmd: Command, args: list[str]) -> str:
        if args:
            raise UnsupportedError("get volumesnapshots form")
        if cmd.take("--all-namespaces") == "true":
            selected = parse_selector(cmd.require("--selector"))
            output = cmd.require("--output")
            cmd.done()
            snaps = [s for s in self.state["snapshots"] if selected(s.get("labels", {}))]
            return labelled_rows(snaps, output)
        ns = cmd.require("--namespace")
        selected = parse_selector(cmd.require("--selector"))
        self.require_output(cmd, SNAPSHOT_TEMPLATE)
        cmd.done()
        rows = sorted(
            (
                (s["name"], s["creationTimestamp"], s.get("pvc", ""), s.get("readyToUse"))
                for s in self.state["snapshots"]
                if s["namespace"] == ns and selected(s.get("labels", {}))
            ),
            reverse=bool(self.state.get("list_reversed")),
        )
        # jsonpath prints a missing field as nothing and a boolean as true/false.
        return "".join(
            f"{ts}\t{name}\t{pvc}\t{'' if ready is None else str(ready).lower()}\n"
            for name, ts, pvc, ready in rows
        )

    @staticmethod
    def require_output(cmd: Command, template: str) -> None:
        if cmd.require("--output") != f"jsonpath={template}":
            raise UnsupportedError("output template")

    def create(self, cmd: Command, args: list[str]) -> str:
        if args or cmd.require("--filename") != "-" or self.stdin_text is None:
            raise UnsupportedError("create form")
        cmd.done()
        snap = parse_manifest(self.stdin_text)
        key = f"{snap['namespace']}/{snap['pvc']}"
        if key in self.state["fail_create_for"]:
            raise KubectlError(f'Error from server (Forbidden): cannot create snapshot of "{key}"')
        if self.find(snap["namespace"], snap["name"]):
            raise KubectlError(
                f'Error from server (AlreadyExists): {SNAPSHOT_KIND} "{snap["name"]}" '
                "already exists"
            )
        snap["creationTimestamp"] = os.environ.get("FAKE_NOW", DEFAULT_NOW)
        snap["readyToUse"] = key not in self.state["never_ready"]
        snap["boundVolumeSnapshotContentName"] = self.provision(snap)
        self.state["snapshots"].append(snap)
        return f"volumesnapshot.snapshot.storage.k8s.io/{snap['name']} created\n"

    def wait(self, cmd: Command, args: list[str]) -> str:
        ns = cmd.require("--namespace")
        if cmd.require("--for") != READY_CONDITION:
            raise UnsupportedError("wait condition")
        if not DURATION.fullmatch(cmd.require("--timeout")):
            raise KubectlError("error: invalid argument for --timeout")
        cmd.done()
        if len(args) != 1 or not args[0].startswith("volumesnapshot/"):
            raise UnsupportedError(f"wait target {args}")
        name = args[0].split("/", 1)[1]
        snap = self.find(ns, name)
        if snap is None:
            raise KubectlError(f'Error from server (NotFound): {SNAPSHOT_KIND} "{name}" not found')
        if not snap.get("readyToUse"):
            raise KubectlError(f"error: timed out waiting for the condition on {args[0]}")
        return f"volumesnapshot.snapshot.storage.k8s.io/{name} condition met\n"

    def delete(self, cmd: Command, args: list[str]) -> str:
        ns = cmd.require("--namespace")
        if cmd.require("--wait") != "false" or len(args) != 1:
            raise UnsupportedError("delete form")
        cmd.done()
        name = args[0]
        snap = self.find(ns, name)
        if snap is None:
            raise KubectlError(f'Error from server (NotFound): {SNAPSHOT_KIND} "{name}" not found')
        if f"{ns}/{name}" in self.state["fail_delete"]:
            raise KubectlError(f'Error from server (Forbidden): cannot delete "{ns}/{name}"')
        self.state["snapshots"].remove(snap)
        content = self.find_content(snap.get("boundVolumeSnapshotContentName"))
        if (
            content is not None
            and content["volumeSnapshotRef"] == {"namespace": ns, "name": name}
            and content["deletionPolicy"] == "Delete"
        ):
            self.state["contents"].remove(content)
            if content["snapshotHandle"] in self.state["physical"]:
                self.state["physical"].remove(content["snapshotHandle"])
        return f'volumesnapshot.snapshot.storage.k8s.io "{name}" deleted\n'

    def provision(self, snap: dict) -> str | None:
        """Bind a new snapshot to a new content and physical snapshot, as the controller and
        the CSI driver do; None (unbound) for a class the state does not list."""
        policy = self.state["classes"].get(snap["volumeSnapshotClassName"])
        if policy is None:
            return None
        serial = self.state.get("serial", 0) + 1
        self.state["serial"] = serial
        content = {
            "name": f"snapcontent-{serial:04d}",
            "deletionPolicy": policy,
            "snapshotHandle": f"snap-{serial:04d}",
            "volumeSnapshotRef": {"namespace": snap["namespace"], "name": snap["name"]},
        }
        self.state["contents"].append(content)
        self.state["physical"].append(content["snapshotHandle"])
        return content["name"]

    def get_bound_content(self, cmd: Command, args: list[str]) -> str:
        ns = cmd.require("--namespace")
        if len(args) != 1:
            raise UnsupportedError(f"get volumesnapshot target {args}")
        self.require_output(cmd, BOUND_TEMPLATE)
        cmd.done()
        snap = self.find(ns, args[0])
        if snap is None:
            raise KubectlError(
                f'Error from server (NotFound): {SNAPSHOT_KIND} "{args[0]}" not found'
            )
        return snap.get("boundVolumeSnapshotContentName") or ""

    def get_content(self, cmd: Command, args: list[str]) -> str:
        if len(args) != 1:
            raise UnsupportedError(f"get volumesnapshotcontent target {args}")
        self.require_output(cmd, CONTENT_TEMPLATE)
        cmd.done()
        content = self.require_content(args[0])
        ref = content["volumeSnapshotRef"]
        return f"{ref['namespace']} {ref['name']} {content['deletionPolicy']}"

    def patch_content(self, cmd: Command, args: list[str]) -> str:
        if cmd.require("--type") != "merge" or len(args) != 1:
            raise UnsupportedError("patch form")
        try:
            patch = json.loads(cmd.require("--patch"))
        except json.JSONDecodeError as exc:
            raise KubectlError(f"error: unable to parse the patch: {exc}") from exc
        if (
            not isinstance(patch, dict)
            or set(patch) != {"spec"}
            or set(patch["spec"]) != {"deletionPolicy"}
        ):
            raise UnsupportedError(f"patch {patch!r}")
        cmd.done()
        content = self.require_content(args[0])
        policy = patch["spec"]["deletionPolicy"]
        if policy not in DELETION_POLICIES:
            raise KubectlError(
                f'The VolumeSnapshotContent "{args[0]}" is invalid: spec.deletionPolicy: '
                f'Unsupported value: "{policy}"'
            )
        if args[0] in self.state["fail_patch"]:
            raise KubectlError(f'Error from server (Forbidden): cannot patch "{args[0]}"')
        content["deletionPolicy"] = policy
        return f"volumesnapshotcontent.snapshot.storage.k8s.io/{args[0]} patched\n"

    def find_content(self, name: str | None) -> dict | None:
        return next((c for c in self.state["contents"] if c["name"] == name), None)

    def require_content(self, name: str) -> dict:
        content = self.find_content(name)
        if content is None:
            raise KubectlError(f'Error from server (NotFound): {CONTENT_KIND} "{name}" not found')
        return content

    def find(self, ns: str, name: str) -> dict | None:
        for snap in self.state["snapshots"]:
            if snap["namespace"] == ns and snap["name"] == name:
                return snap
        return None


def labelled_rows(objects: list[dict], output: str) -> str:
    """Rows of namespace, name and label value, tab-separated and sorted as the API server
    lists them, for LABELLED_TEMPLATE with any label key whose dots are escaped."""
    match = LABELLED_TEMPLATE.fullmatch(output)
    if match is None:
        raise UnsupportedError("output template")
    key = match.group(1).replace("\\.", ".")
    rows = sorted((o["namespace"], o["name"], o.get("labels", {}).get(key, "")) for o in objects)
    return "".join(f"{ns}\t{name}\t{value}\n" for ns, name, value in rows)


def parse_manifest(text: str) -> dict:
    """Validate a VolumeSnapshot manifest roughly as the API server would."""
    import yaml  # noqa: PLC0415 - only create needs it, and every call pays for imports

    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise KubectlError(f"error: error parsing STDIN: {exc}") from exc
    if not isinstance(doc, dict):
        raise KubectlError("error: no objects passed to create")
    if doc.get("apiVersion") != "snapshot.storage.k8s.io/v1" or doc.get("kind") != "VolumeSnapshot":
        raise UnsupportedError(f"create of {doc.get('apiVersion')}/{doc.get('kind')}")
    meta = doc.get("metadata") or {}
    spec = doc.get("spec") or {}
    source = spec.get("source") or {}
    name, ns = meta.get("name"), meta.get("namespace")
    pvc = source.get("persistentVolumeClaimName")
    snapshot_class = spec.get("volumeSnapshotClassName")
    for what, value in (
        ("name", name),
        ("namespace", ns),
        ("pvc", pvc),
        ("volumeSnapshotClassName", snapshot_class),
    ):
        if not isinstance(value, str) or not DNS_SUBDOMAIN.fullmatch(value) or len(value) > 253:
            raise KubectlError(f"The VolumeSnapshot is invalid: {what}: Invalid value: {value!r}")
    labels = string_map(meta.get("labels"), "labels")
    for key, value in labels.items():
        if not valid_label_key(key) or not LABEL_VALUE.fullmatch(value) or len(value) > 63:
            raise KubectlError(f"The VolumeSnapshot is invalid: labels: {key}={value}")
    return {
        "namespace": ns,
        "name": name,
        "labels": labels,
        "annotations": string_map(meta.get("annotations"), "annotations"),
        "pvc": pvc,
        "volumeSnapshotClassName": snapshot_class,
    }


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


def main(argv: list[str]) -> int:
    stdin_text = sys.stdin.read() if argv[:1] == ["create"] else None
    entry: dict = {"argv": argv}
    if stdin_text is not None:
        entry["stdin"] = stdin_text
    with open(os.environ["FAKE_KUBECTL_LOG"], "a", encoding="utf-8") as log:
        log.write(json.dumps(entry) + "\n")

    state_path = os.environ["FAKE_KUBECTL_STATE"]
    with open(state_path, encoding="utf-8") as f:
        state = json.load(f)
    try:
        out = Fake(state, stdin_text).run(parse_argv(argv))
    except UnsupportedError as exc:
        print(f"fake kubectl: unsupported: {exc}: {argv}", file=sys.stderr)
        return 3
    except KubectlError as exc:
        print(exc, file=sys.stderr)
        return 1
    tmp = f"{state_path}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(state, f, indent=1)
    os.replace(tmp, state_path)
    sys.stdout.write(out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
