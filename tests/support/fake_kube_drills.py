"""The stand-in kubectl's forms for jobs/restore_drill.sh: finding a snapshot to
restore, the pre-bound copy, cleanup and the record (the restored PVC and the check pod are
served by fake_kube_workloads.py; every form the drill uses is listed here).

State keys, besides those of fake_kube_snapshots.py and fake_kube_policy.py:
  snapshots  also "restoreSize"; a copy has "contentName" (its source) instead of "pvc"
  contents   also "driver"; a copy's has "labels" and no "volumeHandle"
  pvcs       also "capacity", "volumeName", "dataSource" (a VolumeSnapshot name), "size"
  pods       [{"namespace", "name", "claim", "phases": [...]}]
  cronjobs   [{"namespace", "name", "annotations": {}}]
  storage_classes  {"class": "Retain" | "Delete"}  reclaimPolicy of PVs a class provisions
  pod_phases       phases a new check pod reports, one per read, the last one for good
                   (default Pending, Running, Succeeded); a pod whose volume cannot be
                   provisioned stays Pending
  fail_create_kinds  ["Kind", ...]  create of that kind fails
  tamper_copy_policy  the deletionPolicy a copy's content has right after it is made
As the controllers do: a copy is ready when its content points back at it and the physical
snapshot exists; a PVC from a ready copy is provisioned when its pod is created (late binding)
with its class's reclaimPolicy and a new volume; deleting the PVC releases the PV, and a Delete
PV goes with its volume; deleting a content whose policy is Delete deletes its physical snapshot
(kubernetes-csi/external-snapshotter@v8.3.0: pkg/sidecar-controller/snapshot_controller.go).

Forms:
  get volumesnapshots --all-namespaces -l SEL -o jsonpath=SOURCES_TEMPLATE
  get volumesnapshotcontent NAME -o jsonpath=HANDLE_TEMPLATE | POLICY_TEMPLATE
  get persistentvolumeclaim --namespace NS NAME -o jsonpath=CLAIM_TEMPLATE | VOLUME_TEMPLATE
  get pod --namespace NS NAME -o jsonpath={.status.phase}
  create -f -   (VolumeSnapshotContent of a snapshotHandle, VolumeSnapshot of a content,
                 PersistentVolumeClaim from a VolumeSnapshot, Pod)
  delete pod|persistentvolumeclaim --namespace NS NAME --wait=false
  delete volumesnapshotcontent NAME --wait=false
  patch persistentvolume NAME --type=json -p [test claimRef namespace, test claimRef name,
                                              replace reclaimPolicy Delete]
  patch cronjob --namespace NS NAME --type=merge -p {"metadata":{"annotations":{K: V}}}
"""

from __future__ import annotations

from fake_kube_core import (
    Command,
    KubectlError,
    UnsupportedError,
    bump_version,
    metadata_maps,
    not_found,
    object_name,
    patch_document,
)

SOURCES_TEMPLATE = (
    '{range .items[*]}{.metadata.creationTimestamp}{"\\t"}{.metadata.namespace}{"\\t"}'
    '{.metadata.name}{"\\t"}{.status.readyToUse}{"\\t"}{.status.boundVolumeSnapshotContentName}'
    '{"\\t"}{.spec.source.persistentVolumeClaimName}{"\\t"}{.status.restoreSize}{"\\t"}'
    '{.spec.volumeSnapshotClassName}{"\\n"}{end}'
)
HANDLE_TEMPLATE = (
    '{.status.snapshotHandle}{"\\t"}{.spec.driver}{"\\t"}{.spec.volumeSnapshotRef.namespace}'
    '{"\\t"}{.spec.volumeSnapshotRef.name}'
)
POLICY_TEMPLATE = "{.spec.deletionPolicy}"
CRONJOB_KIND = "cronjobs.batch"
RECLAIM = "/spec/persistentVolumeReclaimPolicy"


def _tsv(*values: object) -> str:
    return "\t".join(
        "" if v is None else str(v).lower() if isinstance(v, bool) else str(v) for v in values
    )


class DrillForms:
    state: dict

    # ------------------------------------------------------------------ reads

    def source_rows(self, snaps: list[dict]) -> str:
        rows = sorted(snaps, key=lambda s: (s["namespace"], s["name"]))
        return "".join(
            _tsv(
                s.get("creationTimestamp"),
                s["namespace"],
                s["name"],
                s.get("readyToUse"),
                s.get("boundVolumeSnapshotContentName"),
                s.get("pvc"),
                s.get("restoreSize"),
                s.get("volumeSnapshotClassName"),
            )
            + "\n"
            for s in rows
        )

    def content_facts(self, name: str, output: str) -> str:
        if output not in (f"jsonpath={HANDLE_TEMPLATE}", f"jsonpath={POLICY_TEMPLATE}"):
            raise UnsupportedError("output template")
        content = self.require_content(name)
        if output == f"jsonpath={HANDLE_TEMPLATE}":
            ref = content["volumeSnapshotRef"]
            return _tsv(
                content["snapshotHandle"], content.get("driver"), ref["namespace"], ref["name"]
            )
        return content["deletionPolicy"]

    # ---------------------------------------------------------------- creates

    def create_copy_content(self, doc: dict) -> str:
        meta, spec = doc.get("metadata") or {}, doc.get("spec") or {}
        kind = "VolumeSnapshotContent"
        name = object_name(meta.get("name"), "name", kind)
        labels, annotations = metadata_maps(meta, kind)
        source, ref = spec.get("source") or {}, spec.get("volumeSnapshotRef") or {}
        if set(source) != {"snapshotHandle"} or set(ref) != {"name", "namespace"}:
            raise UnsupportedError(f"create of content {spec!r}")
        if spec.get("deletionPolicy") not in ("Delete", "Retain"):
            raise KubectlError(f"The {kind} is invalid: spec.deletionPolicy: Unsupported value")
        self.refuse_create(kind)
        if self.find_content(name):
            raise KubectlError(f'Error from server (AlreadyExists): "{name}" already exists')
        content = {
            "name": name,
            "deletionPolicy": spec["deletionPolicy"],
            "snapshotHandle": str(source["snapshotHandle"]),
            "driver": object_name(spec.get("driver"), "driver", kind),
            "volumeSnapshotRef": {
                "namespace": object_name(ref["namespace"], "namespace", kind),
                "name": object_name(ref["name"], "name", kind),
            },
            "labels": labels,
            "annotations": annotations,
        }
        if "volumeSnapshotClassName" in spec:
            content["volumeSnapshotClassName"] = spec["volumeSnapshotClassName"]
        # Someone (a person, a controller) changing the copy's policy right after it is made.
        content["deletionPolicy"] = self.state.get("tamper_copy_policy", content["deletionPolicy"])
        bump_version(self.state, content)
        self.state["contents"].append(content)
        return f"volumesnapshotcontent.snapshot.storage.k8s.io/{name} created\n"

    def create_copy(self, doc: dict) -> str:
        meta, spec = doc.get("metadata") or {}, doc.get("spec") or {}
        kind = "VolumeSnapshot"
        name = object_name(meta.get("name"), "name", kind)
        ns = object_name(meta.get("namespace"), "namespace", kind)
        labels, annotations = metadata_maps(meta, kind)
        source = spec.get("source") or {}
        if set(source) != {"volumeSnapshotContentName"}:
            raise UnsupportedError(f"create of snapshot {spec!r}")
        self.refuse_create(kind)
        if self.find(ns, name):
            raise KubectlError(f'Error from server (AlreadyExists): "{name}" already exists')
        content_name = source["volumeSnapshotContentName"]
        content = self.find_content(content_name)
        bound = content is not None and content["volumeSnapshotRef"] == {
            "namespace": ns,
            "name": name,
        }
        self.state["snapshots"].append(
            {
                "namespace": ns,
                "name": name,
                "labels": labels,
                "annotations": annotations,
                "contentName": content_name,
                "volumeSnapshotClassName": spec.get("volumeSnapshotClassName"),
                "boundVolumeSnapshotContentName": content_name if bound else None,
                "readyToUse": bound and content["snapshotHandle"] in self.state["physical"],
            }
        )
        return f"volumesnapshot.snapshot.storage.k8s.io/{name} created\n"

    def refuse_create(self, kind: str) -> None:
        if kind in self.state.get("fail_create_kinds", []):
            raise KubectlError(f"Error from server (Forbidden): cannot create {kind}")

    # ---------------------------------------------------------------- deletes

    def delete_content(self, cmd: Command, args: list[str]) -> str:
        if cmd.require("--wait") != "false" or len(args) != 1:
            raise UnsupportedError("delete volumesnapshotcontent form")
        ignore_missing = cmd.take("--ignore-not-found") == "true"
        cmd.done()
        if args[0] in self.state.get("fail_delete_content", []):
            raise KubectlError(f'Error from server (Forbidden): cannot delete "{args[0]}"')
        if ignore_missing and self.find_content(args[0]) is None:
            return ""
        content = self.require_content(args[0])
        self.state["contents"].remove(content)
        if content["deletionPolicy"] == "Delete":
            self.release_physical(content["snapshotHandle"])
        return f'volumesnapshotcontent.snapshot.storage.k8s.io "{args[0]}" deleted\n'

    # ---------------------------------------------------------------- patches

    @staticmethod
    def is_drill_release(patch: object) -> bool:
        return (
            isinstance(patch, list)
            and len(patch) == 3
            and [(op.get("op"), op.get("path")) for op in patch]
            == [
                ("test", "/spec/claimRef/namespace"),
                ("test", "/spec/claimRef/name"),
                ("replace", RECLAIM),
            ]
            and patch[2].get("value") == "Delete"
        )

    @staticmethod
    def test_drill_release(pv: dict, patch: list) -> None:
        claim = pv.get("claimRef") or {}
        for op, field in zip(patch[:2], ("namespace", "name"), strict=True):
            if claim.get(field) != op.get("value"):
                raise KubectlError(
                    f'The request is invalid: "{pv["name"]}": testing value {op["path"]} failed'
                )

    def patch_cronjob(self, cmd: Command, args: list[str]) -> str:
        ns = cmd.require("--namespace")
        if cmd.require("--type") != "merge" or len(args) != 1:
            raise UnsupportedError("patch cronjob form")
        patch = patch_document(cmd)
        cmd.done()
        annotations = (
            (patch.get("metadata") or {}).get("annotations") if isinstance(patch, dict) else None
        )
        if (
            set(patch) != {"metadata"}
            or set(patch["metadata"]) != {"annotations"}
            or len(annotations) != 1
        ):
            raise UnsupportedError(f"patch cronjob {patch!r}")
        job = self.find_in("cronjobs", ns, args[0])
        if job is None:
            raise not_found(CRONJOB_KIND, args[0])
        job.setdefault("annotations", {}).update(annotations)
        return f"cronjob.batch/{args[0]} patched\n"

    # ---------------------------------------------------------------- lookups

    def find_in(self, key: str, ns: str, name: str) -> dict | None:
        return next((o for o in self.state[key] if (o["namespace"], o["name"]) == (ns, name)), None)
