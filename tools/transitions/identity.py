"""Which old resource a new one is (aliases), and which creates collide with a resource that is
still there when they run.

Engine and API sources:
- An alias names a former URN; the engine takes the old state over under the new URN, so the
  resource is updated or replaced instead of created and deleted (pulumi/pulumi@v3.259.0:
  pkg/resource/deploy/step_generator.go, ``generateAliases``; an alias spec's missing ``name``
  or ``type`` is the resource's own).
- Creates and updates run before deletes: "the delete ... is generated 'later' on, after all
  creates/updates finish" (step_generator.go, create-first replacement; ``ScheduleDeletes``). A
  create whose physical name is still taken fails: IAM ``EntityAlreadyExists``, Kubernetes
  ``AlreadyExists`` (pulumi/pulumi-kubernetes@94977969: provider/pkg/await/await.go:190-290, "use
  an alias"), EKS ``ResourceInUseException`` for a second access entry of one principal
  (terraform-aws-modules/terraform-aws-eks#3293).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from tools.transitions import semantics as sem
from tools.transitions.rules import Violation

if TYPE_CHECKING:
    from tools.transitions.changes import Change

ACCESS_ENTRY = "aws:eks/accessEntry:AccessEntry"
# Names unique only within another resource: an inline policy within its role, a security group
# within its VPC.
SCOPE = {"aws:iam/rolePolicy:RolePolicy": "role", "aws:ec2/securityGroup:SecurityGroup": "vpcId"}
REFUSED_BY = {"aws:iam": "IAM", "aws:eks": "EKS", "kubernetes": "Kubernetes"}


def _alias_urns(entry: dict) -> list[str]:
    prefix, name = entry["urn"].rsplit("::", 1)
    chain, _, own_type = prefix.rpartition("$") if "$" in prefix else ("", "", prefix)
    head, _, _ = prefix.rpartition("::")
    urns = []
    for alias in (entry.get("options") or {}).get("aliases") or []:
        spec = alias.get("spec") or {}
        if "urn" in alias:
            urns.append(alias["urn"])
            continue
        alias_type = spec.get("type") or own_type.rsplit("::", 1)[-1]
        qualified = f"{chain}${alias_type}" if chain else f"{head}::{alias_type}"
        urns.append(f"{qualified}::{spec.get('name') or name}")
    return urns


def renamed(before: dict[str, dict], after: dict[str, dict]) -> dict[str, str]:
    """New URN -> the old URN its aliases take over (only when the old one is gone)."""
    found = {}
    for urn, entry in after.items():
        if urn in before:
            continue
        for alias in _alias_urns(entry):
            if alias in before and alias not in after and alias not in found.values():
                found[urn] = alias
                break
    return found


def physical(entry: dict) -> tuple | None:
    """What the cloud or the cluster knows the resource by, when the program chooses it."""
    resource_type, inputs = entry["type"], entry["inputs"]
    if resource_type.startswith("kubernetes:"):
        meta = inputs.get("metadata") or {}
        name = meta.get("name") or inputs.get("name")
        if resource_type.endswith("Patch") or not name:
            return None  # a patch changes an object it does not create
        return (resource_type, meta.get("namespace") or inputs.get("namespace"), name)
    if resource_type == ACCESS_ENTRY:
        return (resource_type, inputs.get("clusterName"), inputs.get("principalArn"))
    field = sem.AUTONAMED.get(resource_type)
    if field and inputs.get(field):
        return (resource_type, inputs.get(SCOPE.get(resource_type, "")), inputs[field])
    return None


def _refuser(resource_type: str) -> str:
    return next((v for k, v in REFUSED_BY.items() if resource_type.startswith(k)), "the API")


def collision_rules(changes: list[Change]) -> Iterator[tuple[Violation, str, str]]:
    """A create (or a create-first replacement's new one) whose physical name a resource that is
    deleted only later still holds."""
    held = {}
    for change in changes:
        old = change.before if change.action in ("delete", "replace") else None
        if old is not None and (ident := physical(old)):
            held[ident] = change
    for change in changes:
        creates = change.action == "create" or (
            change.action == "replace" and not change.delete_first
        )
        if not creates or change.after is None or not (ident := physical(change.after)):
            continue
        other = held.get(ident)
        if other is None or other is change:
            continue
        yield (
            Violation(
                change.name,
                f"{change.kind} {ident[-1]} is created while {other.name} still holds that name "
                "(creates run before deletes), so the create fails and the update stops part-way; "
                "remove the old one in one change and add the new one in the next",
                "",
                _refuser(change.type),
            ),
            "",
            "",
        )
