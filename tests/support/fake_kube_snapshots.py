"""The stand-in kubectl's snapshot forms: what jobs/snapshot_rotate.sh calls.

State keys (see fake_kubectl.py for the whole file):
  pvcs       [{"namespace", "name", "labels": {}, "storageClassName"}]
  snapshots  [{"namespace", "name", "labels": {}, "creationTimestamp", "pvc",
               "readyToUse": bool, "annotations": {}, "volumeSnapshotClassName",
               "boundVolumeSnapshotContentName": str | null}]
  contents   [{"name", "deletionPolicy": "Delete" | "Retain", "snapshotHandle",
               "volumeSnapshotRef": {"namespace", "name"}, "annotations": {}}]
  physical   ["snapshotHandle", ...]   snapshots that exist on the storage system
  classes    {"class": "Delete" | "Retain"}  VolumeSnapshotClass deletionPolicy
  fail_create_for ["ns/pvc"]   create of a snapshot of that PVC fails
  never_ready     ["ns/pvc"]   new snapshots of that PVC never become ready
  fail_delete     ["ns/snapshot"]  delete of that snapshot fails
  fail_patch      ["content"]  patch of that VolumeSnapshotContent fails
  list_reversed   bool         list snapshots in reverse name order (the API server lists by
                               name; this shows whether a caller relies on that)
As the snapshot controller does, creating a snapshot of a class listed in "classes" binds it to
a new content with the class's deletionPolicy and a new physical snapshot (a class not listed
leaves it unbound); deleting a snapshot deletes its content and physical snapshot only when the
content points back at it and its deletionPolicy is Delete
(kubernetes-csi/external-snapshotter@v8.3.0: pkg/common-controller/snapshot_controller.go).

Forms (flags in any order, "--flag value" or "--flag=value"):
  get persistentvolumeclaims --all-namespaces -l SEL -o jsonpath=PVC_TEMPLATE
  get persistentvolumeclaims --all-namespaces -o jsonpath=CLASS_TEMPLATE
  get volumesnapshots --namespace NS -l SEL -o jsonpath=SNAPSHOT_TEMPLATE
  get persistentvolumeclaims --all-namespaces -l SEL -o jsonpath=LABELLED_TEMPLATE
  get volumesnapshots --all-namespaces -l SEL -o jsonpath=LABELLED_TEMPLATE | ORPHANS_TEMPLATE
  get volumesnapshot --namespace NS NAME -o jsonpath=BOUND_TEMPLATE
  get volumesnapshotcontent NAME -o jsonpath=CONTENT_TEMPLATE
  create -f -                                    (VolumeSnapshot of a PVC on stdin)
  wait --namespace NS --for=jsonpath={.status.readyToUse}=true --timeout=D volumesnapshot/NAME
  patch volumesnapshotcontent NAME --type=merge -p RELEASE   (RELEASE: one annotation under
      metadata.annotations and spec.deletionPolicy, nothing else)
  delete volumesnapshot --namespace NS NAME --wait=false
Selectors: comma-separated terms "k=v", "k==v", "k!=v", "k" and "!k".
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from fake_kube_core import (
    Command,
    KubectlError,
    UnsupportedError,
    advance_clock,
    bump_version,
    duration_seconds,
    metadata_maps,
    not_found,
    object_name,
    parse_selector,
    patch_document,
    string_map,
)
from fake_kube_drills import SOURCES_TEMPLATE

PVC_TEMPLATE = '{range .items[*]}{.metadata.namespace}{" "}{.metadata.name}{"\\n"}{end}'
CLASS_TEMPLATE = (
    '{range .items[*]}{.metadata.namespace}{" "}{.metadata.name}{" "}'
    '{.spec.storageClassName}{"\\n"}{end}'
)
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
# prune_orphans: every generation of the policy, with the PVC it was taken of.
ORPHANS_TEMPLATE = (
    '{range .items[*]}{.metadata.creationTimestamp}{"\\t"}{.metadata.namespace}{"\\t"}'
    '{.metadata.name}{"\\t"}{.spec.source.persistentVolumeClaimName}{"\\n"}{end}'
)
BOUND_TEMPLATE = "{.status.boundVolumeSnapshotContentName}"
# finish_releases: does a released content's snapshot still exist, bound to it?
EXISTS_TEMPLATE = '{.metadata.name}{" "}{.status.boundVolumeSnapshotContentName}'
CONTENT_TEMPLATE = (
    '{.spec.volumeSnapshotRef.namespace}{" "}{.spec.volumeSnapshotRef.name}{" "}'
    "{.spec.deletionPolicy}"
)
READY_CONDITION = "jsonpath={.status.readyToUse}=true"
DEFAULT_NOW = "2026-11-27T03:00:00Z"
SNAPSHOT_KIND = "volumesnapshots.snapshot.storage.k8s.io"
CONTENT_KIND = "volumesnapshotcontents.snapshot.storage.k8s.io"
DELETION_POLICIES = ("Delete", "Retain")
SNAPSHOT_API = "snapshot.storage.k8s.io/v1"


class SnapshotForms:
    state: dict
    env: Mapping[str, str]

    def get_pvcs(self, cmd: Command, args: list[str]) -> str:
        if args or cmd.require("--all-namespaces") != "true":
            raise UnsupportedError("get persistentvolumeclaims form")
        selector = cmd.take("--selector")
        output = cmd.require("--output")
        cmd.done()
        if selector is None:
            if output != f"jsonpath={CLASS_TEMPLATE}":
                raise UnsupportedError("output template")
            rows = sorted(
                (p["namespace"], p["name"], p.get("storageClassName", ""))
                for p in self.state["pvcs"]
            )
            return "".join(f"{ns} {name} {cls}\n" for ns, name, cls in rows)
        selected = parse_selector(selector)
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
            if output == f"jsonpath={SOURCES_TEMPLATE}":
                return self.source_rows(snaps)
            if output == f"jsonpath={ORPHANS_TEMPLATE}":
                rows = sorted(
                    (s["namespace"], s["name"], s["creationTimestamp"], s["pvc"]) for s in snaps
                )
                return "".join(f"{ts}\t{ns}\t{name}\t{pvc}\n" for ns, name, ts, pvc in rows)
            return labelled_rows(snaps, output)
        ns = cmd.require("--namespace")
        selected = parse_selector(cmd.require("--selector"))
        require_output(cmd, SNAPSHOT_TEMPLATE)
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

    def create_snapshot(self, doc: dict) -> str:
        if "volumeSnapshotContentName" in ((doc.get("spec") or {}).get("source") or {}):
            return self.create_copy(doc)
        snap = parse_snapshot(doc)
        key = f"{snap['namespace']}/{snap['pvc']}"
        if key in self.state["fail_create_for"]:
            raise KubectlError(f'Error from server (Forbidden): cannot create snapshot of "{key}"')
        if self.find(snap["namespace"], snap["name"]):
            raise KubectlError(
                f'Error from server (AlreadyExists): {SNAPSHOT_KIND} "{snap["name"]}" '
                "already exists"
            )
        snap["creationTimestamp"] = self.env.get("FAKE_NOW", DEFAULT_NOW)
        snap["readyToUse"] = key not in self.state["never_ready"]
        snap["boundVolumeSnapshotContentName"] = self.provision(snap)
        self.state["snapshots"].append(snap)
        return f"volumesnapshot.snapshot.storage.k8s.io/{snap['name']} created\n"

    def wait(self, cmd: Command, args: list[str]) -> str:
        ns = cmd.require("--namespace")
        if cmd.require("--for") != READY_CONDITION:
            raise UnsupportedError("wait condition")
        timeout = duration_seconds(cmd.require("--timeout"))
        cmd.done()
        if len(args) != 1 or not args[0].startswith("volumesnapshot/"):
            raise UnsupportedError(f"wait target {args}")
        name = args[0].split("/", 1)[1]
        snap = self.find(ns, name)
        if snap is None:
            raise not_found(SNAPSHOT_KIND, name)
        if not snap.get("readyToUse"):
            advance_clock(timeout, self.env)
            raise KubectlError(f"error: timed out waiting for the condition on {args[0]}")
        return f"volumesnapshot.snapshot.storage.k8s.io/{name} condition met\n"

    def delete_snapshot(self, cmd: Command, args: list[str]) -> str:
        ns = cmd.require("--namespace")
        if cmd.require("--wait") != "false" or len(args) != 1:
            raise UnsupportedError("delete form")
        cmd.done()
        name = args[0]
        snap = self.find(ns, name)
        if snap is None:
            raise not_found(SNAPSHOT_KIND, name)
        if f"{ns}/{name}" in self.state["fail_delete"]:
            raise KubectlError(f'Error from server (Forbidden): cannot delete "{ns}/{name}"')
        self.state["snapshots"].remove(snap)
        content = self.find_content(snap.get("boundVolumeSnapshotContentName"))
        # The controller reads the content from its informer cache: one that had not seen the
        # release yet keeps the content, now bound to nothing (stale_cache: ["ns/name", ...]).
        stale = f"{ns}/{name}" in self.state.get("stale_cache", [])
        if (
            not stale
            and content is not None
            and content["volumeSnapshotRef"] == {"namespace": ns, "name": name}
            and content["deletionPolicy"] == "Delete"
        ):
            self.state["contents"].remove(content)
            self.release_physical(content["snapshotHandle"])
        return f'volumesnapshot.snapshot.storage.k8s.io "{name}" deleted\n'

    def release_physical(self, handle: str) -> None:
        if handle in self.state["physical"]:
            self.state["physical"].remove(handle)

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
            "volumeSnapshotClassName": snap["volumeSnapshotClassName"],
            "volumeHandle": f"vol-{snap['namespace']}-{snap['pvc']}",
        }
        bump_version(self.state, content)
        self.state["contents"].append(content)
        self.state["physical"].append(content["snapshotHandle"])
        return content["name"]

    def get_bound_content(self, cmd: Command, args: list[str]) -> str:
        ns = cmd.require("--namespace")
        if len(args) != 1:
            raise UnsupportedError(f"get volumesnapshot target {args}")
        if cmd.take("--ignore-not-found") == "true":
            require_output(cmd, EXISTS_TEMPLATE)
            cmd.done()
            snap = self.find(ns, args[0])
            if snap is None:
                return ""  # kubectl prints nothing and exits 0
            return f"{snap['name']} {snap.get('boundVolumeSnapshotContentName') or ''}"
        require_output(cmd, BOUND_TEMPLATE)
        cmd.done()
        snap = self.find(ns, args[0])
        if snap is None:
            raise not_found(SNAPSHOT_KIND, args[0])
        return snap.get("boundVolumeSnapshotContentName") or ""

    def get_content(self, cmd: Command, args: list[str]) -> str:
        if len(args) != 1:
            raise UnsupportedError(f"get volumesnapshotcontent target {args}")
        output = cmd.require("--output")
        cmd.done()
        if output != f"jsonpath={CONTENT_TEMPLATE}":
            return self.content_facts(args[0], output)
        content = self.require_content(args[0])
        ref = content["volumeSnapshotRef"]
        return f"{ref['namespace']} {ref['name']} {content['deletionPolicy']}"

    def patch_content(self, cmd: Command, args: list[str]) -> str:
        patch_type = cmd.require("--type")
        if patch_type not in ("merge", "json") or len(args) != 1:
            raise UnsupportedError("patch form")
        patch = patch_document(cmd)
        if patch_type == "json":
            cmd.done()
            return self.patch_content_json(args[0], patch)
        if (
            not isinstance(patch, dict)
            or set(patch) != {"metadata", "spec"}
            or not isinstance(patch["metadata"], dict)
            or set(patch["metadata"]) != {"annotations"}
            or not isinstance(patch["metadata"]["annotations"], dict)
            or len(patch["metadata"]["annotations"]) != 1
            or not isinstance(patch["spec"], dict)
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
        content.setdefault("annotations", {}).update(
            string_map(patch["metadata"]["annotations"], "annotations")
        )
        bump_version(self.state, content)
        return f"volumesnapshotcontent.snapshot.storage.k8s.io/{args[0]} patched\n"

    def find_content(self, name: str | None) -> dict | None:
        return next((c for c in self.state["contents"] if c["name"] == name), None)

    def require_content(self, name: str) -> dict:
        content = self.find_content(name)
        if content is None:
            raise not_found(CONTENT_KIND, name)
        return content

    def find(self, ns: str, name: str) -> dict | None:
        for snap in self.state["snapshots"]:
            if snap["namespace"] == ns and snap["name"] == name:
                return snap
        return None


def require_output(cmd: Command, template: str) -> None:
    if cmd.require("--output") != f"jsonpath={template}":
        raise UnsupportedError("output template")


def labelled_rows(objects: list[dict], output: str) -> str:
    """Rows of namespace, name and label value, tab-separated and sorted as the API server
    lists them, for LABELLED_TEMPLATE with any label key whose dots are escaped."""
    match = LABELLED_TEMPLATE.fullmatch(output)
    if match is None:
        raise UnsupportedError("output template")
    key = match.group(1).replace("\\.", ".")
    rows = sorted((o["namespace"], o["name"], o.get("labels", {}).get(key, "")) for o in objects)
    return "".join(f"{ns}\t{name}\t{value}\n" for ns, name, value in rows)


def parse_snapshot(doc: dict) -> dict:
    """Validate a VolumeSnapshot of a PVC roughly as the API server would."""
    meta = doc.get("metadata") or {}
    spec = doc.get("spec") or {}
    source = spec.get("source") or {}
    kind = "VolumeSnapshot"
    name = object_name(meta.get("name"), "name", kind)
    ns = object_name(meta.get("namespace"), "namespace", kind)
    pvc = object_name(source.get("persistentVolumeClaimName"), "pvc", kind)
    snapshot_class = object_name(
        spec.get("volumeSnapshotClassName"), "volumeSnapshotClassName", kind
    )
    labels, annotations = metadata_maps(meta, kind)
    return {
        "namespace": ns,
        "name": name,
        "labels": labels,
        "annotations": annotations,
        "pvc": pvc,
        "volumeSnapshotClassName": snapshot_class,
    }
