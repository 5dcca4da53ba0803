"""Rules that span several fields or depend on the environment.

Each rule returns ``(key path, message)`` pairs; the loader reports all of them at once. They run
after the structure has been validated, so they can rely on every field having its declared type.
Rules live by concern (``cluster``, ``nodes``, ``storage``, ``apps``); ``RULES`` is the catalogue.
"""

from __future__ import annotations

from config.catalog import (
    class_name,
    classes_by_policy,
    classes_by_schedule,
    known_classes,
    storage_catalog,
    velero_schedules,
    watched_jobs,
)
from config.rules.apps import (
    RESERVED_NAMESPACES,
    apps,
    namespaces_apart,
    platform_namespaces,
    remote_names,
)
from config.rules.backups import backups, protection, restore_drills
from config.rules.base import Problem, Rule, repeated
from config.rules.cluster import (
    access_roles,
    deployer_problems,
    endpoint_exposure,
    endpoint_reachable,
    endpoint_sources_unique,
    images,
    kubernetes_support,
    one_network_mode,
    previewer,
    production_safety,
    someone_can_administer,
)
from config.rules.iam import permissions_boundary
from config.rules.identity import agent_needed, app_identity, identity, workload_modes
from config.rules.nodes import node_group_instances, node_group_releases, node_group_sizes
from config.rules.storage import (
    backend_settings,
    production_storage,
    snapshot_policies,
    storage_class_catalog,
    warnings,
)
from config.schema import StackConfig

RULES: tuple[Rule, ...] = (
    one_network_mode,
    endpoint_exposure,
    endpoint_reachable,
    endpoint_sources_unique,
    kubernetes_support,
    production_safety,
    someone_can_administer,
    access_roles,
    permissions_boundary,
    identity,
    node_group_sizes,
    node_group_instances,
    node_group_releases,
    storage_class_catalog,
    backend_settings,
    snapshot_policies,
    production_storage,
    namespaces_apart,
    apps,
    remote_names,
    protection,
    backups,
    restore_drills,
)


def problems(cfg: StackConfig) -> list[Problem]:
    return [problem for rule in RULES for problem in rule(cfg)]


__all__ = [
    "RESERVED_NAMESPACES",
    "RULES",
    "Problem",
    "Rule",
    "agent_needed",
    "app_identity",
    "class_name",
    "classes_by_policy",
    "classes_by_schedule",
    "deployer_problems",
    "images",
    "known_classes",
    "platform_namespaces",
    "previewer",
    "problems",
    "repeated",
    "storage_catalog",
    "velero_schedules",
    "warnings",
    "watched_jobs",
    "workload_modes",
]
