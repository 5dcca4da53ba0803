"""The catalog: every derived view of a stack's config, computed once."""

from __future__ import annotations

from datetime import timedelta

from pydantic import TypeAdapter

from config.catalog import Catalog, CatalogEntry
from config.schema.storage import RetiredClass
from tests.support.plan_helpers import typed


def test_the_prod_catalog_names_every_class_and_what_covers_it():
    catalog = Catalog.of(typed("prod"))
    assert [(e.name, e.retired) for e in catalog.entries] == [
        ("gp3-ssd-prod-rwo", False),
        ("io2-ssd-db-prod-rwo", False),
        ("efs-elastic-prod-rwx", False),
    ]
    assert catalog.by_snapshot_policy == {
        "daily": ["gp3-ssd-prod-rwo", "io2-ssd-db-prod-rwo"],
        "hourly": ["gp3-ssd-prod-rwo", "io2-ssd-db-prod-rwo"],
    }
    assert catalog.by_backup_schedule == {"nightly": ["gp3-ssd-prod-rwo", "io2-ssd-db-prod-rwo"]}
    assert catalog.reclaim_policies == {
        "gp3-ssd-prod-rwo": "Retain",
        "io2-ssd-db-prod-rwo": "Retain",
        "efs-elastic-prod-rwx": "Retain",
    }
    assert "gp2" in catalog.known and "efs-elastic-prod-rwx" in catalog.known
    assert catalog.velero_schedules == [("nightly", timedelta(days=1))]
    jobs = {(w.kind, w.name): w.cron_job for w in catalog.watched_jobs}
    assert jobs[("snapshot policy", "hourly")] == "snapshot-hourly"
    assert jobs[("restore drill", "weekly")] == "drill-weekly"


def test_retired_classes_keep_their_names_and_their_own_coverage_and_reclaim_policy():
    cfg = typed("dev")
    retired = cfg.storage.classes[0].model_copy(
        update={
            "default": False,
            "reclaim_policy": "Retain",
            "protection": cfg.storage.classes[0].protection.model_copy(
                update={"snapshot_policies": ["daily"]}
            ),
        }
    )
    storage = cfg.storage.model_copy(
        update={"retired_classes": [_retired(retired, "gp3-ssd-dev-rwo-v1")]}
    )
    catalog = Catalog.of(cfg.model_copy(update={"storage": storage}))
    assert catalog.entries[-1] == CatalogEntry(
        "gp3-ssd-dev-rwo-v1", storage.retired_classes[0], True
    )
    assert catalog.by_snapshot_policy["daily"] == ["gp3-ssd-dev-rwo-v1"]
    assert catalog.reclaim_policies["gp3-ssd-dev-rwo-v1"] == "Retain"
    assert catalog.reclaim_policies["gp3-ssd-dev-rwo"] == "Delete"


def _retired(cls, name):
    return TypeAdapter(RetiredClass).validate_python(
        {"name": name, **cls.model_dump(exclude={"default"})}
    )
