"""Transition rules for changes to protection: in a protected stack, turning backups off,
narrowing what a class's protection covers, and cutting snapshot or log history each need an
acknowledgement, and the message says what goes; in any stack, so does removing or renaming a
Velero schedule. (Moving a Helm-installed controller's namespace: tools.transitions.releases.)

The offline diff shows each of these as a harmless update; a real ``pulumi up`` does more
(shared/reviews day2 N1, N2, N13, N14, N18, N19, N44):
- the engine continues past a refused protected delete after deleting what depends on it
  (pulumi CHANGELOG 3.149, "Deployments continue past delete errors due to protect");
- Velero's volume policy skips the PVCs whose schedule label names no schedule, and nothing
  fails (vmware-tanzu/velero@v1.18.1: internal/resourcepolicies/resource_policies.go);
- the rotator deletes every generation beyond a lower ``keep`` or older than a shorter
  ``maxAge`` at its next run, and covers only the PVCs its classes and labels name; the
  generations of a PVC it no longer covers go once older than its ``ORPHAN_MAX_AGE_SECONDS``
  (jobs/snapshot_rotate.sh, prune_orphans).
"""

from __future__ import annotations

from collections.abc import Iterator

import yaml

from tools.transitions import semantics as sem

RELEASE = "kubernetes:helm.sh/v3:Release"
CRON_JOB = "kubernetes:batch/v1:CronJob"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
CONFIG_MAP = "kubernetes:core/v1:ConfigMap"
SCHEDULE_LABEL = "backups.eks-config-storage.io/schedule"


def protected_stack(document: dict) -> bool:
    return any((r.get("options") or {}).get("protect") for r in document["resources"])


def _of_type(document: dict, resource_type: str) -> list[dict]:
    return [r for r in document["resources"] if r["type"] == resource_type]


def _releases(document: dict) -> dict[str, str]:
    return {
        r["inputs"].get("chart"): r["inputs"].get("namespace") for r in _of_type(document, RELEASE)
    }


def _env(cron_job: dict) -> dict[str, str]:
    spec = cron_job["inputs"].get("spec") or {}
    pod = (((spec.get("jobTemplate") or {}).get("spec") or {}).get("template") or {}).get("spec")
    containers = (pod or {}).get("containers") or [{}]
    return {e["name"]: e.get("value", "") for e in containers[0].get("env") or []}


def _policies(document: dict) -> dict[str, dict[str, str]]:
    """Each snapshot policy's rotator settings: KEEP, MAX_AGE_SECONDS, CLASSES."""
    found = {}
    for job in _of_type(document, CRON_JOB):
        labels = ((job["inputs"].get("metadata") or {}).get("labels")) or {}
        if sem.POLICY_LABEL in labels:
            found[labels[sem.POLICY_LABEL]] = _env(job)
    return found


def _span(seconds: int) -> str:
    for unit, size in (("d", 86400), ("h", 3600)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _orphans_go(policy: str, env: dict[str, str]) -> str:
    """When the rotator of ``policy`` prunes the generations of a PVC it no longer covers."""
    window = env.get("ORPHAN_MAX_AGE_SECONDS", "")
    age = _span(int(window)) if window.isdigit() else "its maxAge, else keep runs"
    return (
        f"their generations stay restorable until {age} old, then the {policy} rotator prunes "
        "them (Retain EBS snapshots included)"
    )


def _classes(env: dict[str, str]) -> set[str]:
    return {c for c in env.get("CLASSES", "").split(",") if c}


def _schedule_classes(document: dict) -> dict[str, set[str]]:
    """The classes each Velero schedule snapshots, from its volume-policy ConfigMap."""
    found = {}
    for config_map in _of_type(document, CONFIG_MAP):
        name = (config_map["inputs"].get("metadata") or {}).get("name") or ""
        data = config_map["inputs"].get("data") or {}
        if not name.endswith("-volume-policy") or "policies.yaml" not in data:
            continue
        policies = yaml.safe_load(data["policies.yaml"]).get("volumePolicies") or []
        found[name.removesuffix("-volume-policy")] = {
            cls
            for p in policies
            if p["action"]["type"] == "snapshot"
            for cls in p["conditions"].get("storageClass") or []
        }
    return found


def _log_retention(document: dict) -> dict[str, int]:
    return {
        r["name"]: r["inputs"]["retentionInDays"]
        for r in _of_type(document, LOG_GROUP)
        if r["inputs"].get("retentionInDays")
    }


def protection_rules(old: dict, new: dict):
    """(Violation, acknowledgement bucket, value) for each change to protection."""
    from tools.transitions.rules import Violation  # noqa: PLC0415 (rules imports this module)

    findings = list(_schedules(old, new))
    if protected_stack(old):
        findings += _findings(old, new)
    for subject, message in findings:
        yield Violation(subject, message, "acknowledge.settings"), "settings", subject


def _schedule_names(document: dict) -> set[str]:
    return {
        (r["inputs"].get("metadata") or {}).get("name")
        for r in _of_type(document, "kubernetes:velero.io/v1:Schedule")
    }


def _schedules(old: dict, new: dict) -> Iterator[tuple[str, str]]:
    """A removed or renamed Velero schedule: PVCs opted in with its label silently drop out
    (nothing reads an unknown schedule label), and restores by its name find only expiring
    backups (day-2 review N2). With no schedule left, backups are off: ``backups.enabled``
    says so in a protected stack, and nothing is left to label in another."""
    before, after = _schedule_names(old), _schedule_names(new)
    if after and (gone := sorted(before - after)):
        labels = ", ".join(f"{SCHEDULE_LABEL}={name}" for name in gone)
        yield (
            "backups.schedules",
            f"schedule {', '.join(gone)} removed or renamed: PVCs labelled {labels} are skipped "
            "by Velero's volume policy from the next backup on, and nothing fails (relabel them "
            "first); its backups expire with their TTL",
        )


def _findings(old: dict, new: dict) -> Iterator[tuple[str, str]]:
    before, after = _releases(old), _releases(new)
    if "velero" in before and "velero" not in after:
        yield (
            "backups.enabled",
            "turning backups off uninstalls Velero and stops every schedule; the bucket, its "
            "versioning, policy, encryption, public access block and lifecycle are retained "
            "with their backups (the bucket stays protected in state: remove it from the stack "
            "deliberately with `pulumi state unprotect` then a second change)",
        )
    yield from _history(old, new)


def _storage_classes(document: dict) -> set[str]:
    return {
        (r["inputs"].get("metadata") or {}).get("name")
        for r in _of_type(document, "kubernetes:storage.k8s.io/v1:StorageClass")
    }


def _history(old: dict, new: dict) -> Iterator[tuple[str, str]]:
    policies_before, policies_after = _policies(old), _policies(new)
    # A class that is gone is judged as a delete (rules.data_rules), not as narrowed.
    remaining = _storage_classes(new)
    cuts, narrowed = [], []
    for policy in sorted(policies_before.keys() & policies_after.keys()):
        was, now = policies_before[policy], policies_after[policy]
        if int(now.get("KEEP", 0)) < int(was.get("KEEP", 0)):
            cuts.append(
                f"{policy}: keep {was['KEEP']} -> {now['KEEP']}, the next run deletes up to "
                f"{int(was['KEEP']) - int(now['KEEP'])} generations per PVC"
            )
        age_was, age_now = was.get("MAX_AGE_SECONDS"), now.get("MAX_AGE_SECONDS")
        if age_now and (not age_was or int(age_now) < int(age_was)):
            cuts.append(
                f"{policy}: maxAge {age_was or 'none'}s -> {age_now}s, the next run deletes "
                "every generation older, but each PVC's newest"
            )
        for cls in sorted((_classes(was) - _classes(now)) & remaining):
            narrowed.append(
                f"class {cls} leaves policy {policy}: its PVCs are no longer snapshotted, and "
                f"{_orphans_go(policy, now)}"
            )
    schedules_before, schedules_after = _schedule_classes(old), _schedule_classes(new)
    for schedule in sorted(schedules_before.keys() & schedules_after.keys()):
        for cls in sorted((schedules_before[schedule] - schedules_after[schedule]) & remaining):
            narrowed.append(
                f"class {cls} leaves Velero schedule {schedule}: its volumes are skipped from the "
                "next backup on"
            )
    if cuts:
        yield (
            "snapshots.retention",
            "; ".join(cuts) + " (physical EBS snapshots of Retain classes included)",
        )
    if narrowed:
        yield "storage.protection", "; ".join(narrowed)
    logs_before, logs_after = _log_retention(old), _log_retention(new)
    for name in sorted(logs_before.keys() & logs_after.keys()):
        if logs_after[name] < logs_before[name]:
            yield (
                "logRetentionDays",
                f"{name}: {logs_before[name]} -> {logs_after[name]} days: CloudWatch deletes the "
                "audit log's events older than that, irreversibly",
            )
