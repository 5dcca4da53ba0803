"""The whole program, per stack file: structure, protection of state, composition rules."""

from __future__ import annotations

from tools.offline import Plan, run_stack, stack_config, stack_names

STATEFUL = {"aws:kms/key:Key", "aws:eks/cluster:Cluster", "aws:efs/fileSystem:FileSystem"}


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
    stateful = [r for r in plan if r.type in STATEFUL]
    assert stateful
    for resource in stateful:
        assert resource.protect is protected, resource.urn
    for resource in plan:
        if resource.type not in STATEFUL:
            assert not resource.protect, f"{resource.urn} is protected but holds no state"


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
