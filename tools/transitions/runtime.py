"""What an in-place update sets in motion after `up` has finished, and the in-place updates the
service itself refuses. A bare ``~ in place`` hides these; each gets a consequence line.

Sources:
- CloudWatch Logs deletes events older than the new retention (``PutRetentionPolicy``;
  docs.aws.amazon.com/AmazonCloudWatch/latest/logs/Working-with-log-groups-and-streams.html,
  "Change log data retention").
- The snapshot rotator prunes every generation beyond ``KEEP`` or older than ``MAX_AGE_SECONDS``
  for the PVCs it covers, and only those (jobs/snapshot_rotate.sh, ``prune_pvc``).
- Velero's volume policy snapshots the classes that name a schedule and PVCs labelled with its
  name, and skips the rest (design/backup.py ``volume_policies``; vmware-tanzu/velero@v1.18.1:
  internal/resourcepolicies/resource_policies.go).
- Pod Security admission checks pods when they are created, not the running ones
  (kubernetes.io/docs/concepts/security/pod-security-admission/).
- EKS refuses a node group minimum above its desired size ("Minimum capacity 5 can't be greater
  than desired size 3", hashicorp/terraform-provider-aws#18310), and the desired size the engine
  sends is the old one when it is ignored (tools.transitions.options).
- EKS accepts new cluster subnets in the zones and VPC it was created in
  (awsdocs/amazon-eks-user-guide: latest/ug/networking/network-reqs.adoc); other zones it refuses.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import TYPE_CHECKING

from tools.transitions.rules import Violation

if TYPE_CHECKING:
    from tools.transitions.changes import Change

PROTECTION = "protection.eks-config-storage.io"
PSA_ENFORCE = "pod-security.kubernetes.io/enforce"
PSA_LEVELS = ("privileged", "baseline", "restricted")


def _env(entry: dict | None) -> dict[str, str]:
    spec = ((entry or {}).get("inputs") or {}).get("spec") or {}
    pod = (((spec.get("jobTemplate") or {}).get("spec") or {}).get("template") or {}).get("spec")
    containers = (pod or {}).get("containers") or [{}]
    return {e.get("name"): str(e.get("value")) for e in containers[0].get("env") or []}


def _meta(entry: dict | None, key: str) -> dict:
    return (((entry or {}).get("inputs") or {}).get("metadata") or {}).get(key) or {}


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def _cronjob(change: Change) -> list[str]:
    old, new = _env(change.before), _env(change.after)
    if "POLICY" not in new:
        return []
    notes = []
    keep = _int(old.get("KEEP")), _int(new.get("KEEP"))
    if keep[0] and keep[1] and keep[1] < keep[0]:
        notes.append(
            f"the next {new['POLICY']} run deletes up to {keep[0] - keep[1]} generations per "
            f"covered PVC (keep {keep[0]} -> {keep[1]}), Retain EBS snapshots included"
        )
    age = _int(old.get("MAX_AGE_SECONDS")), _int(new.get("MAX_AGE_SECONDS"))
    if age[1] and (not age[0] or age[1] < age[0]):
        notes.append(
            f"the next {new['POLICY']} run deletes every generation older than {age[1]}s per "
            "covered PVC, Retain EBS snapshots included"
        )
    dropped = set(old.get("CLASSES", "").split(",")) - set(new.get("CLASSES", "").split(","))
    if dropped - {""}:
        window = new.get("ORPHAN_MAX_AGE_SECONDS")
        notes.append(
            f"PVCs of {', '.join(sorted(dropped - {''}))} are no longer snapshotted by "
            f"{new['POLICY']}; their existing generations are pruned once older than "
            + (f"{window}s" if window else "the policy's window (maxAge, else keep runs)")
        )
    return notes


def _storage_class(change: Change) -> list[str]:
    old, new = _meta(change.before, "annotations"), _meta(change.after, "annotations")
    notes = []
    policies = [
        set(filter(None, a.get(f"{PROTECTION}/snapshot-policies", "").split(",")))
        for a in (old, new)
    ]
    if policies[0] - policies[1]:
        notes.append(
            f"its PVCs leave {', '.join(sorted(policies[0] - policies[1]))}: no new snapshots, and "
            "their existing generations are pruned once older than each policy's window "
            "(maxAge, else keep runs)"
        )
    schedule = [a.get(f"{PROTECTION}/backup-schedule") for a in (old, new)]
    if schedule[0] and schedule[0] != schedule[1]:
        notes.append(
            f"Velero's {schedule[0]} schedule skips its volumes from now on"
            if not schedule[1]
            else f"its volumes move from Velero schedule {schedule[0]} to {schedule[1]}"
        )
    return notes


def _namespace(change: Change) -> list[str]:
    levels = [_meta(e, "labels").get(PSA_ENFORCE) for e in (change.before, change.after)]
    if all(v in PSA_LEVELS for v in levels) and PSA_LEVELS.index(levels[1]) > PSA_LEVELS.index(
        levels[0]
    ):
        return [
            f"Pod Security enforce {levels[0]} -> {levels[1]}: running pods stay, pods that "
            f"violate {levels[1]} are refused at their next start (deploy, eviction, node roll)"
        ]
    return []


def _log_group(change: Change) -> list[str]:
    days = [
        ((e or {}).get("inputs") or {}).get("retentionInDays")
        for e in (change.before, change.after)
    ]
    if all(isinstance(d, int) for d in days) and 0 < days[1] < days[0]:
        return [
            f"CloudWatch deletes every event older than {days[1]} days at once: up to "
            f"{days[0] - days[1]} days of control-plane and audit logs, irreversibly"
        ]
    return []


def _zones(document: dict) -> dict[str, str]:
    return {
        v: k for k, v in ((document.get("exports") or {}).get("privateSubnetIds") or {}).items()
    }


def _cluster(change: Change, old: dict, new: dict) -> list[str]:
    subnets = [
        ((e or {}).get("inputs") or {}).get("vpcConfig", {}).get("subnetIds") or []
        for e in (change.before, change.after)
    ]
    if subnets[0] == subnets[1]:
        return []
    zones = [
        {m.get(s, s) for s in ids}
        for m, ids in zip((_zones(old), _zones(new)), subnets, strict=True)
    ]
    vpcs = [(d.get("exports") or {}).get("vpcId") for d in (old, new)]
    if vpcs[0] != vpcs[1]:
        return ["but EKS refuses cluster subnets of another VPC"]
    if zones[0] == zones[1]:
        return ["EKS accepts new subnets in the zones and VPC it was created in"]
    return ["but EKS refuses cluster subnets outside the zones it was created in"]


def annotate(changes: list[Change], old: dict, new: dict) -> list[Change]:
    """Each in-place update with its run-time consequences appended."""
    result = []
    for change in changes:
        notes: list[str] = []
        if change.action == "update":
            notes = {
                "CronJob": _cronjob,
                "StorageClass": _storage_class,
                "Namespace": _namespace,
                "LogGroup": _log_group,
            }.get(change.kind, lambda _c: [])(change)
            if change.kind == "Cluster":
                notes = _cluster(change, old, new)
        result.append(
            dataclasses.replace(change, consequence=f"{change.consequence}; {'; '.join(notes)}")
            if notes
            else change
        )
    return result


def runtime_rules(changes: list[Change]) -> Iterator[tuple[Violation, str, str]]:
    """In-place changes the service refuses. (Run-time losses a protected stack must accept, and
    removed or renamed Velero schedules: tools.transitions.protection.)"""
    for change in changes:
        if change.kind != "NodeGroup" or change.action != "update":
            continue
        scaling = (change.after or {}).get("inputs", {}).get("scalingConfig") or {}
        low, desired = scaling.get("minSize"), scaling.get("desiredSize")
        if isinstance(low, int) and isinstance(desired, int) and low > desired:
            yield (
                Violation(
                    change.name,
                    f"minSize {low} above the current desiredSize {desired} (ignored after "
                    "creation, so the old value is sent): EKS refuses the update; raise the "
                    "desired size first (aws eks update-nodegroup-config)",
                    "",
                ),
                "",
                "",
            )
