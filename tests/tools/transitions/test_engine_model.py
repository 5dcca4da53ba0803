"""Each engine behaviour the offline transition model follows, tied to the engine source it
models (pulumi/pulumi@v3.259.0, vendored under tests/upstream/pulumi/) and shown on small plans:
the source line must still be there, and the model must do what it says."""

from __future__ import annotations

import pytest

from tests.support.upstream_schema import UPSTREAM
from tools.transitions import Acknowledged, changes, guards, identity, judge, options, provider

DEPLOY = UPSTREAM / "pulumi" / "pkg" / "resource" / "deploy"
STACK = "urn:pulumi:prod::eks-config-storage::"


def source(name: str) -> str:
    return (DEPLOY / name).read_text()


def resource(name: str, resource_type: str, inputs: dict, **opts) -> dict:
    return {
        "urn": f"{STACK}{resource_type}::{name}",
        "name": name,
        "type": resource_type,
        "custom": True,
        "inputs": inputs,
        "outputs": opts.pop("outputs", {}),
        "options": {"protect": False, "retainOnDelete": False, **opts},
    }


def plan(*resources: dict, **exports) -> dict:
    return {"resources": list(resources), "exports": exports}


def by_name(old: dict, new: dict) -> dict:
    return {c.name: c for c in changes(old, new)}


def test_protected_deletes_continue_and_dependents_go_first():
    assert "if errors.As(err, &deleteProtectedError{}) {\n\t\tcontinueOnError = true" in source(
        "step_executor.go"
    )
    # Later antichains skip only what an errored step depends on.
    assert "deps := dg.TransitiveDependenciesOf(r)" in source("deployment_executor.go")
    assert "func (sg *stepGenerator) ScheduleDeletes(" in source("step_generator.go")
    bucket = resource("bucket", "aws:s3/bucket:Bucket", {"bucket": "b"}, protect=True)
    block = resource(
        "bucket-block",
        "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
        {"bucket": "b"},
        dependencies=[bucket["urn"]],
    )
    found = by_name(plan(bucket, block), plan())
    assert "the update continues past the refusal" in found["bucket"].consequence
    assert "what depends on it is deleted before it" in found["bucket"].consequence
    assert found["bucket-block"].consequence == "the bucket loses its public-access block"


def test_a_protected_replacement_stops_the_update():
    text = source("step_generator.go")
    assert "In Update mode, we bail to stop any further actions immediately." in text
    old = resource("key", "aws:kms/key:Key", {"multiRegion": False}, protect=True)
    new = resource("key", "aws:kms/key:Key", {"multiRegion": True}, protect=True)
    (change,) = changes(plan(old), plan(new))
    assert change.action == "replace"
    assert change.consequence.startswith("refused by protect: the update stops")


def test_the_old_states_retain_on_delete_applies():
    text = source("step.go")
    refused = text.index("if !s.replacing && s.old.Protect && !s.deployment.opts.IgnoreProtect {")
    assert refused < text.index("} else if s.old.RetainOnDelete {")
    kept = resource("ns", "kubernetes:core/v1:Namespace", {"metadata": {"name": "a"}})
    kept["options"]["retainOnDelete"] = True
    (change,) = changes(plan(kept), plan())
    assert change.consequence.startswith("removed from the stack and left in place (retained)")


@pytest.mark.parametrize(
    ("paths", "program", "expected"),
    [
        # The ignored path takes the old value; the rest is the program's.
        (
            ["scalingConfig.desiredSize"],
            {"desiredSize": 6, "minSize": 3},
            {"desiredSize": 3, "minSize": 3},
        ),
        # A path that is missing on one side is left as the program wrote it.
        (
            ["scalingConfig.absent"],
            {"desiredSize": 6, "minSize": 3},
            {"desiredSize": 6, "minSize": 3},
        ),
    ],
)
def test_ignored_inputs_take_their_old_values(paths, program, expected):
    assert "ok := path.Reset(oldInputs, ignoredInputs)" in source("step_generator.go")
    old = {"scalingConfig": {"desiredSize": 3, "minSize": 3}}
    restored = options.restore_ignored(old, {"scalingConfig": program}, paths)
    assert restored == {"scalingConfig": expected}


def test_an_ignored_change_is_no_update_and_a_refused_minimum_is_named():
    group = "aws:eks/nodeGroup:NodeGroup"
    ignore = {"ignoreChanges": ["scalingConfig.desiredSize"]}
    base = resource("nodes", group, {"scalingConfig": {"desiredSize": 3, "minSize": 3}}, **ignore)
    more = resource("nodes", group, {"scalingConfig": {"desiredSize": 6, "minSize": 3}}, **ignore)
    assert changes(plan(base), plan(more)) == []
    higher = resource("nodes", group, {"scalingConfig": {"desiredSize": 5, "minSize": 5}}, **ignore)
    found = changes(plan(base), plan(higher))
    judgement = judge(
        plan(base),
        plan(higher),
        found,
        Acknowledged(),
        guards.rules(plan(base), plan(higher), found),
    )
    (violation,) = judgement.violations
    assert violation.key == "" and "minSize 5 above the current desiredSize 3" in violation.message


def test_an_alias_takes_the_old_resource_over():
    assert "func (sg *stepGenerator) generateAliases(" in source("step_generator.go")
    old = resource(
        "app-orders-config",
        "kubernetes:core/v1:ConfigMap",
        {"metadata": {"name": "c", "namespace": "orders"}},
    )
    new = resource(
        "app-orders-v2-config",
        "kubernetes:core/v1:ConfigMap",
        {"metadata": {"name": "c", "namespace": "orders-v2"}},
        aliases=[{"spec": {"name": "app-orders-config", "parentUrn": ""}}],
    )
    assert identity.renamed({old["urn"]: old}, {new["urn"]: new}) == {new["urn"]: old["urn"]}
    (change,) = changes(plan(old), plan(new))
    assert (change.action, change.name, change.fields) == (
        "replace",
        "app-orders-v2-config",
        ("metadata",),
    )


def test_a_create_that_takes_a_name_still_held_is_refused():
    assert (
        'note that the delete step is generated "later" on, after all creates/updates finish.'
        in source("step_generator.go")
    )
    role = "aws:iam/role:Role"
    old = resource("app-orders-v2-irsa-role", role, {"name": "eks-prod-app-orders"})
    new = resource("app-orders-v3-irsa-role", role, {"name": "eks-prod-app-orders"})
    found = changes(plan(old), plan(new))
    (violation,) = [v for v, _, _ in identity.collision_rules(found)]
    assert (violation.subject, violation.key, violation.refused_by) == (
        "app-orders-v3-irsa-role",
        "",
        "IAM",
    )
    # A different name is no collision.
    other = resource("app-orders-v3-irsa-role", role, {"name": "eks-prod-app-ordering"})
    assert list(identity.collision_rules(changes(plan(old), plan(other)))) == []


def test_losing_protect_or_retain_on_delete_needs_its_own_acknowledgement():
    key = resource("key", "aws:kms/key:Key", {}, protect=True, retainOnDelete=True)
    plain = resource("key", "aws:kms/key:Key", {})
    (violation,) = [v for v, _, _ in options.option_rules(plan(key), plan(plain), [])]
    assert (violation.subject, violation.key) == ("protect", "acknowledge.settings")
    assert "protect removed from 1 (key); retainOnDelete removed from 1 (key)" in violation.message
    assert list(options.option_rules(plan(key), plan(key), [])) == []


def test_a_region_change_replaces_every_regional_resource():
    def regional(region: str) -> dict:
        arn = f"arn:aws:kms:{region}:123456789012:key/k"
        return plan(
            resource("key", "aws:kms/key:Key", {}, outputs={"arn": arn}, protect=True),
            resource("role", "aws:iam/role:Role", {"assumeRolePolicy": "{}"}),
        )

    old, new = regional("eu-west-1"), regional("eu-central-1")
    assert provider.region(old) == "eu-west-1"
    found = by_name(old, new)
    assert list(found) == ["key"]  # IAM is global
    assert found["key"].fields == ("region",)
    assert found["key"].consequence.startswith("refused by protect")
    (violation,) = [v for v, _, _ in provider.region_rules(old, new)]
    assert (violation.subject, violation.key) == ("region", "acknowledge.settings")


@pytest.mark.parametrize(
    ("subnets", "vpc", "said"),
    [
        (["subnet-a", "subnet-c2"], "vpc-1", "EKS accepts new subnets in the zones and VPC"),
        (["subnet-a", "subnet-d"], "vpc-1", "EKS refuses cluster subnets outside the zones"),
        (["subnet-a", "subnet-c2"], "vpc-2", "EKS refuses cluster subnets of another VPC"),
    ],
)
def test_cluster_subnets_are_refused_only_outside_its_zones_and_vpc(subnets, vpc, said):
    cluster = "aws:eks/cluster:Cluster"
    old = plan(
        resource("cluster", cluster, {"vpcConfig": {"subnetIds": ["subnet-a", "subnet-c"]}}),
        vpcId="vpc-1",
        privateSubnetIds={"eu-west-1a": "subnet-a", "eu-west-1c": "subnet-c"},
    )
    zone = "eu-west-1d" if "subnet-d" in subnets else "eu-west-1c"
    new = plan(
        resource("cluster", cluster, {"vpcConfig": {"subnetIds": subnets}}),
        vpcId=vpc,
        privateSubnetIds={"eu-west-1a": "subnet-a", zone: subnets[1]},
    )
    (change,) = changes(old, new)
    assert change.action == "update" and said in change.consequence
