"""The storage backend registry: every backend is one record, and nothing else knows its name."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from design import storage as sc
from design.storage import ebs, efs
from design.storage.registry import BACKINGS, REGISTRY, SNAPSHOTTER, by_provisioner, for_backing

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = ("config", "design", "components", "policies", "tools")
# A branch on a backend's name or its driver, spelled out: what the registry exists to prevent.
BRANCH = re.compile(
    r'backing\s*[!=]=|[!=]=\s*"e[bf]s"|"e[bf]s"\s*[!=]=|E[BF]S_PROVISIONER|EBS_MEDIA|'
    r"EXPANDABLE|\.provisioner\s*[!=]="
)


def test_every_backing_belongs_to_exactly_one_backend_and_every_driver_to_one():
    assert BACKINGS == ("gp3", "io2", "st1", "sc1", "efs")
    assert [for_backing(b).name for b in BACKINGS] == ["ebs"] * 4 + ["efs"]
    assert len({b.provisioner for b in REGISTRY}) == len(REGISTRY)
    assert by_provisioner("ebs.csi.aws.com") is ebs.BACKEND
    assert by_provisioner("efs.csi.aws.com") is efs.BACKEND
    assert by_provisioner("fsx.csi.aws.com") is None and by_provisioner(None) is None
    assert SNAPSHOTTER is ebs.BACKEND
    assert sc.snapshot_class_name("Retain", "prod") == "ebs-retain-prod"


def test_class_fields_are_owned_by_one_backend_each():
    owned = [f for b in REGISTRY for f in b.fields]
    assert len(owned) == len(set(owned))
    assert set(ebs.BACKEND.fields) == {"iops", "throughput_mibps", "block_express", "fs_type"}


@pytest.mark.parametrize(
    ("spec", "parameters"),
    [
        (sc.ClassSpec("io2", "rwo", "prod", None, "db"), {"type": "io2"}),
        (sc.ClassSpec("st1", "rwo", "dev"), {"type": "st1"}),
        (sc.ClassSpec("efs", "rwx", "dev", "provisioned", "shared"), {"fileSystemId": "fs-1"}),
    ],
)
def test_a_class_name_is_found_again_from_its_backends_candidates(spec, parameters):
    name = sc.storage_class_name(spec)
    backend = for_backing(spec.backing)
    found = [
        candidate
        for backing, access, mode in backend.name_candidates(parameters)
        for tier in (None, *name.split("-")[2:-2])
        if sc.storage_class_name(
            candidate := sc.ClassSpec(backing, access, spec.environment, mode, tier)
        )
        == name
    ]
    assert found == [spec]


def test_the_wrong_access_mode_is_refused_with_the_backends_reason():
    with pytest.raises(ValueError, match=r"^EBS classes are ReadWriteOnce \(rwo\): a volume"):
        sc.storage_class_name(sc.ClassSpec("gp3", "rwx", "dev"))
    with pytest.raises(ValueError, match=r"^EFS classes are ReadWriteMany \(rwx\)$"):
        sc.storage_class_name(sc.ClassSpec("efs", "rwo", "dev", "elastic"))


def test_only_efs_volumes_expand_never_and_only_ebs_volumes_are_zonal():
    assert [(b.name, b.expandable, b.zonal, b.snapshots) for b in REGISTRY] == [
        ("ebs", True, True, True),
        ("efs", False, False, False),
    ]
    assert sc.expandable("ebs.csi.aws.com") and not sc.expandable("efs.csi.aws.com")


def test_no_module_outside_the_registry_branches_on_a_backend():
    offenders = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for part in PRODUCTION
        for path in sorted((ROOT / part).rglob("*.py"))
        if "design/storage/" not in path.as_posix()
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if BRANCH.search(line)
    ]
    assert offenders == []


def test_each_backend_names_its_driver_add_on_accounts_and_configuration():
    assert [(b.addon, b.addon_accounts) for b in REGISTRY] == [
        ("aws-ebs-csi-driver", ("ebs-csi-controller-sa",)),
        ("aws-efs-csi-driver", ("efs-csi-controller-sa",)),
    ]
    assert ebs.BACKEND.addon_configuration("irsa", "c") == ebs.ADDON_CONFIGURATION
    assert ebs.BACKEND.addon_configuration("podIdentity", "c")["controller"] == {
        "k8sTagClusterId": "c"
    }
    assert efs.BACKEND.addon_configuration("podIdentity", "c") is None
