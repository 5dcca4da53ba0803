"""The rotator's ``patch`` on volumesnapshotcontents reaches every content of the cluster (RBAC
cannot name them in advance); an admission policy, evaluated here with its own CEL, lets it
only release a content of the stack's classes the way the script does."""

from __future__ import annotations

import copy

import pytest

from design import snapshots as design
from tests.support.admission import denials
from tests.support.plan_helpers import CRONJOB, VAP

ROTATOR = "system:serviceaccount:storage-snapshots:snapshot-rotator"
ANNOTATION = "snapshots.eks-config-storage.io/pruning"


def content(**changes) -> dict:
    """A content the snapshot controller made for app/data-daily-1 in the prod class."""
    obj = {
        "apiVersion": "snapshot.storage.k8s.io/v1",
        "kind": "VolumeSnapshotContent",
        "metadata": {
            "name": "snapcontent-1",
            "finalizers": ["snapshot.storage.kubernetes.io/volumesnapshotcontent-bound-protection"],
        },
        "spec": {
            "deletionPolicy": "Retain",
            "driver": "ebs.csi.aws.com",
            "source": {"volumeHandle": "vol-0123"},
            "volumeSnapshotClassName": "ebs-retain-prod",
            "volumeSnapshotRef": {
                "kind": "VolumeSnapshot",
                "namespace": "app",
                "name": "data-daily-1",
                "uid": "5d1f",
            },
        },
    }
    for path, value in changes.items():
        *parents, leaf = path.split("__")
        node = obj
        for key in parents:
            node = node.setdefault(key, {})
        if value is None:
            node.pop(leaf, None)
        else:
            node[leaf] = value
    return obj


def released(old: dict) -> dict:
    """What the script's merge patch makes of ``old``."""
    new = copy.deepcopy(old)
    ref = old["spec"]["volumeSnapshotRef"]
    new["metadata"].setdefault("annotations", {})[ANNOTATION] = f"{ref['namespace']}/{ref['name']}"
    new["spec"]["deletionPolicy"] = "Delete"
    return new


@pytest.fixture(scope="module")
def scope(plans) -> dict:
    plan = plans["prod"]
    policy = plan.one(f"{VAP}:ValidatingAdmissionPolicy", "snapshots-rotator-scope")
    binding = plan.one(f"{VAP}:ValidatingAdmissionPolicyBinding", "snapshots-rotator-scope")
    assert binding.inputs["spec"] == {
        "policyName": design.ADMISSION_POLICY,
        "validationActions": ["Deny"],
    }
    for job in plan.of_type(CRONJOB):
        if job.name.startswith("snapshots-"):
            assert plan.depends_on(job, binding), job.name
    assert policy.inputs["spec"]["failurePolicy"] == "Fail"
    return policy.inputs["spec"]


def update(spec: dict, old: dict, new: dict, username: str = ROTATOR) -> list[str]:
    return denials(
        spec,
        username=username,
        operation="UPDATE",
        resource="volumesnapshotcontents",
        old=old,
        new=new,
    )


@pytest.mark.parametrize("class_name", ["ebs-retain-prod", "ebs-delete-prod"])
def test_the_scripts_release_of_a_content_of_the_stack_is_admitted(scope, class_name):
    old = content(spec__volumeSnapshotClassName=class_name)
    assert update(scope, old, released(old)) == []
    # Released again (the script patches even a content that is already Delete).
    assert update(scope, released(old), released(old)) == []


def test_other_accounts_are_not_judged(scope):
    old = content(spec__volumeSnapshotClassName="someone-elses")
    new = content(spec__volumeSnapshotClassName="someone-elses", spec__deletionPolicy="Delete")
    assert update(scope, old, new, username="system:serviceaccount:velero:velero-server") == []


BREAKS = {
    "a content of another class": (
        content(spec__volumeSnapshotClassName="manual-backups"),
        released,
        "only contents of the stack's snapshot classes",
    ),
    "a content without a class": (
        content(spec__volumeSnapshotClassName=None),
        released,
        "only contents of the stack's snapshot classes",
    ),
    "setting Retain": (
        content(),
        lambda old: {**released(old), "spec": {**old["spec"], "deletionPolicy": "Retain"}},
        "only releases a content",
    ),
    "no mark": (content(), lambda old: content(spec__deletionPolicy="Delete"), "marked"),
    "a mark naming another snapshot": (
        content(),
        lambda old: content(
            spec__deletionPolicy="Delete", metadata__annotations={ANNOTATION: "app/other"}
        ),
        "marked",
    ),
    "re-pointing the content": (
        content(),
        lambda old: released(
            content(spec__volumeSnapshotRef={"namespace": "app", "name": "x", "uid": "1"})
        ),
        "changes nothing else",
    ),
    "dropping its finalizers": (
        content(),
        lambda old: released(content(metadata__finalizers=None)),
        "changes nothing else",
    ),
    "relabelling it": (
        content(),
        lambda old: released(content(metadata__labels={"owner": "me"})),
        "changes nothing else",
    ),
    "moving it to another class": (
        content(),
        lambda old: released(content(spec__volumeSnapshotClassName="ebs-delete-prod")),
        "changes nothing else",
    ),
}


@pytest.mark.parametrize("case", list(BREAKS))
def test_anything_else_is_refused_with_the_reason(scope, case):
    old, change, says = BREAKS[case]
    messages = update(scope, old, change(old))
    assert messages, case
    assert any(says in m for m in messages), messages


def delete(spec: dict, old: dict) -> list[str]:
    return denials(
        spec, username=ROTATOR, operation="DELETE", resource="volumesnapshotcontents", old=old
    )


def test_only_contents_it_released_may_be_deleted(scope):
    """finish_releases deletes released contents that outlived their snapshot; nothing else."""
    assert delete(scope, released(content())) == []
    assert "the snapshot rotator deletes only contents it released" in delete(scope, content())
    unmarked = content(spec__deletionPolicy="Delete")
    assert "the snapshot rotator deletes only contents it released" in delete(scope, unmarked)
    foreign = released(content(spec__volumeSnapshotClassName="manual-backups"))
    assert any("stack's snapshot classes" in m for m in delete(scope, foreign))
