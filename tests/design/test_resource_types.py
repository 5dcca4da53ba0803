"""One per-type table: every type the program registers has facts, and every consumer reads them."""

from __future__ import annotations

from design.resource_types import CORE, TYPES, missing
from design.storage.registry import REGISTRY
from policies.rules.base import STATEFUL_TYPES
from tools.transitions import semantics


def test_every_custom_type_any_stack_registers_has_a_facts_row(plans):
    registered = {r.type for plan in plans.values() for r in plan if r.custom}
    assert len(registered) > 40
    assert missing(registered) == []


def test_a_type_without_a_row_is_reported_and_providers_are_not():
    assert missing({"aws:fsx/openZfsFileSystem:OpenZfsFileSystem", "aws:kms/key:Key"}) == [
        "aws:fsx/openZfsFileSystem:OpenZfsFileSystem"
    ]
    assert missing({"pulumi:providers:aws"}) == []


def test_backend_rows_join_the_table_without_overriding_a_core_row():
    rows = [t for b in REGISTRY for t in b.resource_types]
    assert len(rows) == len(set(rows)) and not set(rows) & set(CORE)
    assert set(rows) == {
        "aws:efs/fileSystem:FileSystem",
        "aws:efs/mountTarget:MountTarget",
        "aws:efs/fileSystemPolicy:FileSystemPolicy",
        "aws:efs/backupPolicy:BackupPolicy",
    }
    assert set(rows) <= set(TYPES)


def test_the_guard_and_the_policies_read_the_same_rows():
    assert {
        "aws:kms/key:Key",
        "aws:eks/cluster:Cluster",
        "aws:efs/fileSystem:FileSystem",
        "aws:cloudwatch/logGroup:LogGroup",
        "aws:efs/mountTarget:MountTarget",
        "aws:efs/backupPolicy:BackupPolicy",
        "aws:s3/bucket:Bucket",
        "aws:s3/bucketVersioning:BucketVersioning",
    } == STATEFUL_TYPES
    assert {
        "Key",
        "Cluster",
        "FileSystem",
        "MountTarget",
        "BackupPolicy",
        "LogGroup",
        "StorageClass",
    } == semantics.STATEFUL_KINDS
    assert {"aws:efs/mountTarget:MountTarget"} == semantics.ALWAYS_DELETE_FIRST
    assert semantics.AUTONAMED["aws:efs/fileSystem:FileSystem"] == "creationToken"
    assert semantics.FORCE_NEW["aws:efs/mountTarget:MountTarget"] == {
        "fileSystemId",
        "ipAddress",
        "subnetId",
    }
    assert all(TYPES[t].force_new == fields for t, fields in semantics.FORCE_NEW.items())


def test_the_documents_rendered_for_review_are_the_policy_bearing_types():
    assert {t: f.document for t, f in TYPES.items() if f.document} == {
        "aws:iam/role:Role": ("assumeRolePolicy", "trust"),
        "aws:iam/rolePolicy:RolePolicy": ("policy", "policy"),
        "aws:kms/keyPolicy:KeyPolicy": ("policy", "key-policy"),
        "aws:efs/fileSystemPolicy:FileSystemPolicy": ("policy", "file-system-policy"),
    }
