"""The design rules as code: one implementation of each, used by the CrossGuard pack
(``pulumi preview --policy-pack policies``) and by the offline plan.

A rule sees a ``Subject`` (type, name, URN, input properties, protect) and yields violation
messages. Inputs arrive as the engine sends them: camelCase keys, JSON documents as strings.
Under the real CLI, reading a value that is unknown during preview raises inside the pack's
proxy and the check is skipped for that resource; it runs again, with values, during ``up``.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from design import storage as sc
from design.apps import looks_secret
from design.snapshots import POLICY_LABEL

Enforcement = Literal["mandatory", "advisory"]

STORAGE_CLASS = "kubernetes:storage.k8s.io/v1:StorageClass"
SNAPSHOT_CLASS = "kubernetes:snapshot.storage.k8s.io/v1:VolumeSnapshotClass"
CLUSTER = "aws:eks/cluster:Cluster"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
STATEFUL_TYPES = frozenset(
    {"aws:kms/key:Key", "aws:eks/cluster:Cluster", "aws:efs/fileSystem:FileSystem"}
)
IDENTITY_POLICY_TYPES = frozenset(
    {"aws:iam/rolePolicy:RolePolicy", "aws:iam/policy:Policy", "aws:iam/userPolicy:UserPolicy"}
)
# APIs without resource-level permissions: a "*" resource is the only way to allow them.
RESOURCE_WILDCARD_EXCEPTIONS = frozenset({"ec2:DescribeAvailabilityZones"})
WORKLOAD_KINDS = {
    "Pod": ("spec",),
    "Deployment": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "ReplicaSet": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}
EXACT_VERSION = re.compile(r"^v?\d+\.\d+\.\d+([-+][0-9A-Za-z.-]+)?$")
CUSTOMER_KEY_ARN = re.compile(r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/[0-9a-f-]+$")


@dataclass(frozen=True)
class Settings:
    """What the rules need to know about the stack (policy pack config)."""

    environment: str
    production: bool
    protect: bool


@dataclass(frozen=True)
class Subject:
    type: str
    name: str
    urn: str
    props: Mapping[str, Any]
    protect: bool = False


@dataclass(frozen=True)
class ResourceRule:
    name: str
    principle: str
    description: str
    enforcement: Enforcement
    check: Callable[[Subject, Settings], Iterable[str]]


@dataclass(frozen=True)
class StackRule:
    name: str
    principle: str
    description: str
    enforcement: Enforcement
    check: Callable[[Sequence[Subject], Settings], Iterable[tuple[str, str]]]


# -- helpers -----------------------------------------------------------------------------------


def _get(value: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def _list(value: Any) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, Sequence) and not isinstance(value, str) else [value]


def _document(value: Any) -> Mapping:
    return json.loads(value) if isinstance(value, str) else (value or {})


def _kind(subject: Subject) -> str | None:
    return subject.type.rsplit(":", 1)[-1] if subject.type.startswith("kubernetes:") else None


def _pod_spec(subject: Subject) -> Mapping | None:
    path = WORKLOAD_KINDS.get(_kind(subject) or "")
    return _get(subject.props, *path) if path else None


def _containers(pod: Mapping) -> list[Mapping]:
    return [*_list(pod.get("initContainers")), *_list(pod.get("containers"))]


# -- security basics ---------------------------------------------------------------------------


def eks_secrets_encryption(s: Subject, _: Settings) -> Iterator[str]:
    if s.type != CLUSTER:
        return
    configs = _list(s.props.get("encryptionConfig"))
    if not configs or "secrets" not in _list(_get(configs[0], "resources")):
        yield "Secrets are not envelope-encrypted: set encryptionConfig for 'secrets'"
        return
    key = _get(configs[0], "provider", "keyArn")
    if not isinstance(key, str) or not CUSTOMER_KEY_ARN.match(key):
        yield f"envelope encryption must use a customer-managed key ARN, got {key!r}"


def kms_rotation(s: Subject, _: Settings) -> Iterator[str]:
    if s.type == "aws:kms/key:Key" and s.props.get("enableKeyRotation") is not True:
        yield "automatic key rotation must be enabled"


def irsa_trust_exact(s: Subject, _: Settings) -> Iterator[str]:
    if s.type != "aws:iam/role:Role":
        return
    for stmt in _list(_document(s.props.get("assumeRolePolicy")).get("Statement")):
        federated = _list(_get(stmt, "Principal", "Federated"))
        if not any(":oidc-provider/" in str(p) for p in federated):
            continue
        condition = stmt.get("Condition") or {}
        if set(condition) != {"StringEquals"}:
            yield f"IRSA trust must use StringEquals only, found {sorted(condition)}"
            continue
        equals = condition["StringEquals"]
        subs = [k for k in equals if k.endswith(":sub")]
        auds = [k for k in equals if k.endswith(":aud")]
        if len(subs) != 1 or len(auds) != 1:
            yield "IRSA trust must condition both <issuer>:sub and <issuer>:aud"
            continue
        if equals[auds[0]] != "sts.amazonaws.com":
            yield f"IRSA audience must be sts.amazonaws.com, got {equals[auds[0]]!r}"
        for subject in _list(equals[subs[0]]):
            if not re.fullmatch(r"system:serviceaccount:[a-z0-9-]+:[a-z0-9.-]+", str(subject)):
                yield f"IRSA subject must name one namespace/serviceaccount, got {subject!r}"


def _wildcard_action(action: str) -> bool:
    return action == "*" or action.endswith(":*")


def iam_no_wildcards(s: Subject, _: Settings) -> Iterator[str]:
    if s.type not in IDENTITY_POLICY_TYPES:
        return
    for stmt in _list(_document(s.props.get("policy")).get("Statement")):
        if stmt.get("Effect") != "Allow":
            continue
        sid = stmt.get("Sid", "(no Sid)")
        if "NotAction" in stmt or "NotResource" in stmt:
            yield f"statement {sid}: NotAction/NotResource allow more than they name"
        actions = [str(a) for a in _list(stmt.get("Action"))]
        for action in actions:
            if _wildcard_action(action):
                yield f"statement {sid}: wildcard action {action!r}"
        if "*" in _list(stmt.get("Resource")) and not set(actions) <= RESOURCE_WILDCARD_EXCEPTIONS:
            yield f"statement {sid}: '*' resource for {actions}"


def nodes_imdsv2(s: Subject, _: Settings) -> Iterator[str]:
    if s.type != LAUNCH_TEMPLATE:
        return
    options = s.props.get("metadataOptions") or {}
    if options.get("httpTokens") != "required":
        yield "instance metadata must require tokens (IMDSv2)"
    if options.get("httpPutResponseHopLimit") != 1:
        yield "instance metadata hop limit must be 1, so pods cannot reach the node role"


def node_volumes_encrypted(s: Subject, _: Settings) -> Iterator[str]:
    if s.type != LAUNCH_TEMPLATE:
        return
    for device in _list(s.props.get("blockDeviceMappings")):
        ebs = device.get("ebs") or {}
        if str(ebs.get("encrypted")).lower() != "true" or not ebs.get("kmsKeyId"):
            yield f"volume {device.get('deviceName')} must be encrypted with the stack's key"


def eks_endpoint_exposure(s: Subject, settings: Settings) -> Iterator[str]:
    if s.type != CLUSTER:
        return
    vpc = s.props.get("vpcConfig") or {}
    if not vpc.get("endpointPublicAccess"):
        return
    if settings.production:
        yield "a production cluster's API endpoint must be private only"
    cidrs = _list(vpc.get("publicAccessCidrs"))
    if not cidrs:
        yield "a public endpoint must list the CIDRs allowed to reach it"
    for cidr in cidrs:
        if ipaddress.ip_network(str(cidr), strict=False).prefixlen == 0:
            yield f"the public endpoint is open to the whole internet ({cidr})"


def efs_encrypted_tls(s: Subject, _: Settings) -> Iterator[str]:
    if s.type == "aws:efs/fileSystem:FileSystem" and (
        s.props.get("encrypted") is not True or not s.props.get("kmsKeyId")
    ):
        yield "the file system must be encrypted at rest with the stack's key (and TLS in transit)"
    if s.type == "aws:efs/fileSystemPolicy:FileSystemPolicy":
        denies = [
            stmt
            for stmt in _list(_document(s.props.get("policy")).get("Statement"))
            if stmt.get("Effect") == "Deny"
            and _get(stmt, "Condition", "Bool", "aws:SecureTransport") == "false"
        ]
        if not denies:
            yield "the file-system policy must deny access without TLS (aws:SecureTransport)"


# -- design rules R1-R8 ------------------------------------------------------------------------


def configmap_no_secrets(s: Subject, _: Settings) -> Iterator[str]:
    """R1: settings live in ConfigMaps, secrets never do."""
    if s.type != "kubernetes:core/v1:ConfigMap":
        return
    for key, value in (s.props.get("data") or {}).items():
        if looks_secret(key, str(value)):
            yield f"ConfigMap key {key!r} looks like a secret: use a Secret (External Secrets)"


def env_no_literal_secrets(s: Subject, _: Settings) -> Iterator[str]:
    """R1/F2: a secret-looking variable must come from a Secret, not a literal in the spec."""
    pod = _pod_spec(s)
    if pod is None:
        return
    for container in _containers(pod):
        for env in _list(container.get("env")):
            if "value" in env and looks_secret(str(env.get("name", "")), str(env["value"])):
                yield f"container {container.get('name')}: {env.get('name')} is a literal secret"


def rbac_least_privilege(s: Subject, _: Settings) -> Iterator[str]:
    """R2: no wildcards; Secrets only by name, never listed or watched."""
    if _kind(s) not in ("Role", "ClusterRole"):
        return
    for i, rule in enumerate(_list(s.props.get("rules"))):
        for field in ("apiGroups", "resources", "verbs"):
            if "*" in _list(rule.get(field)):
                yield f"rule {i}: wildcard in {field}"
        if "secrets" in _list(rule.get("resources")):
            if not _list(rule.get("resourceNames")):
                yield f"rule {i}: Secrets must be granted by resourceNames"
            reading_all = {"list", "watch"} & set(_list(rule.get("verbs")))
            if reading_all:
                yield f"rule {i}: {sorted(reading_all)} on Secrets reveals every Secret"


def no_secret_data(s: Subject, _: Settings) -> Iterator[str]:
    """F2: Secret values never pass through this program (or its state)."""
    if s.type == "kubernetes:core/v1:Secret" and (s.props.get("data") or s.props.get("stringData")):
        yield "a Secret with data: fetch it with External Secrets or commit it sealed"


def storage_class_binds_late(s: Subject, _: Settings) -> Iterator[str]:
    """R4: an AZ-bound volume is created where its pod lands."""
    if (
        s.type == STORAGE_CLASS
        and s.props.get("provisioner") == sc.EBS_PROVISIONER
        and s.props.get("volumeBindingMode") != "WaitForFirstConsumer"
    ):
        yield "EBS classes must bind WaitForFirstConsumer (volumes are zonal)"


def storage_class_binds_late_everywhere(s: Subject, _: Settings) -> Iterator[str]:
    """R4, uniform semantics: every class of the catalog binds the same way."""
    if (
        s.type == STORAGE_CLASS
        and s.props.get("provisioner") != sc.EBS_PROVISIONER
        and s.props.get("volumeBindingMode") != "WaitForFirstConsumer"
    ):
        yield "classes of this catalog bind WaitForFirstConsumer"


def storage_class_sla_name(s: Subject, settings: Settings) -> Iterator[str]:
    """R5: the name is what ``design.storage.storage_class_name`` derives."""
    if s.type != STORAGE_CLASS:
        return
    name = str(_get(s.props, "metadata", "name"))
    if problem := sc.name_problem(name):
        yield problem
        return
    provisioner = s.props.get("provisioner")
    params = s.props.get("parameters") or {}
    if provisioner == sc.EBS_PROVISIONER:
        candidates = [(str(params.get("type")), "rwo", None)]
    elif provisioner == sc.EFS_PROVISIONER:
        candidates = [("efs", "rwx", mode) for mode in sc.EFS_THROUGHPUT_LABELS]
    else:
        yield f"provisioner {provisioner!r} is not part of the catalog"
        return
    for backing, access, mode in candidates:
        for tier in (None, *name.split("-")[2:-2]):
            spec = sc.ClassSpec(backing, access, settings.environment, mode, tier)
            try:
                if sc.storage_class_name(spec) == name:
                    return
            except ValueError:
                continue
    yield (
        f"{name!r} does not follow <backing>-<media>[-<tier>]-{settings.environment}-<access> "
        "for its provisioner and type"
    )


def storage_class_expandable(s: Subject, _: Settings) -> Iterator[str]:
    """R6: volumes grow online."""
    if s.type == STORAGE_CLASS and s.props.get("allowVolumeExpansion") is not True:
        yield "allowVolumeExpansion must be true"


def storage_class_encrypted(s: Subject, _: Settings) -> Iterator[str]:
    """R3 for volumes: EBS with the stack's key, EFS over TLS with IAM."""
    if s.type != STORAGE_CLASS:
        return
    params = s.props.get("parameters") or {}
    if s.props.get("provisioner") == sc.EBS_PROVISIONER:
        if params.get("encrypted") != "true" or not params.get("kmsKeyId"):
            yield "EBS classes must set encrypted: 'true' and the stack's kmsKeyId"
    elif s.props.get("provisioner") == sc.EFS_PROVISIONER:
        missing = set(sc.EFS_MOUNT_OPTIONS) - set(_list(s.props.get("mountOptions")))
        if missing:
            yield f"EFS classes must mount with {sorted(missing)}"


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
        and _get(s.props, "backupPolicy", "status") != "ENABLED"
    ):
        yield "production file systems must be backed up"


def snapshot_generation_limit(s: Subject, _: Settings) -> Iterator[str]:
    """R7/F4: every snapshot schedule prunes to a finite number of generations."""
    if _kind(s) != "CronJob" or POLICY_LABEL not in (_get(s.props, "metadata", "labels") or {}):
        return
    spec = s.props.get("spec") or {}
    pod = _pod_spec(s) or {}
    envs = {e.get("name"): e.get("value") for c in _containers(pod) for e in _list(c.get("env"))}
    keep = str(envs.get("KEEP", ""))
    if not keep.isdigit() or not 1 <= int(keep) <= 1000:
        yield f"KEEP must be a generation limit between 1 and 1000, got {keep!r}"
    if spec.get("concurrencyPolicy") != "Forbid":
        yield "snapshot runs must not overlap (concurrencyPolicy: Forbid)"
    for limit in ("successfulJobsHistoryLimit", "failedJobsHistoryLimit"):
        if not isinstance(spec.get(limit), int) or not 1 <= spec[limit] <= 10:
            yield f"{limit} must be bounded (1..10)"
    if not spec.get("startingDeadlineSeconds"):
        yield "startingDeadlineSeconds must be set, or missed runs can stop the schedule"


def no_host_path(s: Subject, _: Settings) -> Iterator[str]:
    """F3: data never tied to a node."""
    if _kind(s) == "PersistentVolume" and _get(s.props, "spec", "hostPath"):
        yield "hostPath PersistentVolume ties data to one node"
    pod = _pod_spec(s)
    for volume in _list(pod.get("volumes")) if pod else []:
        if "hostPath" in volume:
            yield f"volume {volume.get('name')!r} is a hostPath: data would be tied to a node"


def versions_pinned(s: Subject, _: Settings) -> Iterator[str]:
    """R8: a version only changes through a reviewed diff, never by floating upstream."""
    if s.type == "kubernetes:helm.sh/v3:Release":
        version = str(s.props.get("version") or "")
        if not EXACT_VERSION.match(version):
            yield f"chart {s.props.get('chart')!r} must pin an exact version, got {version!r}"
    if s.type == "aws:eks/addon:Addon" and not s.props.get("addonVersion"):
        yield f"add-on {s.props.get('addonName')!r} must pin an explicit version"
    pod = _pod_spec(s)
    for container in _containers(pod) if pod else []:
        image = str(container.get("image", ""))
        tail = image.rsplit("/", 1)[-1]
        if "@sha256:" not in image and (":" not in tail or tail.endswith(":latest")):
            yield f"image {image!r} must be pinned by tag or digest, never latest"


def namespaces_restricted(s: Subject, _: Settings) -> Iterator[str]:
    """R2, advisory: every exception to Pod Security 'restricted' stays visible."""
    if s.type != "kubernetes:core/v1:Namespace":
        return
    labels = _get(s.props, "metadata", "labels") or {}
    level = labels.get("pod-security.kubernetes.io/enforce")
    if level is not None and level != "restricted":
        reason = (_get(s.props, "metadata", "annotations") or {}).get(
            "eks-config-storage.io/pod-security-reason", "no reason given"
        )
        yield f"namespace enforces {level!r}, not restricted: {reason}"


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
        "eks-secrets-encryption",
        "R3",
        "EKS Secrets are envelope-encrypted with a customer key",
        "mandatory",
        eks_secrets_encryption,
    ),
    ResourceRule(
        "kms-key-rotation", "R3", "KMS keys rotate automatically", "mandatory", kms_rotation
    ),
    ResourceRule(
        "efs-encrypted-tls-only",
        "R3",
        "EFS is encrypted with the key and refuses non-TLS access",
        "mandatory",
        efs_encrypted_tls,
    ),
    ResourceRule(
        "storage-class-encrypted",
        "R3",
        "EBS classes use the stack's key; EFS classes mount with tls and iam",
        "mandatory",
        storage_class_encrypted,
    ),
    ResourceRule(
        "node-volumes-encrypted",
        "R3",
        "Node volumes are encrypted with the stack's key",
        "mandatory",
        node_volumes_encrypted,
    ),
    ResourceRule(
        "irsa-trust-exact",
        "R2",
        "IRSA trust: StringEquals on sub and aud, one service account per subject",
        "mandatory",
        irsa_trust_exact,
    ),
    ResourceRule(
        "iam-no-wildcards",
        "R2",
        "No '*' action, and '*' resource only for APIs without resource-level permissions",
        "mandatory",
        iam_no_wildcards,
    ),
    ResourceRule(
        "rbac-least-privilege",
        "R2",
        "RBAC without wildcards; Secrets only by resourceNames, never listed",
        "mandatory",
        rbac_least_privilege,
    ),
    ResourceRule(
        "nodes-imdsv2-hop-limit-1",
        "R2",
        "Nodes require IMDSv2 with hop limit 1",
        "mandatory",
        nodes_imdsv2,
    ),
    ResourceRule(
        "eks-endpoint-exposure",
        "R2",
        "Production API endpoints are private; a public one never faces 0.0.0.0/0",
        "mandatory",
        eks_endpoint_exposure,
    ),
    ResourceRule(
        "namespaces-pod-security-restricted",
        "R2",
        "Namespaces enforce Pod Security 'restricted' (exceptions reported)",
        "advisory",
        namespaces_restricted,
    ),
    ResourceRule(
        "configmap-no-secrets",
        "R1",
        "ConfigMaps hold settings, never secrets",
        "mandatory",
        configmap_no_secrets,
    ),
    ResourceRule(
        "env-no-literal-secrets",
        "R1",
        "Secret-looking container variables come from Secrets",
        "mandatory",
        env_no_literal_secrets,
    ),
    ResourceRule(
        "no-secret-data",
        "F2",
        "No Secret with data is created by the program",
        "mandatory",
        no_secret_data,
    ),
    ResourceRule(
        "ebs-classes-wait-for-first-consumer",
        "R4",
        "EBS classes bind WaitForFirstConsumer",
        "mandatory",
        storage_class_binds_late,
    ),
    ResourceRule(
        "classes-wait-for-first-consumer",
        "R4",
        "Every other class binds WaitForFirstConsumer too (uniform semantics)",
        "advisory",
        storage_class_binds_late_everywhere,
    ),
    ResourceRule(
        "storage-class-sla-name",
        "R5",
        "Class names follow the SLA naming function",
        "mandatory",
        storage_class_sla_name,
    ),
    ResourceRule(
        "storage-class-expandable",
        "R6",
        "Every class allows volume expansion",
        "mandatory",
        storage_class_expandable,
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
        "no-host-path", "F3", "No hostPath volumes in any workload", "mandatory", no_host_path
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


@dataclass(frozen=True)
class Verdict:
    name: str
    principle: str
    enforcement: Enforcement
    description: str
    violations: list[tuple[str, str]]

    @property
    def failed(self) -> bool:
        return bool(self.violations)


def evaluate(subjects: Sequence[Subject], settings: Settings) -> list[Verdict]:
    """Every rule over every subject: the offline plan's verdicts."""
    verdicts = [
        Verdict(
            rule.name,
            rule.principle,
            rule.enforcement,
            rule.description,
            [(s.urn, message) for s in subjects for message in rule.check(s, settings)],
        )
        for rule in RESOURCE_RULES
    ]
    verdicts += [
        Verdict(
            rule.name,
            rule.principle,
            rule.enforcement,
            rule.description,
            list(rule.check(subjects, settings)),
        )
        for rule in STACK_RULES
    ]
    return verdicts
