"""The stand-in kubectl's forms for jobs/storage_policy_reconcile.sh: listing and
patching PersistentVolumes and VolumeSnapshotContents.

State keys, besides those of fake_kube_snapshots.py:
  pvs        [{"name", "storageClassName", "reclaimPolicy", "phase",
               "claimRef": {"namespace", "name"} | null, "volumeHandle", "annotations": {}}]
  volumes    ["volumeHandle", ...]  volumes that exist on the storage system
  contents   also "volumeSnapshotClassName", "volumeHandle" (dynamically provisioned; absent
             for a content made from an existing snapshot), "resourceVersion",
             "deletionTimestamp", "annotations": {}, "labels": {}
  fail_patch_pv   ["pv"]  patch of that PV fails
  race_pvs        [{"name", ...fields}]  applied to those PVs right after a PV listing is
                  served: what changes between a listing and the patches that follow it
  race_contents   [{"name", ...fields}]  the same for a content listing (resourceVersion
                  moves on)
As the PV controller does, a PV that is Released when its reclaimPolicy becomes Delete is
deleted with its volume at once (https://kubernetes.io/docs/concepts/storage/persistent-volumes/
#delete). A JSON patch is applied to the stored object, status included, and fails as a whole
when one of its "test" operations fails (RFC 6902 section 5; kubernetes/kubernetes@00f7534700c0:
staging/src/k8s.io/apiserver/pkg/endpoints/handlers/patch.go, applyPatch and jsonPatcher).

Forms:
  get persistentvolumes -o jsonpath=PV_TEMPLATE
  get volumesnapshotcontents -o jsonpath=CONTENTS_TEMPLATE
  patch persistentvolume NAME --type=merge -p {"spec":{"persistentVolumeReclaimPolicy":"Retain"}}
  patch persistentvolume NAME --type=json -p [test /status/phase Bound,
                                               replace /spec/persistentVolumeReclaimPolicy Delete]
  patch volumesnapshotcontent NAME --type=json -p [test /metadata/resourceVersion RV,
                                                   replace /spec/deletionPolicy POLICY]
"""

from __future__ import annotations

from fake_kube_core import (
    Command,
    KubectlError,
    UnsupportedError,
    bump_version,
    not_found,
    patch_document,
)

PV_TEMPLATE = (
    '{range .items[*]}{.metadata.name}{"\\t"}{.spec.storageClassName}{"\\t"}'
    '{.spec.persistentVolumeReclaimPolicy}{"\\t"}{.status.phase}{"\\t"}'
    '{.spec.claimRef.namespace}{"\\n"}{end}'
)
CONTENTS_TEMPLATE = (
    '{range .items[*]}{.metadata.name}{"\\t"}{.spec.volumeSnapshotClassName}{"\\t"}'
    '{.spec.deletionPolicy}{"\\t"}{.metadata.resourceVersion}{"\\t"}'
    '{.spec.source.volumeHandle}{"\\t"}{.metadata.deletionTimestamp}{"\\t"}'
    '{.metadata.annotations.snapshots\\.eks-config-storage\\.io/pruning}{"\\t"}'
    '{.metadata.labels.velero\\.io/backup-name}{"\\n"}{end}'
)
PV_KIND = "persistentvolumes"
RECLAIM_PATH = "/spec/persistentVolumeReclaimPolicy"
RETAIN_PV = {"spec": {"persistentVolumeReclaimPolicy": "Retain"}}
DELETE_BOUND_PV = [
    {"op": "test", "path": "/status/phase", "value": "Bound"},
    {"op": "replace", "path": RECLAIM_PATH, "value": "Delete"},
]


class PolicyForms:
    state: dict

    def get_pvs(self, cmd: Command, args: list[str]) -> str:
        if args or cmd.require("--output") != f"jsonpath={PV_TEMPLATE}":
            raise UnsupportedError("get persistentvolumes form")
        cmd.done()
        out = "".join(
            f"{pv['name']}\t{pv.get('storageClassName', '')}\t{pv.get('reclaimPolicy', '')}\t"
            f"{pv.get('phase', '')}\t{(pv.get('claimRef') or {}).get('namespace', '')}\n"
            for pv in sorted(self.state["pvs"], key=lambda pv: pv["name"])
        )
        race(self.state, "race_pvs", self.state["pvs"])
        return out

    def get_contents(self, cmd: Command, args: list[str]) -> str:
        if args or cmd.require("--output") != f"jsonpath={CONTENTS_TEMPLATE}":
            raise UnsupportedError("get volumesnapshotcontents form")
        cmd.done()
        rows = []
        for c in sorted(self.state["contents"], key=lambda c: c["name"]):
            fields = (
                c["name"],
                c.get("volumeSnapshotClassName", ""),
                c["deletionPolicy"],
                c.get("resourceVersion", ""),
                c.get("volumeHandle", ""),
                c.get("deletionTimestamp", ""),
                c.get("annotations", {}).get("snapshots.eks-config-storage.io/pruning", ""),
                c.get("labels", {}).get("velero.io/backup-name", ""),
            )
            rows.append("\t".join(fields) + "\n")
        race(self.state, "race_contents", self.state["contents"])
        return "".join(rows)

    def patch_pv(self, cmd: Command, args: list[str]) -> str:
        if len(args) != 1:
            raise UnsupportedError("patch persistentvolume form")
        patch_type = cmd.require("--type")
        patch = patch_document(cmd)
        cmd.done()
        if patch_type == "merge" and patch == RETAIN_PV:
            policy, form = "Retain", "retain"
        elif patch_type == "json" and patch == DELETE_BOUND_PV:
            policy, form = "Delete", "bound"
        elif patch_type == "json" and self.is_drill_release(patch):
            policy, form = "Delete", "drill"
        else:
            raise UnsupportedError(f"patch persistentvolume {patch_type} {patch!r}")
        pv = self.require_pv(args[0])
        if form == "bound":
            json_patch_test(args[0], pv.get("phase"), "Bound", "/status/phase")
        elif form == "drill":
            self.test_drill_release(pv, patch)
        if args[0] in self.state.get("fail_patch_pv", []):
            raise KubectlError(f'Error from server (Forbidden): cannot patch "{args[0]}"')
        pv["reclaimPolicy"] = policy
        bump_version(self.state, pv)
        if policy == "Delete" and pv.get("phase") == "Released":
            self.reclaim(pv)
        return f"persistentvolume/{args[0]} patched\n"

    def reclaim(self, pv: dict) -> None:
        """What the PV controller does to a Released PV whose policy is Delete."""
        self.state["pvs"].remove(pv)
        if pv.get("volumeHandle") in self.state["volumes"]:
            self.state["volumes"].remove(pv["volumeHandle"])

    def patch_content_json(self, name: str, patch: object) -> str:
        if (
            not isinstance(patch, list)
            or len(patch) != 2
            or set(patch[0]) != {"op", "path", "value"}
            or patch[0]["op"] != "test"
            or patch[0]["path"] != "/metadata/resourceVersion"
            or patch[1] != {**patch[1], "op": "replace", "path": "/spec/deletionPolicy"}
            or set(patch[1]) != {"op", "path", "value"}
        ):
            raise UnsupportedError(f"patch volumesnapshotcontent json {patch!r}")
        content = self.require_content(name)
        json_patch_test(
            name, content.get("resourceVersion"), patch[0]["value"], "/metadata/resourceVersion"
        )
        if patch[1]["value"] not in ("Delete", "Retain"):
            raise KubectlError(
                f'The VolumeSnapshotContent "{name}" is invalid: spec.deletionPolicy: '
                f'Unsupported value: "{patch[1]["value"]}"'
            )
        if name in self.state["fail_patch"]:
            raise KubectlError(f'Error from server (Forbidden): cannot patch "{name}"')
        content["deletionPolicy"] = patch[1]["value"]
        bump_version(self.state, content)
        return f"volumesnapshotcontent.snapshot.storage.k8s.io/{name} patched\n"

    def find_pv(self, name: str) -> dict | None:
        return next((pv for pv in self.state["pvs"] if pv["name"] == name), None)

    def require_pv(self, name: str) -> dict:
        pv = self.find_pv(name)
        if pv is None:
            raise not_found(PV_KIND, name)
        return pv


def json_patch_test(name: str, actual: object, expected: object, path: str) -> None:
    if actual != expected:
        raise KubectlError(
            f"The request is invalid: the server rejected our request due to an error in our "
            f'request: "{name}": testing value {path} failed: test failed'
        )


def race(state: dict, key: str, objects: list[dict]) -> None:
    """Apply what changes concurrently, once, just after a listing is served."""
    for change in state.pop(key, []):
        target = next((o for o in objects if o["name"] == change["name"]), None)
        if target is not None:
            target.update({k: v for k, v in change.items() if k != "name"})
            bump_version(state, target)
