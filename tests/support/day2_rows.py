"""The 76 changes of the day-2 review v2 as config edits: the 26 re-run rows (A*) and the 50 new
ones (N*). tests/tools/transitions/test_day2_rows.py holds what a real `up` does with each."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field

NS = "eks-config-storage"
Values = dict
Edit = Callable[[Values], None]
DIGEST = "@sha256:" + "ab" * 32


@dataclass(frozen=True)
class Row:
    row: str
    stack: str
    edit: Edit
    base: Edit | None = None  # the live stack differs from the stack file (N24, N25, N50)
    subnet_zones: dict = field(default_factory=dict)


def _set(path: str, value) -> Edit:
    def edit(values: Values) -> None:
        keys = path.split(".")
        node = values.get(f"{NS}:{keys[0]}")
        if node is None or len(keys) == 1:
            values[f"{NS}:{keys[0]}"] = value
            return
        for key in keys[1:-1]:
            node = node[int(key)] if key.isdigit() else node.setdefault(key, {})
        last = keys[-1]
        node[int(last) if last.isdigit() else last] = value

    return edit


def _role(values: Values, name: str) -> str:
    """A role of the stack's own account: the account its first admin role is of."""
    account = values[f"{NS}:adminRoleArns"][0].split(":")[4]
    return f"arn:aws:iam::{account}:role/{name}"


def _set_roles(path: str, *names: str) -> Edit:
    """Set ``path`` to the roles ``names`` of the stack's own account."""

    def edit(values: Values) -> None:
        _set(path, [_role(values, n) for n in names])(values)

    return edit


def _all(*edits: Edit) -> Edit:
    def edit(values: Values) -> None:
        for each in edits:
            each(values)

    return edit


def app(values: Values, name: str) -> dict:
    return next(a for a in values[f"{NS}:apps"] if a["name"] == name)


def _remove_app(name: str) -> Edit:
    def edit(values: Values) -> None:
        values[f"{NS}:apps"] = [a for a in values[f"{NS}:apps"] if a["name"] != name]

    return edit


def _app(which: str, **changes) -> Edit:
    def edit(values: Values) -> None:
        entry = app(values, which)
        for key, value in changes.items():
            if value is None:
                entry.pop(key, None)
            else:
                entry[key] = copy.deepcopy(value)

    return edit


def _classes(values: Values) -> list[dict]:
    return values[f"{NS}:storage"]["classes"]


def _rename_db_tier(values: Values) -> None:
    db = next(c for c in _classes(values) if c.get("tier") == "db")
    db["tier"] = "oltp"
    app(values, "orders")["storage"][0]["class"] = "io2-ssd-oltp-prod-rwo"


def _efs_off(values: Values) -> None:
    storage = values[f"{NS}:storage"]
    storage["efs"] = {"enabled": False}
    storage["classes"] = [c for c in storage["classes"] if c["backing"] != "efs"]
    app(values, "catalog")["storage"] = []


def _efs_bursting(values: Values) -> None:
    values[f"{NS}:storage"]["efs"]["throughputMode"] = "bursting"
    app(values, "catalog")["storage"][0]["class"] = "efs-burst-prod-rwx"


def _efs_provisioned(values: Values) -> None:
    storage = values[f"{NS}:storage"]
    old = next(c for c in storage["classes"] if c["backing"] == "efs")
    storage["retiredClasses"] = [{**copy.deepcopy(old), "name": "efs-elastic-prod-rwx"}]
    storage["efs"].update(throughputMode="provisioned", provisionedThroughputMibps=256)
    app(values, "catalog")["storage"][0]["class"] = "efs-prov-prod-rwx"


def _rename_policy(values: Values) -> None:
    values[f"{NS}:snapshots"]["policies"][0]["name"] = "hourly-24"
    for cls in _classes(values):
        policies = cls.get("protection", {}).get("snapshotPolicies", [])
        policies[:] = ["hourly-24" if p == "hourly" else p for p in policies]


def _remove_hourly(values: Values) -> None:
    snapshots = values[f"{NS}:snapshots"]
    snapshots["policies"] = [p for p in snapshots["policies"] if p["name"] != "hourly"]
    for cls in _classes(values):
        policies = cls.get("protection", {}).get("snapshotPolicies", [])
        policies[:] = [p for p in policies if p != "hourly"]


def _remove_daily(values: Values) -> None:
    snapshots = values[f"{NS}:snapshots"]
    snapshots["policies"] = [p for p in snapshots["policies"] if p["name"] != "daily"]
    for cls in _classes(values):
        policies = cls.get("protection", {}).get("snapshotPolicies", [])
        policies[:] = [p for p in policies if p != "daily"]


def _backups_off(values: Values) -> None:
    values[f"{NS}:backups"] = {"enabled": False}
    for cls in _classes(values):
        cls.get("protection", {}).pop("backupSchedule", None)


def _rename_schedule(values: Values) -> None:
    values[f"{NS}:backups"]["schedules"][0]["name"] = "nightly-v2"
    for cls in _classes(values):
        if cls.get("protection", {}).get("backupSchedule") == "nightly":
            cls["protection"]["backupSchedule"] = "nightly-v2"


def _io2_reason(values: Values) -> None:
    io2 = next(c for c in _classes(values) if c["backing"] == "io2")
    io2["protection"] = {"reason": "database volumes are protected by the database's own backups"}


def _ebs_daily_only(values: Values) -> None:
    for cls in _classes(values):
        if cls["backing"] in ("gp3", "io2"):
            cls["protection"]["snapshotPolicies"] = ["daily"]


def _move_preview_to_admin(values: Values) -> None:
    role = _role(values, "github-preview-dev")
    values[f"{NS}:previewRoleArns"] = []
    values[f"{NS}:adminRoleArns"].append(role)


def _swap_admin(values: Values) -> None:
    old = _role(values, "platform-admin")
    new = old + "-v2"
    values[f"{NS}:adminRoleArns"] = [new if a == old else a for a in values[f"{NS}:adminRoleArns"]]
    values[f"{NS}:kms"]["adminArns"] = [new]


def _to_existing(values: Values) -> None:
    values[f"{NS}:network"] = {
        "existing": {
            "vpcId": "vpc-0123456789abcdef0",
            "privateSubnetIds": ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"],
        }
    }
    values[f"{NS}:endpoint"]["privateAccessCidrs"] = ["10.40.0.0/16"]


def _to_created(values: Values) -> None:
    values[f"{NS}:network"] = {
        "create": {
            "vpcCidr": "10.60.0.0/16",
            "azCount": 3,
            "natGateways": "perAz",
            "connectedToRunners": True,
        }
    }


def _minor_up(values: Values) -> None:
    """1.35 to 1.36: a group that pins its AMI release moves the pin in the same change (a pin
    of another minor is refused)."""
    _set("kubernetesVersion", "1.36")(values)
    for group in values[f"{NS}:nodeGroups"]:
        if group.get("releaseVersion"):
            group["releaseVersion"] = "1.36.0-20261115"


def _node(**changes) -> Edit:
    def edit(values: Values) -> None:
        group = values[f"{NS}:nodeGroups"][0]
        for key, value in changes.items():
            if value is None:
                group.pop(key, None)
            else:
                group[key] = value

    return edit


def _add_schedule(values: Values) -> None:
    values[f"{NS}:backups"]["schedules"].append(
        {"name": "hourly-objects", "schedule": "5 * * * *", "ttl": "48h"}
    )


def _private_dev(values: Values) -> None:
    values[f"{NS}:endpoint"] = {"publicAccess": False}


def _replace_subnet_c(values: Values) -> None:
    subnets = values[f"{NS}:network"]["existing"]["privateSubnetIds"]
    subnets[2] = "subnet-0a1b2c3d4e5f60009"


def _runner_cidr(cidrs: list[str]) -> Edit:
    def edit(values: Values) -> None:
        values[f"{NS}:endpoint"]["privateAccessCidrs"] = cidrs

    return edit


UNPROTECTED = _all(_set("production", False), _set("protect", False))
ORDERS_V2 = _app("orders", namespace="orders-v2")
PREFIX = "docker.io/velero/velero-plugin-for-aws:v1.14.3"

ROWS = [
    Row("A2", "prod", _remove_app("reports")),
    Row("A2d", "dev", _remove_app("catalog")),
    Row("A3", "prod", _app("orders", name="ordering", namespace="orders")),
    Row("A4", "prod", ORDERS_V2),
    Row("A5", "prod", _set("storage.classes.1.iops", 20000)),
    Row("A6", "prod", _rename_db_tier),
    Row("A8", "prod", _minor_up),
    Row("A9", "prod", _node(instanceTypes=["m7i.xlarge"])),
    Row("A10", "prod", _node(diskSizeGib=200)),
    Row("A11", "prod", _node(name="general-v2")),
    Row("A13", "dev", _set("network.create.azCount", 3)),
    Row("A14", "dev", _to_existing),
    Row("A15", "dev", _set("clusterName", "eks-dev-2")),
    Row("A17", "dev", _set("kms.deletionWindowDays", 10)),
    Row("A18", "prod", _set_roles("adminRoleArns", "platform-admin")),
    Row("A19", "prod", _efs_off),
    Row("A20a", "prod", _efs_bursting),
    Row("A20b", "prod", _set("storage.efs.performanceMode", "maxIO")),
    Row("A21a", "prod", _rename_policy),
    Row("A21b", "prod", _set("snapshots.policies.0.keep", 48)),
    Row("A22", "prod", _set("snapshots.namespace", "storage-ops")),
    Row("A23a", "prod", _set("externalSecrets.namespace", "eso")),
    Row("A23b", "prod", _set("externalSecrets.chartVersion", "0.20.5")),
    Row("A24", "prod", _set("sealedSecrets.chartVersion", "2.18.5")),
    Row("A25", "prod", _set("logRetentionDays", 30)),
    Row("A26", "dev", _private_dev),
    Row("N1", "prod", _backups_off),
    Row("N2", "prod", _rename_schedule),
    Row("N3", "prod", _set("backups.schedules.0.ttl", "2160h")),
    Row("N4", "prod", _set("backups.schedules.0.ttl", "168h")),
    Row("N5", "prod", _set("backups.pluginImage", PREFIX + DIGEST)),
    Row("N6", "prod", _set("backups.namespace", "velero-system")),
    Row("N7", "prod", _set("backups.chartVersion", "12.1.1")),
    Row("N8", "prod", _add_schedule),
    Row("N9", "prod", _set("restoreDrills.0.name", "sunday")),
    Row("N10", "prod", _set("restoreDrills", [])),
    Row("N11", "prod", _set("restoreDrills.0.policy", "hourly")),
    Row("N12", "prod", _remove_daily),
    Row("N13", "prod", _set("snapshots.policies.1.maxAge", "3d")),
    Row("N14", "prod", _set("snapshots.policies.1.keep", 2)),
    Row("N15", "prod", _remove_hourly),
    Row("N16", "prod", _set("snapshots.deletionPolicy", "Delete")),
    Row("N17", "prod", _set("snapshots.jobImage", "docker.io/alpine/k8s:1.34.2" + DIGEST)),
    Row("N18", "prod", _io2_reason),
    Row("N19", "prod", _ebs_daily_only),
    Row(
        "N20",
        "prod",
        _app(
            "orders",
            aws={
                "s3": [
                    {"bucket": "example-orders-invoices-prod", "prefix": "invoices/"},
                    {"bucket": "example-orders-exports-prod"},
                ]
            },
        ),
    ),
    Row("N21", "prod", _set("apps.0.config.LOG_LEVEL", "debug")),
    Row("N22", "prod", _app("catalog", secrets=None)),
    Row("N23", "prod", _app("reports", podSecurity=None)),
    Row("N24", "prod", _app("orders", namespace="orders-v3"), base=ORDERS_V2),
    Row("N25", "prod", _app("orders", namespace=None), base=ORDERS_V2),
    Row(
        "N26",
        "prod",
        _set_roles("previewRoleArns", "github-plan-prod", "auditor"),
    ),
    Row("N27", "dev", _move_preview_to_admin),
    Row("N28", "prod", _swap_admin),
    Row("N29", "prod", _set("kms.adminArns", [])),
    Row("N30", "prod", _runner_cidr(["10.8.0.0/16"])),
    Row("N31", "prod", _runner_cidr(["10.60.97.0/24", "10.8.0.0/16"])),
    Row("N32", "prod", _to_created),
    Row(
        "N33",
        "prod",
        _replace_subnet_c,
        subnet_zones={"subnet-0a1b2c3d4e5f60009": "eu-west-1c"},
    ),
    Row("N34", "prod", lambda v: v.update({"aws:region": "eu-central-1"})),
    Row("N35", "prod", _node(capacityType="SPOT")),
    Row("N36", "prod", _node(amiType="AL2023_ARM_64_STANDARD", instanceTypes=["m7g.xlarge"])),
    Row("N37", "prod", _node(minSize=5, desiredSize=5)),
    Row("N38", "prod", _node(desiredSize=6)),
    Row("N39", "prod", _node(releaseVersion="1.35.7-20260801")),
    Row("N40", "dev", _set("apps.0.config.LOG_LEVEL", "debug")),
    Row("N41", "prod", _efs_provisioned),
    Row("N42", "prod", _set("storage.efs.backup", False)),
    Row("N43", "prod", _set("kms.deletionWindowDays", 7)),
    Row("N44", "prod", _set("logRetentionDays", 1)),
    Row("N45", "prod", _set("upgradePolicy", {"supportType": "EXTENDED"})),
    Row("N46", "prod", _set("externalSecrets.chartVersion", "1.0.0")),
    Row("N47", "prod", _set("sealedSecrets.namespace", "sealed-secrets")),
    Row("N48", "prod", UNPROTECTED),
    Row("N49", "prod", _all(UNPROTECTED, _remove_app("reports"))),
    # Production now carries alerting; the row turns it on where the live stack had none.
    Row(
        "N50",
        "prod",
        _set("monitoring", {"prometheusRules": True}),
        base=_set("monitoring", {"reason": "alerting on backups lives in the on-call's own stack"}),
    ),
]
