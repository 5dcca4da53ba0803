"""A cluster for jobs/restore_drill.sh: snapshots of a policy with their contents,
physical snapshots and source PVCs, the drill's CronJob, and what a run leaves behind."""

from __future__ import annotations

import copy
import json

from tests.support.kube_harness import ScriptBin, ScriptRun
from tests.support.snapshot_harness import LABEL, NOW_EPOCH, ROTATOR

SCRIPT = "restore_drill.sh"
SCRATCH = "restore-drills"
STAMP = "20261127030000"  # NOW_EPOCH, as the drill names its run
RUN = f"weekly-{STAMP}"
COPY_CONTENT = f"restore-{SCRATCH}-{RUN}"
DRILL_LABEL = "restore.eks-config-storage.io/drill"
RESTORED_FROM = "restore.eks-config-storage.io/from"
LAST_DRILL = "restore.eks-config-storage.io/last-drill"
CLASS = "gp3-ssd-prod-rwo"
SNAPSHOT_CLASS = "ebs-retain-prod"
IMAGE = "docker.io/alpine/k8s:1.34.1"
ENV = {
    "DRILL": "weekly",
    "POLICY": "daily",
    "NAMESPACE": SCRATCH,
    "CRONJOB": "drill-weekly",
    "CHECK_IMAGE": IMAGE,
    "TIMEOUT_SECONDS": "600",
    "POLL_SECONDS": "10",
}
SOURCES_JSONPATH = (
    'jsonpath={range .items[*]}{.metadata.creationTimestamp}{"\\t"}{.metadata.namespace}{"\\t"}'
    '{.metadata.name}{"\\t"}{.status.readyToUse}{"\\t"}{.status.boundVolumeSnapshotContentName}'
    '{"\\t"}{.spec.source.persistentVolumeClaimName}{"\\t"}{.status.restoreSize}{"\\t"}'
    '{.spec.volumeSnapshotClassName}{"\\n"}{end}'
)
HANDLE_JSONPATH = (
    'jsonpath={.status.snapshotHandle}{"\\t"}{.spec.driver}{"\\t"}'
    '{.spec.volumeSnapshotRef.namespace}{"\\t"}{.spec.volumeSnapshotRef.name}'
)
CLAIM_JSONPATH = 'jsonpath={.spec.storageClassName}{"\\t"}{.status.capacity.storage}'


def source(
    ns: str,
    name: str,
    ts: str,
    *,
    pvc: str = "data",
    ready: bool = True,
    policy: str = "daily",
    deletion_policy: str = "Retain",
    size: str | None = "20Gi",
) -> tuple[dict, dict]:
    """A snapshot the rotator took and its bound content."""
    content_name = f"snapcontent-{ns}-{name}"
    snap = {
        "namespace": ns,
        "name": name,
        "labels": {LABEL: policy, **ROTATOR},
        "creationTimestamp": ts,
        "pvc": pvc,
        "readyToUse": ready,
        "volumeSnapshotClassName": SNAPSHOT_CLASS,
        "boundVolumeSnapshotContentName": content_name,
        **({"restoreSize": size} if size else {}),
    }
    content = {
        "name": content_name,
        "deletionPolicy": deletion_policy,
        "snapshotHandle": f"snap-{ns}-{name}",
        "driver": "ebs.csi.aws.com",
        "volumeSnapshotClassName": SNAPSHOT_CLASS,
        "volumeHandle": f"vol-{ns}-{pvc}",
        "volumeSnapshotRef": {"namespace": ns, "name": name},
        "resourceVersion": "7",
    }
    return snap, content


def claim(ns: str, name: str, cls: str = CLASS) -> dict:
    return {
        "namespace": ns,
        "name": name,
        "labels": {},
        "storageClassName": cls,
        "capacity": "20Gi",
        "volumeName": f"pv-{ns}-{name}",
    }


# The newest ready daily generation of app/data, the one most drills restore.
DAILY_3 = source("app", "data-daily-3", "2026-11-26T03:00:00Z")


def cluster(
    sources: list[tuple[dict, dict]],
    *,
    claims: list[dict] | None = None,
    class_reclaim: str = "Retain",
    **extra,
) -> dict:
    claims = claims if claims is not None else [claim("app", "data")]
    sources = copy.deepcopy(sources)  # tests break their copy, never a shared one
    return {
        "snapshots": [s for s, _ in sources],
        "contents": [c for _, c in sources],
        "physical": [c["snapshotHandle"] for _, c in sources],
        "pvcs": claims,
        "pvs": [],
        "volumes": [f"vol-{c['namespace']}-{c['name']}" for c in claims],
        "pods": [],
        "cronjobs": [{"namespace": SCRATCH, "name": "drill-weekly", "annotations": {}}],
        "storage_classes": {CLASS: class_reclaim, "gp3-ssd-dev-rwo": "Delete"},
        **extra,
    }


def drill(bin_: ScriptBin, state: dict, **env: str | None) -> ScriptRun:
    variables = {k: v for k, v in {**ENV, **env}.items() if v is not None}
    return bin_.execute(SCRIPT, json.loads(json.dumps(state)), variables, clock=NOW_EPOCH)


def steps(result: ScriptRun) -> list[str]:
    """Each call as its verb and kind; creates by the kind of their manifest."""
    out, stdins = [], iter(result.stdins)
    for argv in result.calls:
        if argv[0] == "create":
            out.append("create " + next(stdins).split("kind: ", 1)[1].split("\n", 1)[0])
        elif argv[0] == "wait":
            out.append("wait " + argv[-1].split("/")[0])
        else:
            out.append(f"{argv[0]} {argv[1]}")
    return out


def originals_untouched(result: ScriptRun) -> None:
    """The policy's snapshots, their contents, their physical snapshots and their PVCs are as
    they were, whatever the drill did."""
    after = {(s["namespace"], s["name"]): s for s in result.state["snapshots"]}
    contents = {c["name"]: c for c in result.state["contents"]}
    for snap in result.before["snapshots"]:
        assert after[(snap["namespace"], snap["name"])] == snap
    for content in result.before["contents"]:
        assert contents[content["name"]] == content
        if content["snapshotHandle"] in result.before["physical"]:
            assert content["snapshotHandle"] in result.state["physical"]
    claims = {(c["namespace"], c["name"]): c for c in result.state["pvcs"]}
    for c in result.before["pvcs"]:
        assert claims[(c["namespace"], c["name"])] == c
    assert set(result.before["volumes"]) <= set(result.state["volumes"])


def leftovers(result: ScriptRun) -> dict[str, list[str]]:
    """What the drill made that is still there: objects in the scratch namespace, copies'
    contents, restored PVs and their volumes."""
    before_contents = {c["name"] for c in result.before["contents"]}
    return {
        "snapshots": [s["name"] for s in result.state["snapshots"] if s["namespace"] == SCRATCH],
        "contents": [
            c["name"] for c in result.state["contents"] if c["name"] not in before_contents
        ],
        "pvcs": [c["name"] for c in result.state["pvcs"] if c["namespace"] == SCRATCH],
        "pods": [p["name"] for p in result.state["pods"]],
        "pvs": [p["name"] for p in result.state["pvs"]],
        "volumes": sorted(set(result.state["volumes"]) - set(result.before["volumes"])),
    }


NOTHING_LEFT = {"snapshots": [], "contents": [], "pvcs": [], "pods": [], "pvs": [], "volumes": []}


def recorded(result: ScriptRun) -> str | None:
    (job,) = result.state["cronjobs"]
    return job.get("annotations", {}).get(LAST_DRILL)
