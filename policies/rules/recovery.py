"""R7 over time: the jobs that keep data protected can do their work, and what exists follows
the policy in force (snapshot pruning rights, the storage policy reconciler)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

from design import drills, reconciler
from design.snapshots import POLICY_LABEL, SNAPSHOT_API_GROUP

from .base import (
    SNAPSHOT_CLASS,
    STORAGE_CLASS,
    ResourceRule,
    Settings,
    StackRule,
    Subject,
    as_list,
    get,
    job_env,
    kind,
    pod_spec,
)

APP_NAME = "app.kubernetes.io/name"
# CronJobs of the program besides the snapshot policies': each must be as hard to stop or pile
# up as a snapshot schedule.
DRILL_APP = drills.APP_NAME
SCHEDULED_JOBS = frozenset({reconciler.APP_NAME, DRILL_APP})


def is_reconciler(s: Subject) -> bool:
    return (
        kind(s) == "CronJob"
        and (get(s.props, "metadata", "labels") or {}).get(APP_NAME) == reconciler.APP_NAME
    )


def reconciled_policies(s: Subject) -> tuple[dict[str, str], list[str], str]:
    """What a reconciler CronJob applies: class -> reclaimPolicy, its snapshot classes, and
    their deletionPolicy."""
    envs = job_env(s)
    pairs = [e.partition("=") for e in str(envs.get(reconciler.CLASS_POLICIES) or "").split(",")]
    classes = {name: policy for name, _, policy in pairs if name}
    snapshot_classes = [c for c in str(envs.get(reconciler.SNAPSHOT_CLASSES) or "").split(",") if c]
    return classes, snapshot_classes, str(envs.get(reconciler.SNAPSHOT_DELETION_POLICY) or "")


CLUSTER_ROLE = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole"
CLUSTER_ROLE_BINDING = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding"
# What pruning one generation calls: read the snapshot's bound content, read the content,
# release it (deletionPolicy Delete), delete the snapshot.
PRUNE_ACCESS = (
    (SNAPSHOT_API_GROUP, "volumesnapshots", "get"),
    (SNAPSHOT_API_GROUP, "volumesnapshots", "delete"),
    (SNAPSHOT_API_GROUP, "volumesnapshotcontents", "get"),
    (SNAPSHOT_API_GROUP, "volumesnapshotcontents", "patch"),
    # Finishing releases that outlived their snapshot (snapshot_rotate.sh finish_releases).
    (SNAPSHOT_API_GROUP, "volumesnapshotcontents", "list"),
    (SNAPSHOT_API_GROUP, "volumesnapshotcontents", "delete"),
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


def existing_volumes_follow_policy(
    subjects: Sequence[Subject], _: Settings
) -> Iterator[tuple[str, str]]:
    """R7: a reconciler CronJob brings every existing PV of every class, and every content of
    the stack's snapshot class, to the policy the class has now. Kubernetes copies both policies
    only when it provisions (a class's reclaimPolicy into each PV, a VolumeSnapshotClass's
    deletionPolicy into each content), so without it a promotion to Retain protects only what
    is made afterwards."""
    jobs = [s for s in subjects if is_reconciler(s)]
    classes: dict[str, str] = {}
    snapshot_classes: set[str] = set()
    snapshot_policies: set[str] = set()
    for job in jobs:
        mapped, names, policy = reconciled_policies(job)
        classes.update(mapped)
        snapshot_classes.update(names)
        snapshot_policies.add(policy)
    for s in subjects:
        name = get(s.props, "metadata", "name")
        if s.type == STORAGE_CLASS:
            want = s.props.get("reclaimPolicy") or "Delete"
            if name not in classes:
                yield (
                    s.urn,
                    f"no reconciler maps class {name}: its existing PVs keep the policy they "
                    "were provisioned with",
                )
            elif classes[name] != want:
                yield (
                    s.urn,
                    f"the reconciler maps class {name} to {classes[name]}, but it reclaims {want}",
                )
        elif s.type == SNAPSHOT_CLASS:
            want = s.props.get("deletionPolicy")
            if name not in snapshot_classes or snapshot_policies != {want}:
                yield (
                    s.urn,
                    f"no reconciler brings the contents of {name} to {want}: existing contents "
                    "keep the policy they were made with",
                )


RESOURCE_RULES: tuple[ResourceRule, ...] = ()

STACK_RULES: tuple[StackRule, ...] = (
    StackRule(
        "snapshot-rotator-can-prune",
        "R7",
        "Snapshot jobs may release the contents and delete the snapshots they prune",
        "mandatory",
        snapshot_rotator_can_prune,
    ),
    StackRule(
        "existing-volumes-follow-policy",
        "R7",
        "A reconciler brings existing PVs and snapshot contents to their class's policy",
        "mandatory",
        existing_volumes_follow_policy,
    ),
)
