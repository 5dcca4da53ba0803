"""The sealing key survives the cluster (escrow and restore, with exact IAM), and backups cannot
fail silently (PrometheusRules valid against the upstream CRD, thresholds from the schedules)."""

from __future__ import annotations

import copy
from datetime import timedelta

import pytest

from design import alerts, escrow
from tests.support.kube_harness import SCRIPTS
from tests.support.plan_helpers import aws_of, doc, rejected
from tests.support.upstream_schema import manifest_problems, values_problems
from tools.offline import Plan, run_config, stack_config
from tools.report import escrow_lines

NS = "eks-config-storage"
CHECK_SCRIPT = SCRIPTS / escrow.CHECK_SCRIPT_KEY


def manifest(resource) -> dict:
    return {k: resource.inputs[k] for k in ("apiVersion", "kind", "metadata", "spec")}


def test_the_active_sealing_key_is_pushed_under_the_clusters_generation(plan: Plan):
    env, cluster = plan.exports["environment"], plan.exports["clusterName"]
    key_arn = plan.one("aws:kms/key:Key").outputs["arn"]
    push = plan.one("kubernetes:external-secrets.io/v1alpha1:PushSecret")
    assert push.name == "sealing-key-push"  # the resource of earlier versions, kept
    assert manifest_problems(manifest(push)) == []
    spec = push.inputs["spec"]
    assert spec["selector"] == {
        "secret": {
            "selector": {"matchLabels": {"sealedsecrets.bitnami.com/sealed-secrets-key": "active"}}
        }
    }
    (item,) = spec["data"]
    remote = f"{env}/sealed-secrets/{cluster}/generation-1"
    assert item["match"] == {"remoteRef": {"remoteKey": remote}}
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
    assert release.inputs["values"]["keyrenewperiod"] == "0", "one key per cluster"


def test_the_escrow_check_compares_the_controllers_key_with_the_escrowed_one(plan: Plan):
    env, cluster = plan.exports["environment"], plan.exports["clusterName"]
    remote = f"{env}/sealed-secrets/{cluster}/generation-1"
    cert = plan.one("kubernetes:external-secrets.io/v1:ExternalSecret", "sealing-key-escrowed-cert")
    assert manifest_problems(manifest(cert)) == []
    # Only the public half comes back, and nothing waits for the first push.
    assert cert.inputs["spec"]["data"] == [
        {"secretKey": "tls.crt", "remoteRef": {"key": remote, "property": "tls.crt"}}
    ]
    assert cert.inputs["metadata"]["annotations"] == {"pulumi.com/skipAwait": "true"}
    check = plan.one("kubernetes:batch/v1:CronJob", "sealing-key-check")
    assert check.inputs["spec"]["schedule"] == escrow.CHECK_SCHEDULE
    (container,) = check.inputs["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    assert {e["name"]: e["value"] for e in container["env"]} == {
        "NAMESPACE": "kube-system",
        "ESCROW_OBJECT": "sealing-key-escrowed-cert",
        "CONTROLLER_URL": "http://sealed-secrets-controller.kube-system.svc:8080/v1/cert.pem",
        "REMOTE": remote,
        "GENERATION": "1",
        "HOME": "/tmp",
    }
    script = plan.one("kubernetes:core/v1:ConfigMap", "sealing-key-check-script")
    assert script.inputs["data"][escrow.CHECK_SCRIPT_KEY] == CHECK_SCRIPT.read_text()
    role = plan.one("kubernetes:rbac.authorization.k8s.io/v1:Role", "sealing-key-check")
    assert role.inputs["rules"] == [
        {
            "apiGroups": [""],
            "resources": ["secrets"],
            "resourceNames": ["sealing-key-escrowed-cert"],
            "verbs": ["get"],
        }
    ]


def test_the_escrow_role_touches_exactly_the_clusters_escrowed_keys(plan: Plan):
    env, cluster = plan.exports["environment"], plan.exports["clusterName"]
    policy = doc(plan.one("aws:iam/rolePolicy:RolePolicy", "sealing-key-role-escrow"))
    aws = aws_of(plan.stack)
    secrets = aws.arn("secretsmanager", "secret:")
    assert policy["Statement"] == [
        {
            "Sid": "TheClustersSealingKeys",
            "Effect": "Allow",
            "Action": [
                "secretsmanager:CreateSecret",
                "secretsmanager:DescribeSecret",
                "secretsmanager:GetSecretValue",
                "secretsmanager:PutSecretValue",
                "secretsmanager:TagResource",
            ],
            "Resource": f"{secrets}{env}/sealed-secrets/{cluster}/*",
        },
        {
            "Sid": "TheEarlierEntry",
            "Effect": "Allow",
            "Action": ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"],
            "Resource": f"{secrets}{env}/sealed-secrets/sealing-key-??????",
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


def test_a_rebuilt_cluster_restores_every_named_generation_first(dev_values):
    dev_values[f"{NS}:sealedSecrets"] = {
        **dev_values[f"{NS}:sealedSecrets"],
        "escrowGeneration": 3,
        "restoreEscrowedGenerations": [1, 2],
    }
    plan = run_config("dev", dev_values)
    cluster = plan.exports["clusterName"]
    release = plan.one("kubernetes:helm.sh/v3:Release", "sealed-secrets-release")
    for generation in (1, 2):
        restore = plan.one(
            "kubernetes:external-secrets.io/v1:ExternalSecret",
            f"sealing-key-restore-generation-{generation}",
        )
        assert manifest_problems(manifest(restore)) == []
        spec = restore.inputs["spec"]
        assert spec["target"]["name"] == f"sealed-secrets-key-generation-{generation}"
        assert spec["dataFrom"] == [
            {"extract": {"key": f"dev/sealed-secrets/{cluster}/generation-{generation}"}}
        ]
        assert plan.depends_on(release, restore)
    push = plan.one("kubernetes:external-secrets.io/v1alpha1:PushSecret")
    assert push.inputs["spec"]["data"][0]["match"]["remoteRef"]["remoteKey"] == (
        f"dev/sealed-secrets/{cluster}/generation-3"
    )
    # The plan prints the chain.
    assert escrow_lines(plan)[1:] == [
        f"  restore before the controller starts: dev/sealed-secrets/{cluster}/generation-1, "
        f"dev/sealed-secrets/{cluster}/generation-2",
        "  checked '20 * * * *': the controller's certificate against the escrowed one (the Job "
        "fails while they differ)",
    ]


def test_two_clusters_of_one_environment_never_share_an_entry():
    assert escrow.generation_key("prod", "eks-prod", 1) != escrow.generation_key(
        "prod", "eks-prod-b", 1
    )
    # Under the environment's platform prefix, which no app may be given.
    assert escrow.remote_prefix("prod", "eks-prod").startswith("prod/sealed-secrets/")


def test_no_app_can_be_given_the_sealing_key():
    values = copy.deepcopy(stack_config("dev"))
    values[f"{NS}:apps"][0]["aws"]["secretsManager"] = ["sealed-secrets/sealing-key"]
    assert "holds the platform's sealing key" in rejected(
        "dev", values, "apps[0].aws.secretsManager[0]"
    )


@pytest.fixture
def alerting(plans) -> Plan:
    return plans["prod"]


def test_stale_or_failed_backups_alert(alerting, plans):
    assert not plans["dev"].of_type("kubernetes:monitoring.coreos.com/v1:PrometheusRule")
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
    check = 'namespace="kube-system", cronjob="sealing-key-escrow-check"'
    assert rules[("BackupJobStale", check)]["expr"].endswith("> 9000"), "escrow lag pages"
    failed = [r for (name, _), r in rules.items() if name == "BackupJobFailed"]
    assert len(failed) == 5  # hourly, daily, reconciler, drill, escrow check
    assert all("kube_job_status_failed" not in r["expr"] for r in failed)


def test_backup_job_failed_is_the_newest_jobs_failed_condition():
    job = alerts.Watched("snapshot policy", "daily", "snaps", "snapshot-daily", timedelta(days=1))
    (rule,) = [r for r in alerts.cron_job_rules(job) if r["alert"] == "BackupJobFailed"]
    jobs = 'namespace="snaps", job_name=~"snapshot-daily-[0-9]+"'
    # The Failed condition (not failed pods: a retry that succeeded never fires), of the newest
    # Job only (a later run resolves it though failedJobsHistoryLimit keeps the failed Job).
    assert rule["expr"] == (
        f'kube_job_failed{{{jobs}, condition="true"}} == 1 and on(namespace, job_name) '
        f"(kube_job_created{{{jobs}}} == on(namespace) group_left() "
        f"max by (namespace) (kube_job_created{{{jobs}}}))"
    )
    assert "for" not in rule


def test_production_says_who_is_told_when_backups_fail():
    values = copy.deepcopy(stack_config("prod"))
    del values[f"{NS}:monitoring"]
    assert "must not fail silently" in rejected("prod", values, "monitoring")
    values[f"{NS}:monitoring"] = {"reason": "Datadog's kube-state-metrics check pages on-call"}
    run_config("prod", values)


@pytest.mark.parametrize(
    ("key", "value", "path", "message"),
    [
        ("logRetentionDays", 30, "logRetentionDays", "at least 90 days"),
        (
            "snapshots",
            {"policies": [{"name": "hourly", "schedule": "15 * * * *", "keep": 24}]},
            "snapshots.policies",
            "at least 7 days",
        ),
    ],
)
def test_production_floors_for_history(key, value, path, message):
    values = copy.deepcopy(stack_config("prod"))
    current = values.get(f"{NS}:{key}")
    values[f"{NS}:{key}"] = {**current, **value} if isinstance(value, dict) else value
    assert message in rejected("prod", values, path)


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
