"""A class entry is validated by its backend's own model (the union keyed on ``backing``), and
the messages still name the key as a stack file writes it."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from config import ConfigError, load_stack_config
from config.schema.storage import CLASS_ENTRIES, RETIRED_ENTRIES, Storage
from design.storage.registry import BACKINGS, REGISTRY
from tests.support.stack_values import MINIMAL

GP3 = {"backing": "gp3", "access": "rwo", "default": True}
EFS = {"backing": "efs", "access": "rwx"}


def problems(classes: list[dict[str, Any]], **storage: Any) -> dict[str, str]:
    values = {**copy.deepcopy(MINIMAL), "storage": {"classes": classes, **storage}}
    with pytest.raises(ConfigError) as failure:
        load_stack_config(values, "dev")
    return dict(failure.value.problems)


def test_the_union_has_one_member_per_backend_and_every_backing_once():
    tags = [m.model_fields["backing"].annotation.__args__ for m in CLASS_ENTRIES]
    assert [t for tag in tags for t in tag] == list(BACKINGS)
    assert len(CLASS_ENTRIES) == len(RETIRED_ENTRIES) == len(REGISTRY)
    assert all("name" in m.model_fields for m in RETIRED_ENTRIES)


def test_each_backend_settings_key_is_a_storage_key():
    for backend in REGISTRY:
        if backend.settings is not None:
            key, model = backend.settings
            assert Storage.model_fields[key].annotation is model


@pytest.mark.parametrize(
    "classes, path, message",
    [
        ([GP3, {**EFS, "iops": 3000}], "storage.classes[1].iops", "only EBS classes"),
        ([{**GP3, "basePath": "/x"}], "storage.classes[0].basePath", "only EFS classes"),
        ([{**GP3, "iopz": 5}], "storage.classes[0].iopz", "unknown key; did you mean 'iops'?"),
        (
            [{**GP3, "backing": "gp2"}],
            "storage.classes[0].backing",
            "Input should be 'gp3', 'io2', 'st1', 'sc1' or 'efs'; got 'gp2'",
        ),
        (
            [{**GP3, "backing": 5}],
            "storage.classes[0].backing",
            "Input should be 'gp3', 'io2', 'st1', 'sc1' or 'efs'; got 5",
        ),
        ([{"access": "rwo", "default": True}], "storage.classes[0].backing", "Field required"),
        ([{**EFS, "default": True, "gidRangeStart": "9"}], "storage.classes[0].gidRangeStart", ""),
    ],
)
def test_a_class_mistake_is_named_by_its_key_path_without_the_tag(classes, path, message):
    found = problems(classes)
    assert path in found, found
    assert found[path].startswith(message), found[path]
    assert not any(".gp3." in key or ".efs." in key for key in found), found


def test_a_retired_class_refuses_another_backends_setting_by_its_path():
    found = problems([GP3], retiredClasses=[{**EFS, "name": "old-efs", "fsType": "xfs"}])
    assert found == {"storage.retiredClasses[0].fsType": "only EBS classes take this setting"}
