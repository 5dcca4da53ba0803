"""Apps move without losing what app teams put there: app slices are keyed by their namespace,
a protected stack retains app namespaces on delete, and stacks whose apps were keyed by name
keep every resource through aliases."""

from __future__ import annotations

import copy

from tools.offline import run_config, stack_config

NS = "eks-config-storage"
NAMESPACE = "kubernetes:core/v1:Namespace"


def renamed_from(resource) -> list[str]:
    """Former names among a resource's aliases (the SDK adds type aliases of its own)."""
    return [a["spec"]["name"] for a in resource.options["aliases"] if "name" in a["spec"]]


def app_namespaces(plan) -> list:
    return [r for r in plan.of_type(NAMESPACE) if r.name.startswith("app-")]


def test_app_namespaces_are_retained_exactly_in_protected_stacks(plan):
    protected = stack_config(plan.stack).get(f"{NS}:protect", False)
    namespaces = app_namespaces(plan)
    assert namespaces
    for namespace in namespaces:
        assert namespace.options["retainOnDelete"] is protected, namespace.name
        assert not namespace.protect, "retained, not protected: removal stays possible"


def test_renaming_an_app_that_keeps_its_namespace_keeps_the_namespace(plans):
    values = copy.deepcopy(stack_config("prod"))
    orders = next(a for a in values[f"{NS}:apps"] if a["name"] == "orders")
    orders.update(name="ordering", namespace="orders")
    after = run_config("prod", values)
    before_ns = plans["prod"].named("app-orders-namespace")
    after_ns = after.named("app-orders-namespace")
    assert after_ns.urn == before_ns.urn
    assert after_ns.inputs["metadata"]["name"] == "orders"
    # Only what carries the app's name moves: its ServiceAccount, ConfigMap, Role and IAM role.
    assert after.named("app-orders-sa").inputs["metadata"]["name"] == "ordering"
    assert after.named("app-orders-irsa-role").inputs["name"] == "eks-prod-app-ordering"


def test_stacks_keyed_by_app_name_keep_every_resource_through_aliases(dev_values):
    orders = next(a for a in dev_values[f"{NS}:apps"] if a["name"] == "orders")
    orders["namespace"] = "shop"
    plan = run_config("dev", dev_values)
    component = plan.named("app-shop")
    slice_ = [r for r in plan if r.name.startswith("app-shop")]
    assert len(slice_) >= 10
    for resource in slice_:
        former = "app-orders" + resource.name.removeprefix("app-shop")
        assert renamed_from(resource) == [former], resource.name
    assert component.type == "eks-config-storage:apps:AppNamespace"


def test_apps_named_after_their_namespace_need_no_aliases(plan):
    apps = stack_config(plan.stack).get(f"{NS}:apps", [])
    same = {f"app-{a['name']}" for a in apps if a.get("namespace", a["name"]) == a["name"]}
    for resource in plan:
        if any(resource.name == s or resource.name.startswith(f"{s}-") for s in same):
            assert renamed_from(resource) == [], resource.name
