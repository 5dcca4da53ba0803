"""The storage catalog config rejects every impossible or unsafe combination, by key."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from config import ConfigError, load_stack_config, rules
from design import storage as sc
from tests.support.plan_helpers import rejected
from tests.support.stack_values import MINIMAL, broken
from tools.offline import run_config, runner, stack_config

GP3 = {"backing": "gp3", "access": "rwo", "default": True}
EFS = {"backing": "efs", "access": "rwx"}

BAD_STORAGE = [
    # (stack, key, value, key path named in the message)
    (
        "dev",
        "storage.classes",
        [GP3, {"backing": "efs", "access": "rwo"}],
        "storage.classes[1].access",
    ),
    (
        "dev",
        "storage.classes",
        [{"backing": "gp3", "access": "rwx", "default": True}],
        "storage.classes[0].access",
    ),
    ("dev", "storage.classes", [{**GP3, "iops": 2000}], "storage.classes[0].iops"),
    ("dev", "storage.classes", [{**GP3, "iops": 90000}], "storage.classes[0].iops"),
    ("dev", "storage.classes", [{**GP3, "throughputMibps": 1000}], "storage.classes[0].iops"),
    (
        "dev",
        "storage.classes",
        [GP3, {"backing": "io2", "access": "rwo", "tier": "db"}],
        "storage.classes[1].iops",
    ),
    (
        "dev",
        "storage.classes",
        [GP3, {"backing": "io2", "access": "rwo", "iops": 300000}],
        "storage.classes[1].iops",
    ),
    (
        "dev",
        "storage.classes",
        [GP3, {"backing": "st1", "access": "rwo", "iops": 500}],
        "storage.classes[1].iops",
    ),
    ("dev", "storage.classes", [GP3, {**GP3, "backing": "io2", "iops": 5000}], "storage.classes"),
    ("dev", "storage.classes", [{"backing": "gp3", "access": "rwo"}], "storage.classes"),
    ("dev", "storage.classes", [GP3, GP3], "storage.classes"),
    ("dev", "storage.classes", [GP3, {**EFS, "iops": 3000}], "storage.classes[1].iops"),
    (
        "dev",
        "storage.classes",
        [{**GP3, "directoryPerms": "755"}],
        "storage.classes[0].directoryPerms",
    ),
    (
        "dev",
        "storage.classes",
        [GP3, {**EFS, "gidRangeStart": 9, "gidRangeEnd": 5}],
        "storage.classes[1].gidRangeStart",
    ),
    ("dev", "storage.classes", [{**GP3, "blockExpress": True}], "storage.classes[0].blockExpress"),
    ("dev", "storage.classes", [{**GP3, "backing": "gp2"}], "storage.classes[0].backing"),
    ("dev", "storage.efs", {"enabled": False}, "storage.classes[1].backing"),
    (
        "dev",
        "storage.efs",
        {"throughputMode": "provisioned"},
        "storage.efs.provisionedThroughputMibps",
    ),
    ("dev", "storage.efs", {"transitionToIaDays": 5}, "storage.efs.transitionToIaDays"),
    ("dev", "environment", "a-very-long-environment-name", "environment"),
    (
        "dev",
        "snapshots.policies",
        [{"name": "daily", "schedule": "0 3 * * *", "keep": 0}],
        "snapshots.policies[0].keep",
    ),
    (
        "dev",
        "snapshots.policies",
        [{"name": "daily", "schedule": "0 3 * * *"}],
        "snapshots.policies[0].keep",
    ),
    (
        "dev",
        "snapshots.policies",
        [{"name": "daily", "schedule": "every day", "keep": 3}],
        "snapshots.policies[0].schedule",
    ),
    (
        "dev",
        "snapshots.policies",
        [{"name": "d", "schedule": "@daily", "keep": 3}] * 2,
        "snapshots.policies",
    ),
    ("dev", "snapshots.jobImage", "docker.io/alpine/k8s:latest", "snapshots.jobImage"),
    ("dev", "snapshots.jobImage", "docker.io/alpine/k8s", "snapshots.jobImage"),
    *[
        (
            "dev",
            "snapshots.policies",
            [{"name": "daily", "schedule": "0 3 * * *", "keep": 3, "maxAge": age}],
            "snapshots.policies[0].maxAge",
        )
        for age in ("14 days", "0d", "36m", "1.5d", "3651d", "23h")
    ],
    ("dev", "addons.ebsCsiDriver", "latest", "addons.ebsCsiDriver"),
    ("prod", "storage.reclaimPolicy", "Delete", "storage.reclaimPolicy"),
    ("prod", "snapshots.deletionPolicy", "Delete", "snapshots.deletionPolicy"),
    ("prod", "storage.efs", {"throughputMode": "elastic", "backup": False}, "storage.efs.backup"),
]


def test_a_max_age_shorter_than_the_schedules_gap_is_refused_with_both():
    """Every run would prune all but the newest, whatever keep says: refused, and said why."""
    policy = {"name": "weekly", "schedule": "0 3 * * 0", "keep": 4, "maxAge": "6d"}
    line = rejected(
        "dev",
        broken(stack_config("dev"), "snapshots.policies", [policy]),
        "snapshots.policies[0].maxAge",
    )
    assert "6d is shorter than the 168h between runs of '0 3 * * 0'" in line
    policy["maxAge"] = "1w"
    values = broken(stack_config("dev"), "snapshots.policies", [policy])
    assert runner.typed_config("dev", values).snapshots.policies[0].max_age_seconds == 7 * 86400


@pytest.mark.parametrize(("stack", "key", "value", "named"), BAD_STORAGE)
def test_bad_storage_config_is_rejected_by_key_before_any_resource(stack, key, value, named):
    rejected(stack, broken(stack_config(stack), key, value), named)


BASE = MINIMAL


@given(
    backing=st.sampled_from(["gp3", "io2", "st1", "sc1", "efs"]),
    access=st.sampled_from(["rwo", "rwx"]),
    tier=st.none() | st.from_regex(r"[a-z][a-z0-9]{0,8}", fullmatch=True),
    env=st.from_regex(r"[a-z][a-z0-9]{0,15}", fullmatch=True),
    mode=st.sampled_from(["bursting", "elastic", "provisioned"]),
)
def test_names_exist_exactly_for_possible_classes_and_show_the_sla(
    backing, access, tier, env, mode
):
    spec = sc.ClassSpec(
        backing=backing, access=access, environment=env, efs_throughput_mode=mode, tier=tier
    )
    possible = (backing == "efs") == (access == "rwx")
    if not possible:
        with pytest.raises(ValueError):
            sc.storage_class_name(spec)
        return
    name = sc.storage_class_name(spec)
    parts = name.split("-")
    assert parts[0] == backing and parts[-1] == access and parts[-2] == env
    assert parts[1] == (
        sc.EFS_THROUGHPUT_LABELS[mode] if backing == "efs" else sc.EBS_MEDIA[backing]
    )
    assert sc.name_problem(name) is None


@given(iops=st.integers(1, 300000), throughput=st.none() | st.integers(1, 3000))
def test_gp3_performance_is_accepted_exactly_within_the_volume_limits(iops, throughput):
    values = {
        **BASE,
        "storage": {
            "efs": {"enabled": False},
            "classes": [
                {**GP3, "iops": iops, **({"throughputMibps": throughput} if throughput else {})}
            ],
        },
    }
    within = 3000 <= iops <= 80000 and (
        throughput is None or (125 <= throughput <= 2000 and throughput <= iops / 4)
    )
    try:
        cfg = load_stack_config(values, "dev")
    except ConfigError as exc:
        assert not within
        assert exc.problems[0][0] == "storage.classes[0].iops"
    else:
        assert within
        assert cfg.storage.classes[0].iops == iops


@given(iops=st.integers(1, 400000))
def test_io2_accepts_what_every_io2_volume_now_does(iops):
    values = {
        **BASE,
        "storage": {
            "efs": {"enabled": False},
            "classes": [GP3, {"backing": "io2", "access": "rwo", "iops": iops}],
        },
    }
    try:
        load_stack_config(values, "dev")
    except ConfigError as exc:
        assert not 100 <= iops <= 256000
        assert exc.problems == [
            ("storage.classes[1].iops", f"io2 iops must be 100..256000, got {iops}")
        ]
    else:
        assert 100 <= iops <= 256000


def test_an_old_block_express_setting_still_plans_with_a_deprecation_warning(dev_values):
    classes = dev_values["eks-config-storage:storage"]["classes"]
    classes.append({"backing": "io2", "access": "rwo", "iops": 200000, "blockExpress": True})
    cfg = runner.typed_config("dev", dev_values)
    assert rules.warnings(cfg) == [
        (
            "storage.classes[2].blockExpress",
            "deprecated and ignored: every io2 volume is Block Express (up to 256,000 IOPS); "
            "remove the setting",
        )
    ]
    plan = run_config("dev", dev_values)
    io2 = plan.named("classes-io2-ssd-dev-rwo")
    assert io2.inputs["parameters"]["iops"] == "200000"
    assert "blockExpress" not in io2.inputs["parameters"]
