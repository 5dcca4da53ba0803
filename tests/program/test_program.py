"""The whole program, per stack file: structure, protection of state, composition rules."""

from __future__ import annotations

from design.resource_types import TYPES
from tests.support.plan_helpers import typed
from tools.offline import Plan, run_stack, stack_config, stack_names

# What holds state, from the one per-type table (tests/design/test_resource_types.py pins it;
# the key, the cluster, the file system and its data path, the logs, the backup bucket).
STATEFUL = {t for t, facts in TYPES.items() if facts.protected}
# Data that must outlive even a deliberate removal from the program: the key (every encrypted
# byte), the file system (its files), the control-plane logs (audit evidence).
RETAINED = {"aws:kms/key:Key", "aws:efs/fileSystem:FileSystem", "aws:cloudwatch/logGroup:LogGroup"}
# Protected without holding state, on purpose: the marker that makes turning EFS off stop before
# anything of it is removed (components/efs.py: EfsInUse).
GUARDS = {"efs-in-use-marker"}


def test_every_stack_file_is_planned(plans):
    assert set(plans) == set(stack_names()) >= {"dev", "prod"}
    for plan in plans.values():
        assert len(plan) > 30


def test_every_resource_belongs_to_a_component(plan: Plan):
    """__main__ only composes: every custom resource is a component's child."""
    for resource in plan:
        if resource.custom:
            assert resource.parent in plan.by_urn, f"{resource.name} has no component parent"
        else:
            assert resource.type.startswith("eks-config-storage:")


def test_children_are_named_from_their_component(plan: Plan):
    for resource in plan:
        parent = plan.by_urn.get(resource.parent)
        if parent is not None:
            assert resource.name.startswith(f"{parent.name}-"), resource.urn


def test_stateful_resources_are_protected_exactly_in_protected_stacks(plan: Plan):
    protected = stack_config(plan.stack).get("eks-config-storage:protect", False)
    stateful = [r for r in plan if r.type in STATEFUL or r.name in GUARDS]
    assert stateful
    for resource in stateful:
        assert resource.protect is protected, resource.urn
    for resource in plan:
        if resource.type not in STATEFUL and resource.name not in GUARDS:
            assert not resource.protect, f"{resource.urn} is protected but holds no state"


def test_data_is_retained_on_delete_exactly_in_protected_stacks(plan):
    cfg = typed(plan.stack)
    protected = cfg.protect
    expected = RETAINED if cfg.storage.efs.enabled else RETAINED - {"aws:efs/fileSystem:FileSystem"}
    retained = [r for r in plan if r.type in RETAINED]
    assert {r.type for r in retained} == expected
    for resource in retained:
        assert resource.options["retainOnDelete"] is protected, resource.urn


def test_every_namespace_the_program_creates_gives_default_no_token(plan):
    namespaces = {
        r.inputs["metadata"]["name"] for r in plan.of_type("kubernetes:core/v1:Namespace")
    }
    quiet = {
        r.inputs["metadata"]["namespace"]
        for r in plan.of_type("kubernetes:core/v1:ServiceAccountPatch")
        if r.inputs["metadata"]["name"] == "default"
        and r.inputs["automountServiceAccountToken"] is False
    }
    assert len(namespaces) >= 3
    assert namespaces == quiet


def test_kubernetes_objects_use_the_cluster_provider(plan: Plan):
    provider = plan.one("pulumi:providers:kubernetes")
    for resource in plan:
        if resource.type.startswith("kubernetes:"):
            assert resource.provider_urn == provider.urn, resource.urn


def test_plans_are_deterministic(plans):
    again = run_stack("dev")
    assert sorted((r.urn, str(r.inputs)) for r in again) == sorted(
        (r.urn, str(r.inputs)) for r in plans["dev"]
    )
