"""The stand-in kubectl's workload forms for jobs/restore_drill.sh: the PVC restored
from a copy, the check pod, and their deletion (state keys and forms: fake_kube_drills.py).

As the controllers do: a PVC from a ready copy is provisioned when its pod is created (late
binding) with its class's reclaimPolicy and a new volume; a pod whose volume cannot be
provisioned stays Pending; deleting the PVC releases the PV, and a Delete PV goes with its
volume (https://kubernetes.io/docs/concepts/storage/persistent-volumes/#reclaiming).
"""

from __future__ import annotations

from fake_kube_core import (
    Command,
    KubectlError,
    UnsupportedError,
    metadata_maps,
    not_found,
    object_name,
)

CLAIM_TEMPLATE = '{.spec.storageClassName}{"\\t"}{.status.capacity.storage}'
VOLUME_TEMPLATE = "{.spec.volumeName}"
PHASE_TEMPLATE = "{.status.phase}"
DEFAULT_PHASES = ["Pending", "Running", "Succeeded"]
PVC_KIND = "persistentvolumeclaims"
POD_KIND = "pods"


def _tsv(*values: object) -> str:
    return "\t".join("" if v is None else str(v) for v in values)


class WorkloadForms:
    state: dict

    def get_claim(self, cmd: Command, args: list[str]) -> str:
        ns = cmd.require("--namespace")
        output = cmd.require("--output")
        cmd.done()
        if len(args) != 1:
            raise UnsupportedError(f"get persistentvolumeclaim target {args}")
        if output not in (f"jsonpath={CLAIM_TEMPLATE}", f"jsonpath={VOLUME_TEMPLATE}"):
            raise UnsupportedError("output template")
        claim = self.require_claim(ns, args[0])
        if output == f"jsonpath={CLAIM_TEMPLATE}":
            return _tsv(claim.get("storageClassName"), claim.get("capacity"))
        return claim.get("volumeName") or ""

    def get_pod(self, cmd: Command, args: list[str]) -> str:
        ns = cmd.require("--namespace")
        if cmd.require("--output") != f"jsonpath={PHASE_TEMPLATE}" or len(args) != 1:
            raise UnsupportedError("get pod form")
        cmd.done()
        pod = self.find_in("pods", ns, args[0])
        if pod is None:
            raise not_found(POD_KIND, args[0])
        phases = pod["phases"]
        return phases.pop(0) if len(phases) > 1 else phases[0]

    def create_claim(self, doc: dict) -> str:
        meta, spec = doc.get("metadata") or {}, doc.get("spec") or {}
        kind = "PersistentVolumeClaim"
        name = object_name(meta.get("name"), "name", kind)
        ns = object_name(meta.get("namespace"), "namespace", kind)
        labels, annotations = metadata_maps(meta, kind)
        source = spec.get("dataSource") or {}
        if (source.get("apiGroup"), source.get("kind")) != (
            "snapshot.storage.k8s.io",
            "VolumeSnapshot",
        ):
            raise UnsupportedError(f"create of claim {spec!r}")
        self.refuse_create(kind)
        if self.find_in("pvcs", ns, name):
            raise KubectlError(f'Error from server (AlreadyExists): "{name}" already exists')
        self.state["pvcs"].append(
            {
                "namespace": ns,
                "name": name,
                "labels": labels,
                "annotations": annotations,
                "storageClassName": object_name(spec.get("storageClassName"), "class", kind),
                "size": spec["resources"]["requests"]["storage"],
                "dataSource": object_name(source.get("name"), "dataSource", kind),
            }
        )
        return f"persistentvolumeclaim/{name} created\n"

    def create_pod(self, doc: dict) -> str:
        meta, spec = doc.get("metadata") or {}, doc.get("spec") or {}
        name = object_name(meta.get("name"), "name", "Pod")
        ns = object_name(meta.get("namespace"), "namespace", "Pod")
        (volume,) = spec.get("volumes") or [{}]
        claim_name = (volume.get("persistentVolumeClaim") or {}).get("claimName")
        if claim_name is None:
            raise UnsupportedError("create of a pod without one PVC volume")
        self.refuse_create("Pod")
        if self.find_in("pods", ns, name):
            raise KubectlError(f'Error from server (AlreadyExists): "{name}" already exists')
        claim = self.find_in("pvcs", ns, claim_name)
        provisioned = claim is not None and self.provision_claim(claim)
        phases = list(self.state.get("pod_phases", DEFAULT_PHASES)) if provisioned else ["Pending"]
        self.state["pods"].append(
            {"namespace": ns, "name": name, "claim": claim_name, "phases": phases}
        )
        return f"pod/{name} created\n"

    def provision_claim(self, claim: dict) -> bool:
        """Late binding: the volume is made from the copy when the pod is scheduled."""
        if claim.get("volumeName"):
            return True
        copy = self.find(claim["namespace"], claim["dataSource"])
        content = self.find_content((copy or {}).get("boundVolumeSnapshotContentName"))
        if not copy or not copy.get("readyToUse") or content is None:
            return False
        if content["snapshotHandle"] not in self.state["physical"]:
            return False
        serial = self.state.get("serial", 0) + 1
        self.state["serial"] = serial
        pv = {
            "name": f"pvc-{serial:04d}",
            "storageClassName": claim["storageClassName"],
            "reclaimPolicy": self.state.get("storage_classes", {}).get(
                claim["storageClassName"], "Delete"
            ),
            "phase": "Bound",
            "claimRef": {"namespace": claim["namespace"], "name": claim["name"]},
            "volumeHandle": f"vol-restored-{serial:04d}",
            "restoredFrom": content["snapshotHandle"],
        }
        self.state["pvs"].append(pv)
        self.state["volumes"].append(pv["volumeHandle"])
        claim["volumeName"] = pv["name"]
        return True

    def delete_namespaced(self, cmd: Command, args: list[str], key: str, kind: str) -> str:
        ns = cmd.require("--namespace")
        if cmd.require("--wait") != "false" or len(args) != 1:
            raise UnsupportedError("delete form")
        cmd.done()
        found = self.find_in(key, ns, args[0])
        if found is None:
            raise not_found(kind, args[0])
        self.state[key].remove(found)
        if key == "pvcs" and found.get("volumeName"):
            pv = self.find_pv(found["volumeName"])
            if pv is not None:
                pv["phase"] = "Released"
                if pv["reclaimPolicy"] == "Delete":
                    self.reclaim(pv)
        return f'{kind.rstrip("s")} "{args[0]}" deleted\n'

    def delete_pod(self, cmd: Command, args: list[str]) -> str:
        return self.delete_namespaced(cmd, args, "pods", POD_KIND)

    def delete_claim(self, cmd: Command, args: list[str]) -> str:
        return self.delete_namespaced(cmd, args, "pvcs", PVC_KIND)

    def require_claim(self, ns: str, name: str) -> dict:
        claim = self.find_in("pvcs", ns, name)
        if claim is None:
            raise not_found(PVC_KIND, name)
        return claim
