"""R7, R8 and F4: generations bounded, data retained, versions pinned, state protected."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence

from design import storage as sc
from design.images import image_pin_problem
from design.snapshots import MAX_AGE_LIMIT_SECONDS, POLICY_LABEL, SNAPSHOT_API_GROUP

from .base import (
    EXACT_VERSION,
    SNAPSHOT_CLASS,
    STATEFUL_TYPES,
    STORAGE_CLASS,
    ResourceRule,
    Settings,
    StackRule,
    Subject,
    as_list,
    containers,
    get,
    kind,
    pod_spec,
)


def snapshot_generation_limit(s: Subject, _: Settings) -> Iterator[str]:
    """R7/F4: every snapshot schedule prunes to a finite number of generations."""
    if kind(s) != "CronJob" or POLICY_LABEL not in (get(s.props, "metadata", "labels") or {}):
        return
    spec = s.props.get("spec") or {}
    pod = pod_spec(s) or {}
    envs = {e.get("name"): e.get("value") for c in containers(pod) for e in as_list(c.get("env"))}
    keep = str(envs.get("KEEP", ""))
    if not keep.isdigit() or not 1 <= int(keep) <= 1000:
        yield f"KEEP must be a generation limit between 1 and 1000, got {keep!r}"
    policy = (get(s.props, "metadata", "labels") or {})[POLICY_LABEL]
    if policy not in str(envs.get("KNOWN_POLICIES", "")).split(","):
        yield f"KNOWN_POLICIES must list every configured policy, this job's {policy!r} included"
    if "MAX_AGE_SECONDS" in envs:
        age = str(envs["MAX_AGE_SECONDS"])
        if not age.isdigit() or not 3600 <= int(age) <= MAX_AGE_LIMIT_SECONDS:
            yield f"MAX_AGE_SECONDS must be between an hour and ten years, got {age!r}"
    if spec.get("concurrencyPolicy") != "Forbid":
        yield "snapshot runs must not overlap (concurrencyPolicy: Forbid)"
    for limit in ("successfulJobsHistoryLimit", "failedJobsHistoryLimit"):
        if not isinstance(spec.get(limit), int) or not 1 <= spec[limit] <= 10:
            yield f"{limit} must be bounded (1..10)"
    if not spec.get("startingDeadlineSeconds"):
        yield "startingDeadlineSeconds must be set, or missed runs can stop the schedule"


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


CLUSTER_ROLE = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole"
CLUSTER_ROLE_BINDING = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding"
# What pruning one generation calls: read the snapshot's bound content, read the content,
# release it (deletionPolicy Delete), delete the snapshot.
PRUNE_ACCESS = (
    (SNAPSHOT_API_GROUP, "volumesnapshots", "get"),
    (SNAPSHOT_API_GROUP, "volumesnapshots", "delete"),
    (SNAPSHOT_API_GROUP, "volumesnapshotcontents", "get"),
    (SNAPSHOT_API_GROUP, "volumesnapshotcontents", "patch"),
)


def _allows(rule: Mapping, group: str, resource: str, verb: str) -> bool:
    # A rule limited to resourceNames cannot cover snapshots named at run time.
    return (
        not rule.get("resourceNames")
        and any(g in (group, "*") for g in as_list(rule.get("apiGroups")))
        and any(r in (resource, "*") for r in as_list(rule.get("resources")))
        and any(v in (verb, "*") for v in as_list(rule.get("verbs")))
    )


def _names(subject: Mapping, namespace: str, account: str) -> bool:
    if subject.get("kind") == "ServiceAccount":
        return (subject.get("namespace"), subject.get("name")) == (namespace, account)
    return subject.get("kind") == "Group" and subject.get("name") in (
        "system:serviceaccounts",
        f"system:serviceaccounts:{namespace}",
    )


def snapshot_rotator_can_prune(
    subjects: Sequence[Subject], _: Settings
) -> Iterator[tuple[str, str]]:
    """R7/F4: a snapshot job's service account may release and delete what it prunes.

    Contents are cluster-scoped and the jobs prune in every namespace, so only a
    ClusterRoleBinding to a ClusterRole counts; a RoleBinding cannot grant either."""
    roles = {get(s.props, "metadata", "name"): s.props for s in subjects if s.type == CLUSTER_ROLE}
    bindings = [s.props for s in subjects if s.type == CLUSTER_ROLE_BINDING]
    for job in subjects:
        labels = get(job.props, "metadata", "labels") or {}
        if kind(job) != "CronJob" or POLICY_LABEL not in labels:
            continue
        namespace = get(job.props, "metadata", "namespace") or "default"
        account = (pod_spec(job) or {}).get("serviceAccountName") or "default"
        granted = [
            rule
            for binding in bindings
            if get(binding, "roleRef", "kind") == "ClusterRole"
            and any(_names(s, namespace, account) for s in as_list(binding.get("subjects")))
            for rule in as_list((roles.get(get(binding, "roleRef", "name")) or {}).get("rules"))
        ]
        missing = [
            f"{verb} {resource}"
            for group, resource, verb in PRUNE_ACCESS
            if not any(_allows(rule, group, resource, verb) for rule in granted)
        ]
        if missing:
            yield (
                job.urn,
                f"snapshot job {job.name} runs as {namespace}/{account}, which no ClusterRole "
                f"binding lets {', '.join(missing)}: pruning would fail and generations pile up",
            )


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
        "Snapshot schedules keep a finite number of generations and cannot stop silently",
        "mandatory",
        snapshot_generation_limit,
    ),
    ResourceRule(
        "production-retains-data",
        "R7",
        "Production reclaims Retain, keeps snapshots and backs up EFS",
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
        "snapshot-rotator-can-prune",
        "R7",
        "Snapshot jobs may release the contents and delete the snapshots they prune",
        "mandatory",
        snapshot_rotator_can_prune,
    ),
    StackRule(
        "protected-stack-state",
        "F4",
        "In a protected stack every stateful resource is protected",
        "mandatory",
        protected_stack_state,
    ),
)
