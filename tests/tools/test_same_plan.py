"""The zero-difference proof's comparison: every kind of change to a plan document is reported."""

from __future__ import annotations

import copy

from tools.same_plan import GENERATED, differences

BUCKET = "urn:pulumi:dev::eks-config-storage::aws:s3/bucketV2:BucketV2::backups"
KEY = "urn:pulumi:dev::eks-config-storage::aws:kms/key:Key::key"


def document() -> dict:
    return {
        "stack": "dev",
        "resources": [
            {
                "urn": BUCKET,
                "type": "aws:s3/bucketV2:BucketV2",
                "parent": "",
                "inputs": {"bucket": "b", "tags": {"a": "1"}},
                "options": {"protect": True, "dependencies": [KEY]},
            },
            {"urn": KEY, "type": "aws:kms/key:Key", "parent": "", "inputs": {}, "options": {}},
        ],
        "exports": {"bucket": "b"},
    }


def test_identical_documents_have_no_differences():
    assert differences(document(), document()) == []


def test_a_changed_input_option_or_parent_is_named_by_urn_and_field():
    new = document()
    new["resources"][0]["inputs"]["tags"] = {"a": "2"}
    new["resources"][0]["options"]["dependencies"] = []
    new["resources"][1]["parent"] = BUCKET
    assert differences(document(), new) == [
        f"~ {KEY}: parent",
        f"~ {BUCKET}: inputs: tags",
        f"~ {BUCKET}: options: dependencies",
    ]


def test_a_renamed_resource_is_one_removal_and_one_addition():
    new = document()
    new["resources"][1]["urn"] = KEY + "-2"
    assert differences(document(), new) == [f"- {KEY}", f"+ {KEY}-2"]


def test_exports_stack_and_order_count_too():
    new = document()
    new["exports"]["bucket"] = "c"
    new["stack"] = "prod"
    assert differences(document(), new) == ["stack: 'dev' -> 'prod'", "~ export bucket"]
    reordered = copy.deepcopy(document())
    reordered["resources"].reverse()
    assert differences(document(), reordered) == ["resource order differs"]


def test_generated_stacks_cover_every_backend_and_feature_edit():
    assert {base for base, _ in GENERATED.values()} == {"dev", "prod"}
    assert set(GENERATED) >= {"gen-ebs-types", "gen-efs-off", "gen-efs-backups"}
