"""Node groups whose instance types their AMI cannot run are refused by key before anything is
registered: architecture (Graviton types on the Arm AMI only), accelerators without an
accelerated AMI, families no EKS AMI supports, mixed or repeated types."""

from __future__ import annotations

import copy

import pytest
from hypothesis import given
from hypothesis import strategies as st

from config import ConfigError, load_stack_config
from design.instances import ARM, X86, instance_type
from tests.support.plan_helpers import rejected
from tests.support.stack_values import MINIMAL, broken
from tools.offline import stack_config

ARM_AMI = "AL2023_ARM_64_STANDARD"
X86_AMI = "AL2023_x86_64_STANDARD"
GRAVITON = [
    "m7g.large",
    "c6gn.xlarge",
    "t4g.medium",
    "r8g.2xlarge",
    "x2gd.xlarge",
    "im4gn.large",
    "is4gen.xlarge",
    "c7gd.metal",
    "hpc7g.16xlarge",
    "m6gd.large",
    "c8g.large",
]
X86_TYPES = [
    "m6i.large",
    "t3.large",
    "m6a.xlarge",
    "c7i-flex.large",
    "r7iz.large",
    "x2iedn.xlarge",
    "m5zn.large",
    "c5n.xlarge",
    "i4i.large",
    "u-6tb1.112xlarge",
    "z1d.large",
]
ACCELERATED = [
    "g4dn.xlarge",
    "g5.xlarge",
    "g6e.xlarge",
    "gr6.4xlarge",
    "p4d.24xlarge",
    "p5.48xlarge",
    "inf2.xlarge",
    "trn1.2xlarge",
    "dl1.24xlarge",
]


def values(*groups: dict, production: bool = False) -> dict:
    base = {"name": "a", "minSize": 1, "maxSize": 2, "desiredSize": 1}
    return {**MINIMAL, "production": production, "nodeGroups": [{**base, **g} for g in groups]}


def problems(*groups: dict, **kw) -> list[tuple[str, str]]:
    try:
        load_stack_config(values(*groups, **kw), "dev")
    except ConfigError as exc:
        return exc.problems
    return []


@pytest.mark.parametrize("name", GRAVITON)
def test_graviton_types_run_on_the_arm_ami_only(name):
    assert instance_type(name).architecture == ARM
    assert problems({"instanceTypes": [name], "amiType": ARM_AMI}) == []
    ((key, message),) = problems({"instanceTypes": [name]})
    assert key == "nodeGroups[0].instanceTypes[0]" and "AL2023_ARM_64_STANDARD" in message


@pytest.mark.parametrize("name", X86_TYPES)
def test_x86_types_run_on_the_x86_ami_only(name):
    assert instance_type(name).architecture == X86
    assert problems({"instanceTypes": [name]}) == []
    ((key, message),) = problems({"instanceTypes": [name], "amiType": ARM_AMI})
    assert key == "nodeGroups[0].instanceTypes[0]" and "Graviton types only" in message


FAMILIES = st.builds(
    lambda series, generation, graviton, attributes: (
        f"{series}{generation}{'g' if graviton else ''}{attributes}",
        graviton,
    ),
    st.sampled_from(["m", "c", "r", "t", "x", "i", "z", "im", "is", "hpc"]),
    st.integers(1, 9),
    st.booleans(),
    st.text(alphabet="adeinzb", max_size=3),
)


@given(
    family=FAMILIES,
    size=st.sampled_from(["medium", "large", "xlarge", "4xlarge", "metal"]),
    ami=st.sampled_from([ARM_AMI, X86_AMI]),
)
def test_a_type_is_accepted_exactly_when_its_architecture_is_the_amis(family, size, ami):
    name, graviton = family
    found = problems({"instanceTypes": [f"{name}.{size}"], "amiType": ami})
    assert (found == []) == (graviton == (ami == ARM_AMI)), found


@pytest.mark.parametrize("name", ACCELERATED)
@pytest.mark.parametrize("ami", [X86_AMI, ARM_AMI])
def test_accelerated_types_need_an_accelerated_ami(name, ami):
    ((key, message),) = problems({"instanceTypes": [name], "amiType": ami})
    assert key == "nodeGroups[0].instanceTypes[0]" and "accelerated AMI" in message


@pytest.mark.parametrize(
    ("name", "ami", "says"),
    [
        ("g5g.xlarge", ARM_AMI, "no EKS AMI supports g5g"),
        ("mac2.metal", X86_AMI, "no EKS AMI supports mac"),
        ("a1.large", ARM_AMI, "Graviton2 or later"),
    ],
)
def test_families_no_eks_ami_runs_are_refused(name, ami, says):
    ((_, message),) = problems({"instanceTypes": [name], "amiType": ami})
    assert says in message


def test_a_group_mixing_architectures_is_refused_once_for_the_group():
    found = problems({"instanceTypes": ["m6i.large", "m7g.large"], "amiType": X86_AMI})
    assert [key for key, _ in found] == ["nodeGroups[0].instanceTypes"]
    assert "mixes Arm (Graviton: m7g.large) and x86_64" in found[0][1]


def test_a_repeated_type_is_refused():
    found = problems({"instanceTypes": ["m6i.large", "m6i.large"]})
    assert found == [
        (
            "nodeGroups[0].instanceTypes",
            "instance type 'm6i.large' is used 2 times: "
            "nodeGroups[0].instanceTypes[0], nodeGroups[0].instanceTypes[1]",
        )
    ]


def test_an_unknown_name_is_left_to_eks():
    assert problems({"instanceTypes": ["future9x.large"]}) == []


def test_spot_with_one_type_is_allowed_outside_production_only():
    """EKS accepts it; production asks for a second capacity pool."""
    one, two = ["m6i.large"], ["m6i.large", "m6a.large"]
    assert problems({"instanceTypes": one, "capacityType": "SPOT"}) == []
    in_production = problems({"instanceTypes": one, "capacityType": "SPOT"}, production=True)
    assert (
        "nodeGroups[0].instanceTypes",
        "production Spot groups list at least two instance types (capacity pools)",
    ) in in_production
    two_types = problems({"instanceTypes": two, "capacityType": "SPOT"}, production=True)
    assert not [key for key, _ in two_types if key.startswith("nodeGroups")]
    prod = stack_config("prod")
    groups = copy.deepcopy(prod["eks-config-storage:nodeGroups"])
    groups[0].update(capacityType="SPOT", instanceTypes=["m6i.xlarge"])
    rejected("prod", broken(prod, "nodeGroups", groups), "nodeGroups[0].instanceTypes")


@pytest.mark.parametrize(
    ("types", "ami", "named"),
    [
        (["m7g.large"], X86_AMI, "nodeGroups[0].instanceTypes[0]"),
        (["t3.large", "g5.xlarge"], X86_AMI, "nodeGroups[0].instanceTypes[1]"),
        (["m6i.large", "t4g.large"], ARM_AMI, "nodeGroups[0].instanceTypes"),
    ],
)
def test_refusals_name_the_key_and_register_nothing(types, ami, named):
    values = broken(stack_config("dev"), "nodeGroups.0.instanceTypes", types)
    values = broken(values, "nodeGroups.0.amiType", ami)
    rejected("dev", values, named)
