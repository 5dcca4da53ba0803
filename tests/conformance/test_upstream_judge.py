"""The strict reading of a CRD schema (support/upstream_schema.py), rule by rule, and the vendored
schemas of the coming backup work accepting the objects it will render and refusing typos."""

from __future__ import annotations

import copy

import jsonschema
import pytest

from tests.support import upstream_schema as upstream


def judge(node: dict) -> jsonschema.Draft4Validator:
    schema = upstream.strict(node)
    jsonschema.Draft4Validator.check_schema(schema)
    return jsonschema.Draft4Validator(schema)


def obj(**properties) -> dict:
    return {"type": "object", "properties": properties}


def test_objects_refuse_undeclared_fields():
    v = judge(obj(spec=obj(size={"type": "integer"})))
    assert v.is_valid({"spec": {"size": 1}})
    assert not v.is_valid({"spec": {"size": 1, "sise": 1}})
    assert not v.is_valid({"other": 1})


def test_an_object_without_properties_takes_no_fields_unless_it_preserves_them():
    assert not judge(obj(config={"type": "object"})).is_valid({"config": {"any": 1}})
    preserved = obj(config={"type": "object", "x-kubernetes-preserve-unknown-fields": True})
    assert judge(preserved).is_valid({"config": {"any": {"deep": [1]}}})


def test_maps_take_any_key_with_values_of_their_schema():
    v = judge(obj(labels={"type": "object", "additionalProperties": {"type": "string"}}))
    assert v.is_valid({"labels": {"a": "b"}})
    assert not v.is_valid({"labels": {"a": 1}})


def test_int_or_string_takes_either_and_nothing_else():
    either = {"anyOf": [{"type": "integer"}, {"type": "string"}]}
    v = judge(obj(port={"x-kubernetes-int-or-string": True, **either}))
    assert v.is_valid({"port": 8080})
    assert v.is_valid({"port": "http"})
    assert not v.is_valid({"port": True})
    assert not v.is_valid({"port": [1]})


def test_nullable_takes_null():
    assert judge(obj(a={"type": "string", "nullable": True})).is_valid({"a": None})
    assert not judge(obj(a={"type": "string"})).is_valid({"a": None})


def test_a_set_refuses_duplicates_and_items_are_strict():
    v = judge(
        obj(names={"type": "array", "items": {"type": "string"}, "x-kubernetes-list-type": "set"})
    )
    assert v.is_valid({"names": ["a", "b"]})
    assert not v.is_valid({"names": ["a", "a"]})
    items = judge(obj(rules={"type": "array", "items": obj(name={"type": "string"})}))
    assert not items.is_valid({"rules": [{"name": "a", "nmae": "b"}]})


def test_an_embedded_resource_takes_its_type_and_metadata():
    v = judge(obj(template={**obj(spec=obj()), "x-kubernetes-embedded-resource": True}))
    embedded = {"apiVersion": "v1", "kind": "Pod", "metadata": {"labels": {"a": "b"}}, "spec": {}}
    assert v.is_valid({"template": embedded})
    assert not v.is_valid({"template": {**embedded, "status": {}}})


def test_value_checks_under_any_of_are_kept_as_upstream_wrote_them():
    one_of = obj(a={"type": "string"}, b={"type": "string"})
    one_of["oneOf"] = [{"required": ["a"]}, {"required": ["b"]}]
    v = judge(one_of)
    assert v.is_valid({"a": "x"})
    assert not v.is_valid({"a": "x", "b": "y"})


def test_boolean_exclusive_minimum_reads_as_openapi_3_0_does():
    v = judge(obj(n={"type": "integer", "minimum": 0, "exclusiveMinimum": True}))
    assert v.is_valid({"n": 1})
    assert not v.is_valid({"n": 0})


# -- the backup work's kinds -------------------------------------------------------------------

SAMPLES = [
    {
        "apiVersion": "velero.io/v1",
        "kind": "Schedule",
        "metadata": {"name": "daily", "namespace": "velero"},
        "spec": {
            "schedule": "0 1 * * *",
            "useOwnerReferencesInBackup": False,
            "template": {"includedNamespaces": ["orders"], "ttl": "720h0m0s"},
        },
    },
    {
        "apiVersion": "velero.io/v1",
        "kind": "Backup",
        "metadata": {"name": "orders-now", "namespace": "velero"},
        "spec": {"includedNamespaces": ["orders"], "storageLocation": "default"},
    },
    {
        "apiVersion": "velero.io/v1",
        "kind": "Restore",
        "metadata": {"name": "orders-restore", "namespace": "velero"},
        "spec": {"backupName": "orders-now", "includedNamespaces": ["orders"]},
    },
    {
        "apiVersion": "velero.io/v1",
        "kind": "BackupStorageLocation",
        "metadata": {"name": "default", "namespace": "velero"},
        "spec": {
            "provider": "aws",
            "objectStorage": {"bucket": "example-backups", "prefix": "dev"},
            "config": {"region": "eu-west-1"},
            "default": True,
        },
    },
    {
        "apiVersion": "velero.io/v1",
        "kind": "VolumeSnapshotLocation",
        "metadata": {"name": "default", "namespace": "velero"},
        "spec": {"provider": "aws", "config": {"region": "eu-west-1"}},
    },
    {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {"name": "backups", "namespace": "velero"},
        "spec": {
            "groups": [
                {
                    "name": "backups",
                    "rules": [
                        {
                            "alert": "BackupFailed",
                            "expr": "increase(velero_backup_failure_total[1h]) > 0",
                            "for": "15m",
                            "labels": {"severity": "critical"},
                        }
                    ],
                }
            ]
        },
    },
    {
        "apiVersion": "external-secrets.io/v1alpha1",
        "kind": "PushSecret",
        "metadata": {"name": "sealing-key", "namespace": "kube-system"},
        "spec": {
            "refreshInterval": "1h",
            "secretStoreRefs": [{"name": "aws-secrets-manager", "kind": "ClusterSecretStore"}],
            "selector": {"secret": {"name": "sealed-secrets-key"}},
            "data": [{"match": {"secretKey": "tls.key", "remoteRef": {"remoteKey": "dev/key"}}}],
        },
    },
]


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda s: s["kind"])
def test_backup_work_kinds_validate_and_refuse_a_typo(sample):
    assert upstream.manifest_problems(sample) == []
    broken = copy.deepcopy(sample)
    broken["spec"]["typo"] = True
    meta = sample["metadata"]
    assert upstream.manifest_problems(broken) == [
        f"{sample['kind']} {meta['namespace']}/{meta['name']}: spec: Additional properties "
        "are not allowed ('typo' was unexpected)"
    ]


def test_every_vendored_crd_version_compiles_to_a_schema():
    versions = [v for vs in upstream.catalogue().values() for v in vs]
    assert {v.kind for v in versions} == {
        "ExternalSecret",
        "ClusterSecretStore",
        "PushSecret",
        "VolumeSnapshotClass",
        "VolumeSnapshot",
        "VolumeSnapshotContent",
        "Backup",
        "Schedule",
        "Restore",
        "BackupStorageLocation",
        "VolumeSnapshotLocation",
        "PrometheusRule",
    }
    for version in versions:
        jsonschema.Draft4Validator.check_schema(upstream.strict(version.schema))


def test_go_inline_flags_after_the_anchor_still_apply():
    """prometheus-operator writes ``^(?i)(abort|warn)?$``, which RE2 reads case-insensitively."""
    rule = copy.deepcopy(next(s for s in SAMPLES if s["kind"] == "PrometheusRule"))
    rule["spec"]["groups"][0]["partial_response_strategy"] = "WARN"
    assert upstream.manifest_problems(rule) == []
    rule["spec"]["groups"][0]["partial_response_strategy"] = "retry"
    (problem,) = upstream.manifest_problems(rule)
    assert "spec.groups.0.partial_response_strategy: 'retry' does not match" in problem
