"""The sealing key survives the cluster (escrow and restore, with exact IAM), and backups cannot
fail silently (PrometheusRules valid against the upstream CRD, thresholds from the schedules)."""

from __future__ import annotations

import copy
from datetime import timedelta

import pytest

from design import alerts
from tests.conftest import aws_of, doc, rejected
from tests.test_config import broken
from tests.upstream_schema import manifest_problems, values_problems
from tools.offline import Plan, run_config, stack_config

NS = "eks-config-storage"


def manifest(resource) -> dict:
    return {k: resource.inputs[k] for k in ("apiVersion", "kind", "metadata", "spec")}


def test_the_active_sealing_key_is_pushed_with_the_stacks_key(plan: Plan):
    env = plan.exports["environment"]
    key_arn = plan.one("aws:kms/key:Key").outputs["arn"]
    push = plan.one("kubernetes:external-secrets.io/v1alpha1:PushSecret")
    assert manifest_problems(manifest(push)) == []
    spec = push.inputs["spec"]
    assert spec["selector"] == {
        "secret": {
            "selector": {"matchLabels": {"sealedsecrets.bitnami.com/sealed-secrets-key": "active"}}
        }
    }
    (item,) = spec["data"]
    assert item["match"] == {"remoteRef": {"remoteKey": f"{env}/sealed-secrets/sealing-key"}}
    assert item["metadata"]["spec"]["kmsKeyId"] == key_arn
    # Never over an escrowed key, never deleted with the PushSecret.
    assert (spec["updatePolicy"], spec["deletionPolicy"]) == ("IfNotExists", "None")
    store = next(
        s
        for s in plan.of_type("kubernetes:external-secrets.io/v1:ClusterSecretStore")
        if s.inputs["metadata"]["name"] == "sealing-key-escrow"
    )
    assert manifest_problems(manifest(store)) == []
    assert store.inputs["spec"]["conditions"] == [{"namespaces": ["kube-system"]}]
    assert store.inputs["spec"]["provider"]["aws"]["auth"] == {
        "jwt": {"serviceAccountRef": {"name": "sealing-key-escrow", "namespace": "kube-system"}}
    }
    assert spec["secretStoreRefs"] == [{"name": "sealing-key-escrow", "kind": "ClusterSecretStore"}]
    release = plan.one("kubernetes:helm.sh/v3:Release", "sealed-secrets-release")
    assert release.inputs["values"]["keyrenewperiod"] == "0", "one key to escrow"


def test_the_escrow_role_touches_exactly_the_escrowed_secret(plan: Plan):
    env = plan.exports["environment"]
    aws = aws_of(plan.stack)
    policy = doc(plan.one("aws:iam/rolePolicy:RolePolicy", "sealing-key-role-escrow"))
    assert policy["Statement"] == [
        {
            "Sid": "TheSealingKeySecret",
            "Effect": "Allow",
            "Action": [
                "secretsmanager:CreateSecret",
                "secretsmanager:DescribeSecret",
                "secretsmanager:GetSecretValue",
                "secretsmanager:PutSecretValue",
                "secretsmanager:TagResource",
            ],
            "Resource": aws.arn(
                "secretsmanager", f"secret:{env}/sealed-secrets/sealing-key-??????"
            ),
        },
        {
            "Sid": "KeyThroughSecretsManagerOnly",
            "Effect": "Allow",
            "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
            "Resource": plan.one("aws:kms/key:Key").outputs["arn"],
            "Condition": {"StringEquals": {"kms:ViaService": aws.via_service("secretsmanager")}},
        },
    ]
    trust = doc(plan.one("aws:iam/role:Role", "sealing-key-role-role"), "assumeRolePolicy")
    subs = [
        v
        for k, v in trust["Statement"][0]["Condition"]["StringEquals"].items()
        if k.endswith(":sub")
    ]
    assert subs == ["system:serviceaccount:kube-system:sealing-key-escrow"]


def test_a_rebuilt_cluster_restores_the_key_before_the_controller_starts(dev_values):
    dev_values[f"{NS}:sealedSecrets"] = {
        **dev_values[f"{NS}:sealedSecrets"],
        "restoreEscrowedKey": True,
    }
    plan = run_config("dev", dev_values)
    restore = plan.one("kubernetes:external-secrets.io/v1:ExternalSecret", "sealing-key-restore")
    assert manifest_problems(manifest(restore)) == []
    assert restore.inputs["metadata"]["annotations"] == {"pulumi.com/waitFor": "condition=Ready"}
    target = restore.inputs["spec"]["target"]
    assert target["creationPolicy"] == "Orphan", "the key outlives the restore"
    assert target["template"] == {
        "type": "kubernetes.io/tls",
        "metadata": {"labels": {"sealedsecrets.bitnami.com/sealed-secrets-key": "active"}},
    }
    assert restore.inputs["spec"]["dataFrom"] == [
        {"extract": {"key": "dev/sealed-secrets/sealing-key"}}
    ]
    release = plan.one("kubernetes:helm.sh/v3:Release", "sealed-secrets-release")
    assert plan.depends_on(release, restore)


def test_no_app_can_be_given_the_sealing_key():
    values = copy.deepcopy(stack_config("dev"))
    values[f"{NS}:apps"][0]["aws"]["secretsManager"] = ["sealed-secrets/sealing-key"]
    assert "holds the platform's sealing key" in rejected(
        "dev", values, "apps[0].aws.secretsManager[0]"
    )


@pytest.fixture(scope="module")
def alerting() -> Plan:
    values = broken(
        stack_config("prod"),
        "monitoring",
        {"prometheusRules": True, "ruleLabels": {"release": "kube-prometheus-stack"}},
    )
    return run_config("prod", values)


def test_stale_or_failed_backups_alert(alerting, plans):
    assert not plans["prod"].of_type("kubernetes:monitoring.coreos.com/v1:PrometheusRule")
    rule = alerting.one("kubernetes:monitoring.coreos.com/v1:PrometheusRule")
    assert manifest_problems(manifest(rule)) == []
    assert rule.inputs["metadata"]["namespace"] == "monitoring"
    assert rule.inputs["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    rules = {
        (r["alert"], r["expr"].split("{")[1].split("}")[0]): r
        for group in rule.inputs["spec"]["groups"]
        for r in group["rules"]
    }
    hourly = 'namespace="storage-snapshots", cronjob="snapshot-hourly"'
    stale = rules[("BackupJobStale", hourly)]
    # hourly: twice the longest gap (2 x 1h) plus 30 minutes.
    assert stale["expr"].endswith("> 9000")
    assert ("BackupJobNeverSucceeded", hourly) in rules
    daily = rules[("BackupJobStale", 'namespace="storage-snapshots", cronjob="snapshot-daily"')]
    assert daily["expr"].endswith(f"> {2 * 86400 + 1800}")
    reconciler = 'namespace="storage-snapshots", cronjob="storage-policy-reconcile"'
    assert rules[("BackupJobStale", reconciler)]["expr"].endswith("> 9000")
    drill = rules[("BackupJobStale", 'namespace="restore-drills", cronjob="drill-weekly"')]
    assert drill["expr"].endswith(f"> {2 * 7 * 86400 + 1800}")
    velero = rules[("VeleroBackupStale", 'schedule="nightly"')]
    assert velero["expr"] == (
        'time() - velero_backup_last_successful_timestamp{schedule="nightly"} > 174600'
    )
    assert ("VeleroBackupFailed", 'schedule="nightly"') in rules
    never = rules[("VeleroBackupNeverSucceeded", 'schedule="nightly"')]
    assert never["expr"] == 'absent(velero_backup_last_successful_timestamp{schedule="nightly"})'
    assert never["for"] == "2910m"


def test_velero_is_scraped_where_the_alerts_look(alerting):
    """The alerts read Velero's metrics: the chart's ServiceMonitor, with the labels the
    operator selects, renders only when enabled (velero-12.1.0 templates/servicemonitor.yaml)."""
    release = alerting.one("kubernetes:helm.sh/v3:Release", "backups-release")
    assert release.inputs["values"]["metrics"] == {
        "enabled": True,
        "serviceMonitor": {
            "enabled": True,
            "additionalLabels": {"release": "kube-prometheus-stack"},
        },
    }
    assert values_problems("velero", release.inputs["values"]) == []


def test_thresholds_follow_the_schedule():
    assert alerts.stale_after(timedelta(hours=1)) == 9000
    assert alerts.stale_after(timedelta(days=7)) == 14 * 86400 + 1800
