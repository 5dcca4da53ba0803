"""The CronJob every script of jobs/ runs in: the script from a ConfigMap, under
a restricted, non-root, read-only pod with bounded resources, never overlapping itself, with
bounded history and a starting deadline (rule ``snapshot-generation-limit`` checks all three)."""

from __future__ import annotations

from collections.abc import Mapping

SCRIPT_DIR = "/scripts"
JOB_USER = 65532
HISTORY_SUCCESS = 3
HISTORY_FAILED = 5
# If the controller misses more than 100 schedules it stops scheduling for good; a deadline
# makes it skip missed runs instead, so a schedule cannot stop silently after an outage.
STARTING_DEADLINE_SECONDS = 3600

# What restricted Pod Security asks of every container, and read-only besides.
RESTRICTED_CONTAINER = {
    "allowPrivilegeEscalation": False,
    "readOnlyRootFilesystem": True,
    "runAsNonRoot": True,
    "capabilities": {"drop": ["ALL"]},
}


def restricted_pod_security(user: int = JOB_USER) -> dict:
    return {
        "runAsNonRoot": True,
        "runAsUser": user,
        "runAsGroup": user,
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def script_cronjob_spec(
    *,
    schedule: str,
    container: str,
    image: str,
    script_key: str,
    env: Mapping[str, str],
    service_account: str,
    script_config_map: str,
    labels: Mapping[str, str],
    active_deadline_seconds: int,
    backoff_limit: int,
    starting_deadline_seconds: int = STARTING_DEADLINE_SECONDS,
    history_success: int = HISTORY_SUCCESS,
    history_failed: int = HISTORY_FAILED,
) -> dict:
    """A CronJob spec that runs ``sh /scripts/<script_key>`` with ``env`` (HOME is the only
    writable place, a small emptyDir at /tmp)."""
    pod = {
        "serviceAccountName": service_account,
        "restartPolicy": "Never",
        "securityContext": restricted_pod_security(),
        "containers": [
            {
                "name": container,
                "image": image,
                "command": ["/bin/sh", f"{SCRIPT_DIR}/{script_key}"],
                "env": [{"name": k, "value": v} for k, v in {**env, "HOME": "/tmp"}.items()],
                "resources": {
                    "requests": {"cpu": "50m", "memory": "64Mi"},
                    "limits": {"cpu": "500m", "memory": "256Mi"},
                },
                "securityContext": dict(RESTRICTED_CONTAINER),
                "volumeMounts": [
                    {"name": "script", "mountPath": SCRIPT_DIR, "readOnly": True},
                    {"name": "tmp", "mountPath": "/tmp"},
                ],
            }
        ],
        "volumes": [
            {"name": "script", "configMap": {"name": script_config_map, "defaultMode": 0o555}},
            {"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}},
        ],
    }
    return {
        "schedule": schedule,
        "timeZone": "Etc/UTC",
        "concurrencyPolicy": "Forbid",
        "startingDeadlineSeconds": starting_deadline_seconds,
        "successfulJobsHistoryLimit": history_success,
        "failedJobsHistoryLimit": history_failed,
        "jobTemplate": {
            "metadata": {"labels": dict(labels)},
            "spec": {
                "backoffLimit": backoff_limit,
                "activeDeadlineSeconds": active_deadline_seconds,
                "template": {"metadata": {"labels": dict(labels)}, "spec": pod},
            },
        },
    }
