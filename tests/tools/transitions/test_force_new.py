"""Which inputs replace a resource comes from the provider's own schema where it is stored
(tools/transitions/force_new.json), and from a cited row per field where it is not; every
FORCE_NEW field is tied to one of them."""

from __future__ import annotations

import copy
import json

import pytest

from tools.transitions import force_new
from tools.transitions.semantics import FORCE_NEW, UPDATE_NOTES

NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
MOUNT_TARGET = "aws:efs/mountTarget:MountTarget"


def test_every_replacing_input_is_read_from_a_schema_or_cited():
    assert force_new.problems(force_new.load(), FORCE_NEW) == []


def test_the_stored_schemas_say_what_the_diff_relies_on():
    read = force_new.from_schemas(force_new.load())
    # Instance types, AMI and capacity type replace the group (review rows A9, N35, N36) ...
    assert {"instanceTypes", "amiType", "capacityType", "subnetIds"} <= read[NODE_GROUP]
    # ... while version, release and launch template roll it in place, and sizes update it.
    in_place = set(UPDATE_NOTES[NODE_GROUP]) | {"scalingConfig", "labels", "updateConfig"}
    assert in_place.isdisjoint(read[NODE_GROUP])
    # A mount target moves to another subnet only by replacement (rows A14, N33).
    assert read[MOUNT_TARGET] == {"fileSystemId", "ipAddress", "subnetId"}


def test_every_cited_row_names_its_source_and_what_it_says():
    for row in force_new.load()["cited"]:
        assert force_new.SOURCE.match(row["source"]), row
        assert row["says"], row


def test_a_field_the_schema_does_not_force_is_caught():
    ours = dict(FORCE_NEW)
    ours[NODE_GROUP] = FORCE_NEW[NODE_GROUP] | {"releaseVersion"}
    ours[MOUNT_TARGET] = FORCE_NEW[MOUNT_TARGET] - {"subnetId"}
    found = force_new.problems(force_new.load(), ours)
    assert len(found) == 2
    (group,) = [f for f in found if f.startswith(f"{NODE_GROUP}: FORCE_NEW [")]
    assert "'releaseVersion'" in group
    (target,) = [f for f in found if f.startswith(f"{MOUNT_TARGET}: FORCE_NEW [")]
    assert target.endswith("the provider's schema ['fileSystemId', 'ipAddress', 'subnetId']")


def test_an_uncited_field_and_a_stale_row_are_caught():
    ours = dict(FORCE_NEW)
    ours["aws:kms/key:Key"] = FORCE_NEW["aws:kms/key:Key"] - {"multiRegion"} | {"description"}
    found = force_new.problems(force_new.load(), ours)
    assert found == [
        "aws:kms/key:Key description: neither in a stored schema nor cited",
        "aws:kms/key:Key multiRegion: cited but not in FORCE_NEW (stale row)",
    ]


@pytest.mark.parametrize(
    ("constant", "attribute", "pulumi"),
    [
        ("SubnetIDs", "subnet_ids", "subnetIds"),
        ("FileSystemID", "file_system_id", "fileSystemId"),
        ("IPAddress", "ip_address", "ipAddress"),
        ("ClusterName", "cluster_name", "clusterName"),
    ],
)
def test_provider_constants_become_pulumi_input_names(constant, attribute, pulumi):
    assert force_new.snake(constant) == attribute
    assert force_new.camel(attribute) == pulumi


def test_a_refresh_rereads_each_schema_at_its_ref_or_a_new_one(tmp_path):
    data = force_new.load()
    block = data["schemas"][MOUNT_TARGET]["schema"]
    moved = block.replace(
        "\t\t\tnames.AttrIPAddress: {\n\t\t\t\tType:         schema.TypeString,\n"
        "\t\t\t\tOptional:     true,\n\t\t\t\tComputed:     true,\n\t\t\t\tForceNew:     true,",
        "\t\t\tnames.AttrIPAddress: {\n\t\t\t\tType:         schema.TypeString,\n"
        "\t\t\t\tOptional:     true,\n\t\t\t\tComputed:     true,",
    )
    assert moved != block
    asked = []

    def fetch(url: str) -> bytes:
        asked.append(url)
        source = moved if "mount_target" in url else data["schemas"][NODE_GROUP]["schema"]
        return (
            f"package x\n\nfunc r() {{\n\treturn &schema.Resource{{\n{source}\n\t}}\n}}\n".encode()
        )

    path = tmp_path / "force_new.json"
    path.write_text(json.dumps(copy.deepcopy(data)))
    assert force_new.main(["--refresh", "--ref", "v6.0.0"], fetch, path) == 1
    assert sorted(asked) == [
        "https://raw.githubusercontent.com/hashicorp/terraform-provider-aws/v6.0.0/"
        "internal/service/efs/mount_target.go",
        "https://raw.githubusercontent.com/hashicorp/terraform-provider-aws/v6.0.0/"
        "internal/service/eks/node_group.go",
    ]
    written = json.loads(path.read_text())
    assert written["schemas"][MOUNT_TARGET]["source"].startswith(
        "hashicorp/terraform-provider-aws@v6.0.0:"
    )
    assert force_new.from_schemas(written)[MOUNT_TARGET] == {"fileSystemId", "subnetId"}
