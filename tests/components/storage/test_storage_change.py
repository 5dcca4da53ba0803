"""Storage classes change and retire safely: a change Kubernetes refuses in place replaces the
class cleanly (old one first, its name being fixed), and a class PVCs may still name is kept,
retired, when the catalog stops offering it."""

from __future__ import annotations

import copy

import pytest

from components.storage_classes import CLASS_IMMUTABLE, SNAPSHOT_CLASS_IMMUTABLE
from design.storage import DEFAULT_CLASS_ANNOTATION, RETIRED_LABEL
from policies.rules import Settings, Subject, evaluate
from tests.support.plan_helpers import rejected
from tools.offline import Plan, run_config, stack_config

STORAGE_CLASS = "kubernetes:storage.k8s.io/v1:StorageClass"
NS = "eks-config-storage"
QUOTA = "kubernetes:core/v1:ResourceQuota"


def test_classes_replace_old_first_on_exactly_the_fields_kubernetes_refuses_to_update(plan):
    classes = plan.of_type(STORAGE_CLASS)
    assert classes
    for cls in classes:
        assert cls.options["replaceOnChanges"] == [
            "parameters",
            "provisioner",
            "reclaimPolicy",
            "volumeBindingMode",
        ]
        assert cls.options["deleteBeforeReplace"] is True
    snapshot_class = plan.one("kubernetes:snapshot.storage.k8s.io/v1:VolumeSnapshotClass")
    assert snapshot_class.options["replaceOnChanges"] == ["driver", "parameters", "deletionPolicy"]
    assert snapshot_class.options["deleteBeforeReplace"] is True
    assert classes[0].options["replaceOnChanges"] == CLASS_IMMUTABLE
    assert snapshot_class.options["replaceOnChanges"] == SNAPSHOT_CLASS_IMMUTABLE


def renamed_db_tier(values: dict, retire: bool) -> dict:
    """prod with its io2 class's tier renamed (db -> oltp), the old one retired or not."""
    out = copy.deepcopy(values)
    storage = out[f"{NS}:storage"]
    db = next(c for c in storage["classes"] if c.get("tier") == "db")
    if retire:
        storage["retiredClasses"] = [{**copy.deepcopy(db), "name": "io2-ssd-db-prod-rwo"}]
    db["tier"] = "oltp"
    for app in out[f"{NS}:apps"]:
        for budget in app.get("storage", []):
            if budget["class"] == "io2-ssd-db-prod-rwo":
                budget["class"] = "io2-ssd-oltp-prod-rwo"
    return out


@pytest.fixture(scope="module")
def retired() -> Plan:
    return run_config("prod", renamed_db_tier(stack_config("prod"), retire=True))


def test_a_retired_class_stays_as_it_was_under_the_same_resource(plans, retired):
    before = plans["prod"].named("classes-io2-ssd-db-prod-rwo")
    after = retired.named("classes-io2-ssd-db-prod-rwo")
    assert after.urn == before.urn, "same resource: never deleted by the rename"
    for field in CLASS_IMMUTABLE:
        assert after.inputs.get(field) == before.inputs.get(field), field
    assert after.inputs["metadata"]["labels"][RETIRED_LABEL] == "true"
    assert DEFAULT_CLASS_ANNOTATION not in (after.inputs["metadata"].get("annotations") or {})
    assert retired.named("classes-io2-ssd-oltp-prod-rwo").inputs["parameters"]["iops"] == "16000"
    assert "io2-ssd-db-prod-rwo" not in retired.exports["storageClasses"]


def test_a_retired_class_admits_no_new_claims_but_lets_existing_ones_grow(retired):
    for quota in retired.of_type(QUOTA):
        hard = quota.inputs["spec"]["hard"]
        prefix = "io2-ssd-db-prod-rwo.storageclass.storage.k8s.io"
        assert hard[f"{prefix}/persistentvolumeclaims"] == "0"
        assert f"{prefix}/requests.storage" not in hard


def test_a_retired_class_passes_the_rules_under_its_old_name(retired):
    subjects = [Subject(r.type, r.name, r.urn, r.inputs, r.protect) for r in retired]
    verdicts = evaluate(subjects, Settings("prod", True, True))
    assert [v.name for v in verdicts if v.failed and v.enforcement == "mandatory"] == []


@pytest.mark.parametrize(
    ("change", "named", "says"),
    [
        (
            lambda v: v[f"{NS}:storage"]["retiredClasses"][0].update(name="gp3-ssd-prod-rwo"),
            "storage.retiredClasses[0].name",
            "still in the catalog",
        ),
        (
            lambda v: v[f"{NS}:apps"][0]["storage"].append(
                {"class": "io2-ssd-db-prod-rwo", "requests": "1Gi", "claims": 1}
            ),
            "apps[0].storage[2].class",
            "retired: it admits no new claims",
        ),
        (
            lambda v: v[f"{NS}:storage"]["retiredClasses"][0].update(default=True),
            "storage.retiredClasses[0].default",
            "False",
        ),
    ],
)
def test_retired_classes_are_checked(change, named, says):
    values = renamed_db_tier(stack_config("prod"), retire=True)
    change(values)
    assert says in rejected("prod", values, named)
