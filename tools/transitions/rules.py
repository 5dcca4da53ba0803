"""Transition rules: changes that lose data, backups or the cluster unless a reviewer accepted
them in the head config's ``acknowledge`` key (naming exactly what is accepted)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from design import eks_versions
from design.labels import APP_LABEL
from tools.transitions import semantics as sem
from tools.transitions.protection import protection_rules
from tools.transitions.workload_identity import identity_rules

if TYPE_CHECKING:
    from tools.transitions.changes import Change


@dataclass(frozen=True)
class Acknowledged:
    """What the head config accepts (``acknowledge`` in the stack file)."""

    deletes: frozenset[str] = frozenset()
    replacements: frozenset[str] = frozenset()
    snapshot_policies: frozenset[str] = frozenset()
    settings: frozenset[str] = frozenset()


# Each bucket as the stack file spells it under ``acknowledge``.
ACK_KEYS = {
    "deletes": "deletes",
    "replacements": "replacements",
    "snapshot_policies": "snapshotPolicies",
    "settings": "settings",
}


@dataclass(frozen=True)
class Violation:
    subject: str
    message: str
    key: str  # the acknowledgement that accepts it, or "" when nothing can
    refused_by: str = "EKS"  # who refuses it when nothing can accept it

    def line(self) -> str:
        accept = (
            f" [accept with {self.key}]"
            if self.key
            else f" [{self.refused_by} refuses it: no acknowledgement]"
        )
        return f"  - {self.subject}: {self.message}{accept}"


@dataclass
class Judgement:
    violations: list[Violation] = field(default_factory=list)
    accepted: list[Violation] = field(default_factory=list)
    unused: list[str] = field(default_factory=list)


def _labels(entry: dict | None) -> dict:
    return ((entry or {}).get("inputs", {}).get("metadata") or {}).get("labels") or {}


def _stateful(change: Change) -> bool:
    if change.kind == "Namespace":
        entry = change.before or change.after
        return _labels(entry).get(APP_LABEL) == "true"
    if change.kind == "NodeGroup":
        return change.delete_first  # a create-first replacement keeps nodes up
    if change.kind == "StorageClass":
        # Replaced under the same name it is back at once and bound PVs never notice; deleted,
        # the claims that name it dangle.
        return change.action == "delete"
    return change.kind in sem.STATEFUL_KINDS


def data_rules(changes: list[Change]) -> Iterator[tuple[Violation, str, str]]:
    """Deleting or replacing what holds data, backups or capacity."""
    for change in changes:
        if not change.loses_what_it_holds or not (_stateful(change) or change.protected):
            continue
        if change.action == "delete":
            yield (
                Violation(
                    change.name,
                    f"{change.kind} deleted: {change.consequence}",
                    "acknowledge.deletes",
                ),
                "deletes",
                change.name,
            )
        else:
            yield (
                Violation(
                    change.name,
                    f"{change.kind} replaced on {', '.join(change.fields)}: {change.consequence}",
                    "acknowledge.replacements",
                ),
                "replacements",
                change.name,
            )


def _app_namespaces(changes: list[Change], action: str) -> list[Change]:
    return [
        c
        for c in changes
        if c.kind == "Namespace"
        and c.action == action
        and _labels(c.before or c.after).get(APP_LABEL) == "true"
    ]


# What an app's pods use at run time, of what the stack gives each app.
WHAT_PODS_USE = {
    "kubernetes:core/v1:ServiceAccount": "ServiceAccount",
    "kubernetes:core/v1:ConfigMap": "ConfigMap",
    "kubernetes:external-secrets.io/v1:ExternalSecret": "ExternalSecret",
    "aws:iam/role:Role": "IAM role",
}


def _object_name(change: Change) -> str:
    inputs = (change.before or {}).get("inputs", {})
    return (inputs.get("metadata") or {}).get("name") or inputs.get("name") or change.name


def _namespace(change: Change) -> str:
    entry = change.before or change.after or {}
    return (entry.get("inputs", {}).get("metadata") or {}).get("name", change.name)


def app_rules(changes: list[Change]) -> Iterator[tuple[Violation, str, str]]:
    """An app that moves to another namespace (renamed without ``namespace:``, or given a new
    one): apps are keyed by namespace, so its Namespace leaves the stack and everything the stack
    gave it there goes, while its pods keep running in the old namespace without them."""
    arrived = [_namespace(c) for c in _app_namespaces(changes, "create")]
    if not arrived:
        return
    for left in _app_namespaces(changes, "delete"):
        old = _namespace(left)
        prefix = left.name.removesuffix("-namespace") + "-"
        lost = sorted(
            f"{WHAT_PODS_USE[c.type]} {_object_name(c)}"
            for c in changes
            if c.action == "delete" and c.name.startswith(prefix) and c.type in WHAT_PODS_USE
        )
        fate = (
            "it stays, unmanaged, with its workloads"
            if left.retained
            else sem.deleted("Namespace", {})
        )
        yield (
            Violation(
                left.name,
                f"app namespace {old} leaves the stack ({fate}) and the app moves to the new, "
                f"empty {' or '.join(arrived)}; pods still running in {old} lose "
                f"{', '.join(lost) or 'what the stack gave them'} (no AWS role, no config, no "
                f"secrets on their next restart); to rename the app without moving it, keep "
                f"`namespace: {old}` on the app",
                "acknowledge.deletes",
            ),
            "deletes",
            left.name,
        )


def _policies(document: dict) -> set[str]:
    return {
        _labels(r)[sem.POLICY_LABEL]
        for r in document["resources"]
        if r["type"] == "kubernetes:batch/v1:CronJob" and sem.POLICY_LABEL in _labels(r)
    }


def snapshot_rules(old: dict, new: dict) -> Iterator[tuple[Violation, str, str]]:
    for policy in sorted(_policies(old) - _policies(new)):
        yield (
            Violation(
                f"snapshot policy {policy}",
                f"removed or renamed while PVCs may carry {sem.POLICY_LABEL}={policy}: they would "
                "silently stop being snapshotted and their generations never pruned; relabel them "
                "first (the rotator fails its Job on labels of unknown policies)",
                "acknowledge.snapshotPolicies",
            ),
            "snapshot_policies",
            policy,
        )


def _one(document: dict, resource_type: str) -> dict | None:
    found = [r for r in document["resources"] if r["type"] == resource_type]
    return found[0] if len(found) == 1 else None


def _zones(document: dict) -> set:
    return set((document.get("exports") or {}).get("privateSubnetIds") or {})


def _vpc_cidrs(old: dict, new: dict) -> list:
    """The created VPC's CIDR before and after (both stacks create one)."""
    return [
        (_one(d, "aws:ec2/vpc:Vpc") or {}).get("inputs", {}).get("cidrBlock") for d in (old, new)
    ]


def setting_rules(old: dict, new: dict) -> Iterator[tuple[Violation, str, str]]:
    """Settings a cluster keeps for life: AWS or EKS refuses the change or orphans resources."""
    before, after = old.get("exports") or {}, new.get("exports") or {}
    for key, why in (
        (
            "environment",
            "renames every class, role and secret prefix; apps reading their own "
            "secrets get AccessDenied",
        ),
        ("clusterName", "replaces the cluster, its roles and its logs (a new cluster)"),
    ):
        if before.get(key) is not None and before.get(key) != after.get(key):
            yield (
                Violation(
                    key,
                    f"{before.get(key)} -> {after.get(key)}: {why}; build a new stack and migrate",
                    "acknowledge.settings",
                ),
                "settings",
                key,
            )
    # Moving a Helm-installed controller's namespace: tools.transitions.releases.
    created = [bool(_one(d, "aws:ec2/vpc:Vpc")) for d in (old, new)]
    if created[0] != created[1]:
        yield (
            Violation(
                "network",
                "switching between network.create and network.existing deletes the created VPC's "
                "NAT gateways and routes (egress lost) or moves the cluster to subnets EKS refuses",
                "acknowledge.settings",
            ),
            "settings",
            "network",
        )
    elif created[0] and len(set(cidrs := _vpc_cidrs(old, new))) == 2:
        yield (
            Violation(
                "network.create.vpcCidr",
                f"{cidrs[0]} -> {cidrs[1]}: replaces the VPC and every subnet, and EKS refuses "
                "to move the cluster to subnets of another VPC; build a new stack and migrate",
                "acknowledge.settings",
            ),
            "settings",
            "network.create.vpcCidr",
        )
    elif _zones(old) and _zones(new) and _zones(old) != _zones(new):
        yield (
            Violation(
                "zones",
                f"{sorted(_zones(old))} -> {sorted(_zones(new))}: EKS refuses cluster subnets "
                "outside the zones it was created in, after new zones' resources were created",
                "acknowledge.settings",
            ),
            "settings",
            "zones",
        )
    clusters = [_one(d, "aws:eks/cluster:Cluster") for d in (old, new)]
    if all(clusters):
        versions = [c["inputs"].get("version") for c in clusters]
        if all(versions) and versions[0] != versions[1]:
            problem = eks_versions.upgrade_problem(*versions)
            if problem and "rollback" in problem:
                yield (
                    Violation("kubernetesVersion", problem, "acknowledge.settings"),
                    "settings",
                    "kubernetesVersion",
                )
            elif problem:
                yield Violation("kubernetesVersion", problem, ""), "", ""


def identity_transitions(old: dict, new: dict) -> Iterator[tuple[Violation, str, str]]:
    """A step between IRSA and Pod Identity that would leave a workload without credentials."""
    for subject, message in identity_rules(old, new):
        yield Violation(subject, message, "acknowledge.settings"), "settings", "identity"


def judge(
    old: dict,
    new: dict,
    changes: list[Change],
    accepted: Acknowledged,
    extra: Iterable[Iterator[tuple[Violation, str, str]]] = (),
) -> Judgement:
    """``extra``: further rules' findings (tools.transitions.guards), judged alike."""
    judgement = Judgement()
    used: set[tuple[str, str]] = set()
    seen: set[tuple[str, str]] = set()
    rules = (app_rules(changes), data_rules(changes), snapshot_rules(old, new))
    for rule in (
        *rules,
        setting_rules(old, new),
        protection_rules(old, new),
        identity_transitions(old, new),
        *extra,
    ):
        for violation, bucket, value in rule:
            if (violation.subject, violation.key) in seen:
                continue  # an app's move already says why its namespace leaves
            seen.add((violation.subject, violation.key))
            if bucket and value in getattr(accepted, bucket):
                judgement.accepted.append(violation)
                used.add((bucket, value))
            else:
                judgement.violations.append(violation)
    for bucket in ("deletes", "replacements", "snapshot_policies", "settings"):
        for value in sorted(getattr(accepted, bucket)):
            if (bucket, value) not in used:
                judgement.unused.append(f"{ACK_KEYS[bucket]}: {value}")
    return judgement
