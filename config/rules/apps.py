"""Application slices: namespaces, Pod Security, secrets and storage budgets."""

from __future__ import annotations

from collections.abc import Iterator

from config.catalog import storage_catalog
from config.remote_names import (
    RESERVED_PARAMETER_PREFIXES,
    environment_prefix_problem,
    full_length_problem,
)
from config.rules.base import Problem, repeated
from config.schema import App, StackConfig
from design import drills
from design.apps import PLATFORM_SECRET_PREFIX, secret_name

RESERVED_NAMESPACES = frozenset({"default", "kube-system", "kube-public", "kube-node-lease"})


def platform_namespaces(cfg: StackConfig) -> list[tuple[str, str]]:
    """Every namespace a platform feature of this stack creates or relies on, by the key that
    sets it: an app there would create (or delete) the feature's Namespace object, and two
    features in one would share its RBAC, quotas and Pod Security level."""
    found = [
        ("externalSecrets.namespace", cfg.external_secrets.namespace),
        ("sealedSecrets.namespace", cfg.sealed_secrets.namespace),
        ("snapshots.namespace", cfg.snapshots.namespace),
    ]
    if cfg.backups.enabled:
        found.append(("backups.namespace", cfg.backups.namespace))
    if cfg.monitoring.prometheus_rules:
        found.append(("monitoring.namespace", cfg.monitoring.namespace))
    if cfg.restore_drills:
        found.append(("restoreDrills", drills.NAMESPACE))
    return found


def namespaces_apart(cfg: StackConfig) -> Iterator[Problem]:
    """No two platform features in one namespace (Kubernetes's own kube-system excepted, where
    kubeseal expects the Sealed Secrets controller)."""
    seen: dict[str, str] = {}
    for key, namespace in platform_namespaces(cfg):
        if namespace in seen and namespace != "kube-system":
            yield key, f"{namespace!r} is already {seen[namespace]}: give each feature its own"
        seen.setdefault(namespace, key)


def apps(cfg: StackConfig) -> Iterator[Problem]:
    platform = dict((ns, key) for key, ns in reversed(platform_namespaces(cfg)))
    reserved = RESERVED_NAMESPACES | set(platform)
    yield from repeated("apps", "app name", (a.name for a in cfg.apps))
    yield from repeated("apps", "namespace", (a.namespace_name for a in cfg.apps))
    classes = {name for name, _ in storage_catalog(cfg)} if _catalog_ok(cfg) else set()
    retired = {r.name for r in cfg.storage.retired_classes}
    for i, app in enumerate(cfg.apps):
        key = f"apps[{i}]"
        if app.namespace_name in reserved:
            owner = f" ({platform[app.namespace_name]})" if app.namespace_name in platform else ""
            yield f"{key}.namespace", f"{app.namespace_name!r} belongs to the platform{owner}"
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
    yield from repeated(f"{key}.sealedSecrets", "Secret", app.sealed_secrets)
    yield from repeated(
        f"{key}.aws.s3", "bucket and prefix", (f"{s.bucket}/{s.prefix}" for s in app.aws.s3)
    )
    if secret_name(app.name) in app.sealed_secrets:
        yield f"{key}.sealedSecrets", f"{secret_name(app.name)} is the External Secrets target"


def remote_names(cfg: StackConfig) -> Iterator[Problem]:
    """What the environment's prefix decides: its own name repeated, and lengths with it."""
    env = cfg.environment
    reserved = env.lower().startswith(RESERVED_PARAMETER_PREFIXES)
    for i, app in enumerate(cfg.apps):
        for key, name, store in _remote_names(app, f"apps[{i}]"):
            if store == "secret" and name.startswith(PLATFORM_SECRET_PREFIX):
                yield key, f"'{env}/{PLATFORM_SECRET_PREFIX}' holds the platform's sealing key"
            elif name.split("/", 1)[0] == env:
                yield key, environment_prefix_problem(name, store)
            elif problem := full_length_problem(name, store, env):
                yield key, problem
            elif store == "parameter" and reserved:
                yield (
                    key,
                    (
                        "Parameter Store refuses names beginning with aws or ssm, and every "
                        f"parameter of this stack is under '/{env}/': rename the environment"
                    ),
                )


def _remote_names(app: App, key: str) -> Iterator[tuple[str, str, str]]:
    """``(key path, name, store)`` for every remote name the app's config holds."""
    for j, item in enumerate(app.secrets):
        if item.secrets_manager is not None:
            yield f"{key}.secrets[{j}].secretsManager", item.secrets_manager, "secret"
        if item.parameter is not None:
            yield f"{key}.secrets[{j}].parameter", item.parameter, "parameter"
    for j, name in enumerate(app.aws.secrets_manager):
        yield f"{key}.aws.secretsManager[{j}]", name, "secret"
    for j, name in enumerate(app.aws.parameters):
        yield f"{key}.aws.parameters[{j}]", name, "parameter"
