"""Rules that span several fields or depend on the environment.

Each rule returns ``(key path, message)`` pairs; the loader reports all of them at once. They run
after the structure has been validated, so they can rely on every field having its declared type.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator

from config.schema import App, StackConfig, StorageClass
from design import eks_versions
from design import storage as sc
from design.apps import secret_name
from design.aws import caller_role_name
from design.images import image_pin_problem
from design.naming import arn_resource_name

Problem = tuple[str, str]
Rule = Callable[[StackConfig], Iterator[Problem]]


def repeated(key: str, what: str, values: Iterable[str]) -> Iterator[Problem]:
    """One problem per value that occurs more than once."""
    for value, count in Counter(values).items():
        if count > 1:
            yield key, f"{what} {value!r} is used {count} times"


def one_network_mode(cfg: StackConfig) -> Iterator[Problem]:
    if (cfg.network.create is None) == (cfg.network.existing is None):
        yield "network", "set exactly one of 'create' (new VPC) or 'existing' (adopt a VPC)"


def endpoint_exposure(cfg: StackConfig) -> Iterator[Problem]:
    ep = cfg.endpoint
    if ep.public_access and cfg.production:
        yield "endpoint.publicAccess", "a production cluster's API endpoint must be private only"
    if ep.public_access and not ep.public_access_cidrs:
        yield (
            "endpoint.publicAccessCidrs",
            "a public endpoint must list the CIDRs allowed to reach it",
        )
    if not ep.public_access and ep.public_access_cidrs:
        yield "endpoint.publicAccessCidrs", "CIDRs given but endpoint.publicAccess is false"


def endpoint_reachable(cfg: StackConfig) -> Iterator[Problem]:
    """The deployer's Kubernetes steps need a way in: pulumi-kubernetes fails every object of a
    cluster it cannot reach ("configured Kubernetes cluster is unreachable",
    pulumi/pulumi-kubernetes@v4.32.0:provider/pkg/provider/provider.go)."""
    ep = cfg.endpoint
    if ep.public_access:
        return
    if not ep.private_sources:
        yield (
            "endpoint",
            "nothing can reach the API server: the endpoint is private only and no network is "
            "admitted to it (EKS's cluster security group admits only itself); set "
            "endpoint.privateAccessCidrs or endpoint.privateAccessSecurityGroupIds to the "
            "networks your deploy runners and operators connect from",
        )
    elif cfg.network.create is not None:
        yield (
            "endpoint",
            "the endpoint is private only, but network.create makes the VPC in this same up: no "
            "runner can be inside it or connected to it yet, so every Kubernetes object would "
            "fail; adopt a VPC your deploy runners reach (network.existing) or, outside "
            "production, reach a public endpoint limited to your runners' addresses "
            "(endpoint.publicAccess with publicAccessCidrs)",
        )


def kubernetes_support(cfg: StackConfig) -> Iterator[Problem]:
    if problem := eks_versions.support_problem(cfg.kubernetes_version, eks_versions.today()):
        yield "kubernetesVersion", problem


def production_safety(cfg: StackConfig) -> Iterator[Problem]:
    if not cfg.production:
        return
    if not cfg.protect:
        yield "protect", "production stacks must protect their stateful resources"
    if cfg.kms.deletion_window_days != 30:
        yield "kms.deletionWindowDays", "production keys keep the longest window (30 days)"
    for key, image in images(cfg):
        if problem := image_pin_problem(image, production=True):
            yield key, problem


def images(cfg: StackConfig) -> list[tuple[str, str]]:
    """Every container image the config makes the program deploy, by key."""
    return [("snapshots.jobImage", cfg.snapshots.job_image)]


def someone_can_administer(cfg: StackConfig) -> Iterator[Problem]:
    if not cfg.admin_role_arns and not cfg.bootstrap_creator_admin:
        yield (
            "adminRoleArns",
            "list at least one admin role (include the role that deploys this stack), "
            "or set bootstrapCreatorAdmin",
        )


def access_roles(cfg: StackConfig) -> Iterator[Problem]:
    for key, arns in (
        ("adminRoleArns", cfg.admin_role_arns),
        ("previewRoleArns", cfg.preview_role_arns),
    ):
        yield from repeated(key, "role", arns)
        # Each access entry is named after the role's own name (the ARN's last segment).
        unique = list(dict.fromkeys(arns))
        yield from repeated(key, "role name", (arn_resource_name(a) for a in unique))
    # EKS holds one access entry per principal.
    for arn in sorted(set(cfg.admin_role_arns) & set(cfg.preview_role_arns)):
        yield "previewRoleArns", f"{arn} is already an admin; a role has one kind of access"


def node_group_sizes(cfg: StackConfig) -> Iterator[Problem]:
    for i, group in enumerate(cfg.node_groups):
        if not group.min_size <= group.desired_size <= group.max_size:
            yield (
                f"nodeGroups[{i}]",
                f"sizes must satisfy minSize <= desiredSize <= maxSize "
                f"(got {group.min_size} <= {group.desired_size} <= {group.max_size})",
            )
    yield from repeated("nodeGroups", "node group name", (g.name for g in cfg.node_groups))


def class_name(cfg: StackConfig, cls: StorageClass) -> str:
    """The SLA name a catalog entry gets (raises ValueError for impossible combinations)."""
    return sc.storage_class_name(
        sc.ClassSpec(
            backing=cls.backing,
            access=cls.access,
            environment=cfg.environment,
            efs_throughput_mode=cfg.storage.efs.throughput_mode,
            tier=cls.tier,
        )
    )


def storage_catalog(cfg: StackConfig) -> list[tuple[str, StorageClass]]:
    """Every catalog entry with its SLA name (for a config that passed validation)."""
    return [(class_name(cfg, cls), cls) for cls in cfg.storage.classes]


def storage_class_catalog(cfg: StackConfig) -> Iterator[Problem]:
    names: Counter[str] = Counter()
    for i, cls in enumerate(cfg.storage.classes):
        key = f"storage.classes[{i}]"
        try:
            name = class_name(cfg, cls)
        except ValueError as exc:
            yield f"{key}.access", str(exc)
            continue
        names[name] += 1
        if problem := sc.name_problem(name):
            yield key, problem
        yield from _class_settings(cfg, cls, key)
    for name, count in names.items():
        if count > 1:
            yield "storage.classes", f"{count} classes are named {name!r}: give them a tier"
    defaults = sum(cls.default for cls in cfg.storage.classes)
    if defaults != 1:
        yield "storage.classes", f"exactly one class must be the default, found {defaults}"
    yield from _retired_classes(cfg, set(names))


def _retired_classes(cfg: StackConfig, current: set[str]) -> Iterator[Problem]:
    retired = cfg.storage.retired_classes
    yield from repeated("storage.retiredClasses", "class", (r.name for r in retired))
    for i, cls in enumerate(retired):
        key = f"storage.retiredClasses[{i}]"
        if cls.name in current:
            yield f"{key}.name", f"{cls.name!r} is still in the catalog (storage.classes)"
        if cls.backing in sc.EBS_MEDIA and cls.access != "rwo":
            yield f"{key}.access", "EBS classes are ReadWriteOnce (rwo)"
        if cls.backing == "efs" and cls.access != "rwx":
            yield f"{key}.access", "EFS classes are ReadWriteMany (rwx)"
        yield from _class_settings(cfg, cls, key)


def _class_settings(cfg: StackConfig, cls: StorageClass, key: str) -> Iterator[Problem]:
    explicit = cls.model_fields_set
    if cls.backing == "efs":
        if not cfg.storage.efs.enabled:
            yield f"{key}.backing", "an EFS class needs storage.efs.enabled"
        for field in ("iops", "throughput_mibps", "block_express", "fs_type"):
            if field in explicit:
                yield f"{key}.{_camel(field)}", "only EBS classes take this setting"
        if cls.gid_range_start >= cls.gid_range_end:
            yield f"{key}.gidRangeStart", "must be below gidRangeEnd"
        return
    for field in ("directory_perms", "gid_range_start", "gid_range_end", "base_path"):
        if field in explicit:
            yield f"{key}.{_camel(field)}", "only EFS classes take this setting"
    if cls.block_express and cls.backing != "io2":
        yield f"{key}.blockExpress", "only io2 volumes have Block Express"
    if problem := sc.ebs_iops_problem(
        cls.backing, cls.iops, cls.throughput_mibps, cls.block_express
    ):
        yield f"{key}.iops", problem


def _camel(field: str) -> str:
    head, *rest = field.split("_")
    return head + "".join(part.title() for part in rest)


def efs_settings(cfg: StackConfig) -> Iterator[Problem]:
    efs = cfg.storage.efs
    provisioned = efs.throughput_mode == "provisioned"
    if provisioned and efs.provisioned_throughput_mibps is None:
        yield "storage.efs.provisionedThroughputMibps", "required in provisioned throughput mode"
    if not provisioned and efs.provisioned_throughput_mibps is not None:
        yield "storage.efs.provisionedThroughputMibps", "only used in provisioned throughput mode"


def snapshot_policies(cfg: StackConfig) -> Iterator[Problem]:
    policies = cfg.snapshots.policies
    yield from repeated("snapshots.policies", "policy name", (p.name for p in policies))
    if policies and not any(cls.backing in sc.EBS_MEDIA for cls in cfg.storage.classes):
        yield "snapshots.policies", "snapshots are taken of EBS volumes: add an EBS class"


def production_storage(cfg: StackConfig) -> Iterator[Problem]:
    if not cfg.production:
        return
    if cfg.storage.reclaim_policy != "Retain":
        yield "storage.reclaimPolicy", "production volumes outlive their claims: use Retain"
    for i, cls in enumerate(cfg.storage.classes):
        if cls.reclaim_policy == "Delete":
            yield f"storage.classes[{i}].reclaimPolicy", "production classes must Retain"
    if cfg.snapshots.deletion_policy != "Retain":
        yield "snapshots.deletionPolicy", "production snapshots must outlive their objects"
    if cfg.storage.efs.enabled and not cfg.storage.efs.backup:
        yield "storage.efs.backup", "production file systems are backed up"


RESERVED_NAMESPACES = frozenset({"default", "kube-system", "kube-public", "kube-node-lease"})


def apps(cfg: StackConfig) -> Iterator[Problem]:
    reserved = RESERVED_NAMESPACES | {
        cfg.external_secrets.namespace,
        cfg.sealed_secrets.namespace,
        cfg.snapshots.namespace,
    }
    yield from repeated("apps", "app name", (a.name for a in cfg.apps))
    yield from repeated("apps", "namespace", (a.namespace_name for a in cfg.apps))
    classes = {name for name, _ in storage_catalog(cfg)} if _catalog_ok(cfg) else set()
    retired = {r.name for r in cfg.storage.retired_classes}
    for i, app in enumerate(cfg.apps):
        key = f"apps[{i}]"
        if app.namespace_name in reserved:
            yield f"{key}.namespace", f"{app.namespace_name!r} belongs to the platform"
        yield from _app_pod_security(app, key)
        yield from _app_secrets(app, key)
        for j, budget in enumerate(app.storage):
            if budget.storage_class in retired:
                yield (
                    f"{key}.storage[{j}].class",
                    f"{budget.storage_class!r} is retired: it admits no new claims; budget the "
                    "class that replaced it",
                )
            elif classes and budget.storage_class not in classes:
                yield (
                    f"{key}.storage[{j}].class",
                    f"unknown StorageClass {budget.storage_class!r}; this stack has "
                    f"{', '.join(sorted(classes))}",
                )
        yield from repeated(f"{key}.storage", "class", (b.storage_class for b in app.storage))


def _catalog_ok(cfg: StackConfig) -> bool:
    try:
        storage_catalog(cfg)
    except ValueError:
        return False
    return True


def _app_pod_security(app: App, key: str) -> Iterator[Problem]:
    relaxed = app.pod_security.level != "restricted"
    if relaxed and not app.pod_security.reason:
        yield f"{key}.podSecurity.reason", "say why this app cannot run as restricted"
    if not relaxed and app.pod_security.reason:
        yield f"{key}.podSecurity.reason", "a reason is only for a relaxed level"


def _app_secrets(app: App, key: str) -> Iterator[Problem]:
    for j, item in enumerate(app.secrets):
        if (item.secrets_manager is None) == (item.parameter is None):
            yield f"{key}.secrets[{j}]", "set exactly one of secretsManager or parameter"
    yield from repeated(f"{key}.secrets", "secret key", (item.key for item in app.secrets))
    if secret_name(app.name) in app.sealed_secrets:
        yield f"{key}.sealedSecrets", f"{secret_name(app.name)} is the External Secrets target"


RULES: tuple[Rule, ...] = (
    one_network_mode,
    endpoint_exposure,
    endpoint_reachable,
    kubernetes_support,
    production_safety,
    someone_can_administer,
    access_roles,
    node_group_sizes,
    storage_class_catalog,
    efs_settings,
    snapshot_policies,
    production_storage,
    apps,
)


def problems(cfg: StackConfig) -> list[Problem]:
    return [problem for rule in RULES for problem in rule(cfg)]


def deployer_problems(cfg: StackConfig, caller_arn: str) -> list[Problem]:
    """The identity running the deployment must stay able to manage the cluster's objects.

    The cluster authenticates through access entries only (``authentication_mode: API``,
    awsdocs/amazon-eks-user-guide: latest/ug/manage-access/k8s-access/grant-k8s-access.adoc), so
    an ``up`` by a role missing from ``adminRoleArns`` would remove its own entry and lock every
    later deployment out of Kubernetes."""
    if cfg.bootstrap_creator_admin:
        return []
    role = caller_role_name(caller_arn)
    account = caller_arn.split(":")[4] if caller_arn.count(":") >= 5 else ""
    admins = {(a.split(":")[4], arn_resource_name(a)) for a in cfg.admin_role_arns}
    if role is not None and (account, role) in admins:
        return []
    return [
        (
            "adminRoleArns",
            f"the deploying identity {caller_arn} is not among them: this deployment would lock "
            "itself (and the pipeline) out of the cluster's Kubernetes API; add its role, or set "
            "bootstrapCreatorAdmin",
        )
    ]


def previewer(cfg: StackConfig, caller_arn: str) -> bool:
    """Whether the caller is one of the stack's read-only preview roles."""
    role = caller_role_name(caller_arn)
    return role is not None and role in {arn_resource_name(a) for a in cfg.preview_role_arns}
