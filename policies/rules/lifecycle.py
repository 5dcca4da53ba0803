"""R7, R8 and F4: generations bounded, data retained, versions pinned, state protected."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from design import storage as sc
from design.images import image_pin_problem
from design.snapshots import MAX_AGE_LIMIT_SECONDS, POLICY_LABEL

from .base import (
    EXACT_VERSION,
    SNAPSHOT_CLASS,
    STATEFUL_TYPES,
    STORAGE_CLASS,
    ResourceRule,
    Settings,
    StackRule,
    Subject,
    containers,
    get,
    job_env,
    kind,
    pod_spec,
)
from .recovery import APP_NAME, DRILL_APP, SCHEDULED_JOBS, is_reconciler, reconciled_policies


def snapshot_generation_limit(s: Subject, _: Settings) -> Iterator[str]:
    """R7/F4: every snapshot schedule prunes to a finite number of generations; it, the storage
    policy reconciler and every restore drill never overlap themselves, keep bounded history
    and cannot stop silently after missed runs."""
    if kind(s) != "CronJob":
        return
    labels = get(s.props, "metadata", "labels") or {}
    if POLICY_LABEL in labels:
        yield from _generation_problems(s, labels[POLICY_LABEL])
    elif labels.get(APP_NAME) not in SCHEDULED_JOBS:
        return
    spec = s.props.get("spec") or {}
    if spec.get("concurrencyPolicy") != "Forbid":
        yield "scheduled runs must not overlap (concurrencyPolicy: Forbid)"
    for limit in ("successfulJobsHistoryLimit", "failedJobsHistoryLimit"):
        if not isinstance(spec.get(limit), int) or not 1 <= spec[limit] <= 10:
            yield f"{limit} must be bounded (1..10)"
    if not spec.get("startingDeadlineSeconds"):
        yield "startingDeadlineSeconds must be set, or missed runs can stop the schedule"
    if labels.get(APP_NAME) == DRILL_APP:
        # Killed at its deadline, a drill could not delete its copy, PVC and volume.
        timeout = str(job_env(s).get("TIMEOUT_SECONDS", ""))
        deadline = get(spec, "jobTemplate", "spec", "activeDeadlineSeconds")
        if not timeout.isdigit() or not isinstance(deadline, int) or deadline <= int(timeout):
            yield (
                f"activeDeadlineSeconds ({deadline}) must leave a drill time to clean up after "
                f"TIMEOUT_SECONDS ({timeout or 'unset'})"
            )


def _generation_problems(s: Subject, policy: str) -> Iterator[str]:
    envs = job_env(s)
    keep = str(envs.get("KEEP", ""))
    if not keep.isdigit() or not 1 <= int(keep) <= 1000:
        yield f"KEEP must be a generation limit between 1 and 1000, got {keep!r}"
    if policy not in str(envs.get("KNOWN_POLICIES", "")).split(","):
        yield f"KNOWN_POLICIES must list every configured policy, this job's {policy!r} included"
    if "MAX_AGE_SECONDS" in envs:
        age = str(envs["MAX_AGE_SECONDS"])
        if not age.isdigit() or not 3600 <= int(age) <= MAX_AGE_LIMIT_SECONDS:
            yield f"MAX_AGE_SECONDS must be between an hour and ten years, got {age!r}"


def production_retains_data(s: Subject, settings: Settings) -> Iterator[str]:
    """R7/F4 in production: deleting a claim or snapshot object never deletes the data."""
    if not settings.production:
        return
    if s.type == STORAGE_CLASS and s.props.get("reclaimPolicy") != "Retain":
        yield "production classes must reclaim with Retain"
    if s.type == SNAPSHOT_CLASS and s.props.get("deletionPolicy") != "Retain":
        yield "production snapshot classes must keep snapshots (deletionPolicy Retain)"
    if (
        s.type == "aws:efs/backupPolicy:BackupPolicy"
        and get(s.props, "backupPolicy", "status") != "ENABLED"
    ):
        yield "production file systems must be backed up"
    if is_reconciler(s):
        # Classes alone reach only new PVs and contents: existing ones follow the reconciler.
        classes, _, snapshot_policy = reconciled_policies(s)
        for name, policy in sorted(classes.items()):
            if policy != "Retain":
                yield f"production reconciles existing PVs of {name} to Retain, not {policy!r}"
        if snapshot_policy != "Retain":
            yield (
                "production reconciles existing snapshot contents to Retain, "
                f"not {snapshot_policy!r}"
            )


def storage_class_protected(s: Subject, settings: Settings) -> Iterator[str]:
    """F4 in production: every class names what protects its volumes (snapshot policies, a
    backup schedule, AWS Backup) or records why nothing does."""
    if not settings.production or s.type != STORAGE_CLASS:
        return
    annotations = get(s.props, "metadata", "annotations") or {}
    if not any(key.startswith(sc.PROTECTION + "/") for key in annotations):
        yield (
            "production classes name their protection (storage.classes[].protection) or record "
            "why they have none (protection.reason)"
        )


VELERO_SCHEDULE = "kubernetes:velero.io/v1:Schedule"
TTL = re.compile(r"^(\d+)h(0m(0s)?)?$")
TTL_HOURS = (1, 8760)


def backup_ttl_bounded(s: Subject, _: Settings) -> Iterator[str]:
    """R7/F4 off the cluster: every backup a schedule makes expires, within a year."""
    if s.type != VELERO_SCHEDULE:
        return
    ttl = str(get(s.props, "spec", "template", "ttl") or "")
    match = TTL.match(ttl)
    if not match:
        yield f"a schedule's backups need a TTL in hours (e.g. 720h), got {ttl!r}"
    elif not TTL_HOURS[0] <= int(match.group(1)) <= TTL_HOURS[1]:
        yield f"backup TTL {ttl} is outside {TTL_HOURS[0]}h..{TTL_HOURS[1]}h"


def versions_pinned(s: Subject, settings: Settings) -> Iterator[str]:
    """R8: a version only changes through a reviewed diff, never by floating upstream; in
    production images are pinned by digest (``design.images``)."""
    if s.type == "kubernetes:helm.sh/v3:Release":
        version = str(s.props.get("version") or "")
        if not EXACT_VERSION.match(version):
            yield f"chart {s.props.get('chart')!r} must pin an exact version, got {version!r}"
    if s.type == "aws:eks/addon:Addon" and not s.props.get("addonVersion"):
        yield f"add-on {s.props.get('addonName')!r} must pin an explicit version"
    pod = pod_spec(s)
    for container in containers(pod) if pod else []:
        image = str(container.get("image", ""))
        if problem := image_pin_problem(image, production=settings.production):
            yield problem


def protected_stack_state(
    subjects: Sequence[Subject], settings: Settings
) -> Iterator[tuple[str, str]]:
    """A protected stack protects every resource that holds state."""
    if not settings.protect:
        return
    for s in subjects:
        if s.type in STATEFUL_TYPES and not s.protect:
            yield s.urn, f"{s.type} {s.name} holds state but is not protected"


RESOURCE_RULES: tuple[ResourceRule, ...] = (
    ResourceRule(
        "backup-ttl-bounded",
        "R7",
        "Velero schedules set a TTL, within a year, so generations expire by themselves",
        "mandatory",
        backup_ttl_bounded,
    ),
    ResourceRule(
        "storage-class-protected",
        "F4",
        "Production classes name what protects their volumes, or why nothing does",
        "mandatory",
        storage_class_protected,
    ),
    ResourceRule(
        "snapshot-generation-limit",
        "R7",
        "Snapshot schedules keep finite generations; scheduled jobs never overlap or stop silently",
        "mandatory",
        snapshot_generation_limit,
    ),
    ResourceRule(
        "production-retains-data",
        "R7",
        "Production reclaims Retain, keeps snapshots, existing ones too, and backs up EFS",
        "mandatory",
        production_retains_data,
    ),
    ResourceRule(
        "versions-pinned",
        "R8",
        "Charts, add-ons and images are pinned, so every change shows in a diff",
        "mandatory",
        versions_pinned,
    ),
)

STACK_RULES: tuple[StackRule, ...] = (
    StackRule(
        "protected-stack-state",
        "F4",
        "In a protected stack every stateful resource is protected",
        "mandatory",
        protected_stack_state,
    ),
)
