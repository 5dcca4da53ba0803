"""Every row of the day-2 review v2 (26 re-run, 50 new): the mark a real `up` makes on the
resources that carry the change, the consequence the diff states for them, and whether the
transition rules demand an acknowledgement (and which), or the config refuses the change."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

import pytest

from config import ConfigError
from tests.support.day2_rows import ROWS, Row
from tools import transitions
from tools.offline import ProgramError, run_config, stack_config
from tools.offline.runner import typed_config
from tools.plan import acknowledged
from tools.transitions import guards

MARKS = {"+": "create", "~": "update", "±": "replace", "±!": "replace", "-": "delete"}
DELETES = "acknowledge.deletes"
REPLACES = "acknowledge.replacements"
SETTINGS = "acknowledge.settings"
REFUSED = ""


@dataclass(frozen=True)
class Expect:
    marks: dict[str, str | None] = field(default_factory=dict)  # name -> mark; None: unchanged
    says: dict[str, str] = field(default_factory=dict)  # name -> part of its consequence
    needs: frozenset[tuple[str, str]] = frozenset()  # (subject, acknowledgement key)
    refused: str = ""  # the config key that refuses the change before anything is registered
    report: str = ""  # a line of the report beyond the marks


def needs(*pairs: tuple[str, str]) -> frozenset:
    return frozenset(pairs)


PROTECT_CONTINUES = "refused by protect, and the update continues past the refusal"
REPLACE_REFUSED = "refused by protect: the update stops before anything is replaced"
COLLIDES = "is created while"
EFS_ZONES = [f"efs-eu-west-1{z}" for z in "abc"]

EXPECT: dict[str, Expect] = {
    "A2": Expect(
        {"app-reports-namespace": "-", "app-reports-irsa-role": "-"},
        {"app-reports-namespace": "left in place (retained)"},
    ),
    "A2d": Expect(
        {"app-catalog-namespace": "-"},
        {"app-catalog-namespace": "deletes every workload, Secret and PVC in it"},
        needs(("app-catalog-namespace", DELETES)),
    ),
    "A3": Expect(
        {"app-orders-irsa-role": "±!", "app-orders-config": "±", "app-orders-namespace": "~"},
        {"app-orders-irsa-role": "the old one goes first"},
    ),
    # Aliases pair the moved resources with the old ones: a create-first replacement, the old
    # namespace retained with the app's volumes.
    "A4": Expect(
        {"app-orders-v2-namespace": "±", "app-orders-v2-irsa-role": "~"},
        {"app-orders-v2-namespace": "the old one is removed from the stack and left in place"},
        needs(("app-orders-v2-namespace", REPLACES)),
    ),
    "A5": Expect(
        {"classes-io2-ssd-db-prod-rwo": "±!"},
        {"classes-io2-ssd-db-prod-rwo": "the old one goes first"},
    ),
    "A6": Expect(
        {"classes-io2-ssd-db-prod-rwo": "-", "classes-io2-ssd-oltp-prod-rwo": "+"},
        {"classes-io2-ssd-db-prod-rwo": "lost claims cannot be re-created"},
        needs(("classes-io2-ssd-db-prod-rwo", DELETES)),
    ),
    "A8": Expect(
        {"cluster-eks": "~", "nodes-general": "~", "addons-coredns": "~"},
        {"cluster-eks": "control-plane upgrade", "nodes-general": "rolling node upgrade"},
    ),
    "A9": Expect({"nodes-general": "±"}, {"nodes-general": "a new one first"}),
    "A10": Expect({"nodes-general": "~"}, {"nodes-general": "nodes roll when the group takes it"}),
    "A11": Expect(
        {"NodeGroup/nodes-general": "-", "NodeGroup/nodes-general-v2": "+"},
        {"NodeGroup/nodes-general": "drains and terminates its nodes"},
    ),
    "A13": Expect(
        {"cluster-eks": "~", "nodes-general": "±", "efs-eu-west-1c": "+"},
        {"cluster-eks": "EKS refuses cluster subnets outside the zones"},
        needs(("zones", SETTINGS)),
    ),
    "A14": Expect(
        {"cluster-eks": "~", "efs-eu-west-1a": "±!", "network-vpc": "-"},
        {"cluster-eks": "EKS refuses cluster subnets of another VPC"},
        needs(
            ("network", SETTINGS),
            ("efs-eu-west-1a", REPLACES),
            ("efs-eu-west-1b", REPLACES),
        ),
    ),
    "A15": Expect(
        {"cluster-eks": "±!", "cluster-logs": "±!", "efs-fs": "±!"},
        {"cluster-eks": "deletes the cluster and every object in it"},
        needs(
            ("clusterName", SETTINGS),
            ("cluster-eks", REPLACES),
            ("cluster-logs", REPLACES),
            ("efs-fs", REPLACES),
            ("efs-backup", REPLACES),
            ("efs-eu-west-1a", REPLACES),
            ("efs-eu-west-1b", REPLACES),
        ),
    ),
    "A17": Expect({"envelope-key": "~"}, {"envelope-key": "in place"}),
    "A18": Expect(refused="adminRoleArns"),
    # The marker is alone in the first delete antichain: its refusal skips every holder.
    "A19": Expect(
        {"efs-in-use-marker": "-", "efs-fs": "-", "classes-efs-elastic-prod-rwx": "-"},
        {"efs-in-use-marker": PROTECT_CONTINUES, "efs-fs": PROTECT_CONTINUES},
        needs(
            ("efs-in-use-marker", DELETES),
            ("efs-fs", DELETES),
            ("efs-backup", DELETES),
            *[(z, DELETES) for z in EFS_ZONES],
            ("classes-efs-elastic-prod-rwx", DELETES),
        ),
    ),
    "A20a": Expect(
        {"efs-fs": "~", "classes-efs-elastic-prod-rwx": "-", "classes-efs-burst-prod-rwx": "+"},
        {"classes-efs-elastic-prod-rwx": "lost claims cannot be re-created"},
        needs(("classes-efs-elastic-prod-rwx", DELETES)),
    ),
    "A20b": Expect(
        {"efs-fs": "±!", "efs-eu-west-1a": "±!"},
        {"efs-fs": REPLACE_REFUSED},
        needs(
            ("efs-fs", REPLACES),
            ("efs-in-use-marker", REPLACES),
            ("efs-backup", REPLACES),
            *[(z, REPLACES) for z in EFS_ZONES],
        ),
    ),
    "A21a": Expect(
        {"snapshots-hourly": "-", "snapshots-hourly-24": "+"},
        {"snapshots-hourly": "stop being snapshotted"},
        needs(("snapshot policy hourly", "acknowledge.snapshotPolicies")),
    ),
    "A21b": Expect({"snapshots-hourly": "~"}, {"snapshots-hourly": "in place"}),
    "A22": Expect(
        {"snapshots-namespace": "±", "snapshots-hourly": "±"},
        {"snapshots-namespace": "a new one first"},
    ),
    "A23a": Expect(
        {"external-secrets-release": "±", "controllers-external-secrets-role": "~"},
        {"external-secrets-release": "a new one first"},
        needs(("externalSecrets.namespace", SETTINGS)),
    ),
    "A23b": Expect({"external-secrets-release": "~"}, {"external-secrets-release": "helm upgrade"}),
    "A24": Expect({"sealed-secrets-release": "~"}, {"sealed-secrets-release": "helm upgrade"}),
    # Production's floor refuses the cut the review made (its consequence and acknowledgement
    # above the floor: tests/tools/transitions/test_protection_transitions.py, N44).
    "A25": Expect(refused="logRetentionDays"),
    "A26": Expect(refused="endpoint"),
    # Protected deletes no longer stop the update: what depends on the bucket goes first.
    "N1": Expect(
        {"backups-bucket": "-", "backups-release": "-", "backups-public-access": "-"},
        {
            "backups-bucket": PROTECT_CONTINUES,
            # The guard rails are retained (retainOnDelete): the bucket stays whole in AWS.
            "backups-public-access": "removed from the stack and left in place (retained)",
            "backups-policy": "removed from the stack and left in place (retained)",
            "backups-versioning": PROTECT_CONTINUES,
        },
        # Turning backups off names itself; no schedule is left to relabel PVCs for.
        needs(
            ("backups-bucket", DELETES),
            ("backups-versioning", DELETES),
            ("backups.enabled", SETTINGS),
        ),
    ),
    "N2": Expect(
        {"backups-nightly": "-", "backups-nightly-v2": "+"},
        {"classes-gp3-ssd-prod-rwo": "from Velero schedule nightly to nightly-v2"},
        needs(("backups.schedules", SETTINGS)),
    ),
    "N3": Expect({"backups-nightly": "~"}, {"backups-nightly": "in place"}),
    "N4": Expect({"backups-nightly": "~"}, {"backups-nightly": "in place"}),
    "N5": Expect({"backups-release": "~"}, {"backups-release": "in place"}),
    "N6": Expect(
        {"backups-release": "±", "backups-velero-role": "~"},
        {"backups-release": "a new one first"},
        needs(("backups.namespace", SETTINGS)),
    ),
    "N7": Expect({"backups-release": "~"}, {"backups-release": "helm upgrade"}),
    "N8": Expect({"backups-hourly-objects": "+"}),
    "N9": Expect({"drills-weekly": "-", "drills-sunday": "+", "drills-role": "~"}),
    "N10": Expect(
        {"drills-namespace": "-", "drills-weekly": "-"},
        {"drills-namespace": "deletes every workload"},
    ),
    "N11": Expect({"drills-weekly": "~"}),
    "N12": Expect(refused="restoreDrills[0].policy"),
    # Production's floor (7 days of generations in some policy) refuses both cuts the review
    # made; cuts above it need snapshots.retention (test_protection_transitions.py).
    "N13": Expect(refused="snapshots.policies"),
    "N14": Expect(refused="snapshots.policies"),
    "N15": Expect(
        {"snapshots-hourly": "-"},
        {"classes-gp3-ssd-prod-rwo": "its PVCs leave hourly"},
        needs(("snapshot policy hourly", "acknowledge.snapshotPolicies")),
    ),
    "N16": Expect(refused="snapshots.deletionPolicy"),
    "N17": Expect({"snapshots-daily": "~", "snapshots-hourly": "~", "drills-weekly": "~"}),
    "N18": Expect(
        {"snapshots-daily": "~", "classes-io2-ssd-db-prod-rwo": "~"},
        {
            "snapshots-daily": "PVCs of io2-ssd-db-prod-rwo are no longer snapshotted by daily",
            "classes-io2-ssd-db-prod-rwo": "Velero's nightly schedule skips its volumes",
        },
        needs(("storage.protection", SETTINGS)),
    ),
    "N19": Expect(
        {"snapshots-hourly": "~", "classes-gp3-ssd-prod-rwo": "~"},
        {"snapshots-hourly": "their existing generations are pruned once older than 86400s"},
        needs(("storage.protection", SETTINGS)),
    ),
    "N20": Expect({"app-orders-irsa-app": "~"}),
    "N21": Expect({"app-orders-config": "±!"}, {"app-orders-config": "the old one goes first"}),
    "N22": Expect(
        {"app-catalog-external-secret": "-"},
        {"app-catalog-external-secret": "its Secret is garbage-collected"},
    ),
    "N23": Expect(
        {"app-reports-namespace": "~"},
        {"app-reports-namespace": "pods that violate restricted are refused at their next start"},
    ),
    # The aliases name app-orders-*, so the move is + and -, and the role's name collides; the
    # app leaves its live namespace, which its running pods keep (the app-move rule).
    "N24": Expect(
        {"app-orders-v3-irsa-role": "+", "app-orders-v2-irsa-role": "-"},
        needs=needs(
            ("app-orders-v3-irsa-role", REFUSED),
            ("app-orders-v3-irsa-app", REFUSED),
            ("app-orders-v2-namespace", DELETES),
        ),
    ),
    "N25": Expect(
        {"app-orders-irsa-role": "+", "app-orders-v2-irsa-role": "-"},
        needs=needs(
            ("app-orders-irsa-role", REFUSED),
            ("app-orders-irsa-app", REFUSED),
            ("app-orders-v2-namespace", DELETES),
        ),
    ),
    "N26": Expect({"cluster-preview-auditor": "+"}),
    "N27": Expect(
        {"cluster-admin-github-preview-dev": "+", "cluster-preview-github-preview-dev": "-"},
        needs=needs(("cluster-admin-github-preview-dev", REFUSED)),
    ),
    "N28": Expect(
        {"cluster-admin-platform-admin-v2": "+", "cluster-admin-platform-admin": "-"},
        {"AccessEntry/cluster-admin-platform-admin": "the principal loses its access"},
    ),
    "N29": Expect({"envelope-policy": "~"}),
    "N30": Expect({"cluster-api-from-10-60-96-0-24": "-"}),
    "N31": Expect({"cluster-api-from-10-60-96-0-24": "-", "cluster-api-from-10-60-97-0-24": "+"}),
    "N32": Expect(
        {"network-vpc": "+", "cluster-eks": "~", "efs-eu-west-1a": "±!"},
        {"cluster-eks": "EKS refuses cluster subnets of another VPC"},
        needs(("network", SETTINGS), *[(z, REPLACES) for z in EFS_ZONES]),
    ),
    # Same zone, same VPC: EKS accepts it; only the protected mount target needs accepting.
    "N33": Expect(
        {"cluster-eks": "~", "efs-eu-west-1c": "±!", "nodes-general": "±"},
        {"cluster-eks": "EKS accepts new subnets", "efs-eu-west-1c": REPLACE_REFUSED},
        needs(("efs-eu-west-1c", REPLACES)),
    ),
    "N34": Expect(
        {"envelope-key": "±", "cluster-eks": "±!", "backups-bucket": "±", "cluster-logs": "±!"},
        {"envelope-key": REPLACE_REFUSED},
        needs(
            ("region", SETTINGS),
            ("zones", SETTINGS),
            ("envelope-key", REPLACES),
            ("cluster-eks", REPLACES),
            ("cluster-logs", REPLACES),
            ("efs-fs", REPLACES),
            ("efs-backup", REPLACES),
            ("efs-in-use-marker", REPLACES),
            ("backups-bucket", REPLACES),
            ("backups-versioning", REPLACES),
            *[(z, DELETES) for z in EFS_ZONES],
        ),
    ),
    "N35": Expect({"nodes-general": "±"}, {"nodes-general": "a new one first"}),
    "N36": Expect({"nodes-general": "±"}, {"nodes-general": "a new one first"}),
    # desiredSize is ignored after creation: the old one is sent, and EKS refuses minSize 5.
    "N37": Expect({"nodes-general": "~"}, needs=needs(("nodes-general", REFUSED))),
    "N38": Expect({"nodes-general": None}),
    "N39": Expect({"nodes-general": "~"}, {"nodes-general": "rolling AMI update"}),
    "N40": Expect(
        {"nodes-general": None},
        report="  - nodes-general: AMI release resolved at `up` from SSM",
    ),
    "N41": Expect(
        {"efs-fs": "~", "classes-efs-prov-prod-rwx": "+", "classes-efs-elastic-prod-rwx": "~"}
    ),
    "N42": Expect(refused="storage.efs.backup"),
    "N43": Expect(refused="kms.deletionWindowDays"),
    "N44": Expect(refused="logRetentionDays"),
    "N45": Expect({"cluster-eks": "~"}),
    "N46": Expect({"external-secrets-release": "~"}, {"external-secrets-release": "helm upgrade"}),
    "N47": Expect(
        {"sealed-secrets-release": "±", "sealing-key-role-role": "~"},
        needs=needs(("sealedSecrets.namespace", SETTINGS)),
    ),
    # Nothing is deleted, but 11 resources lose protect and 7 retainOnDelete.
    "N48": Expect({"cluster-eks": "~"}, needs=needs(("protect", SETTINGS))),
    # The old state's retainOnDelete still applies to the namespace removed in the same change.
    "N49": Expect(
        {"app-reports-namespace": "-"},
        {"app-reports-namespace": "left in place (retained)"},
        needs(("protect", SETTINGS)),
    ),
    "N50": Expect({"alerts-rules": "+", "backups-release": "~"}),
}

# Run-time losses in place in a protected stack: the diff states the loss and stops on it
# (retention and generation cuts below production's floors are refused by the config).
RUN_TIME_LOSSES = {"N18", "N19"}
_SEEN: dict[str, tuple] = {}
_BASES: dict[tuple, dict] = {}


def judged(row: Row):
    """(changes by name, judgement, report lines, old and new plans, changes), or the
    ProgramError."""
    if row.row in _SEEN:
        return _SEEN[row.row]
    values = copy.deepcopy(stack_config(row.stack))
    if row.base:
        row.base(values)
    key = (row.stack, row.base)
    if key not in _BASES:
        _BASES[key] = run_config(row.stack, values).document()
    old = _BASES[key]
    row.edit(values)
    # The lock-out check judges the identity that runs `up`: the deploy role (review row A18).
    caller = "github-deploy-prod" if row.row == "A18" else None
    try:
        new = run_config(
            row.stack, values, subnet_zones=row.subnet_zones or None, caller_role=caller
        ).document()
    except (ProgramError, ConfigError) as failure:
        _SEEN[row.row] = (failure,)
        return _SEEN[row.row]
    lines, judgement = transitions.report(old, new, acknowledged(typed_config(row.stack, values)))
    changes = transitions.changes(old, new)
    found: dict = {}
    for change in changes:  # by name, or by Kind/name where two kinds share a name
        found.setdefault(change.name, change)
        found[f"{change.kind}/{change.name}"] = change
    _SEEN[row.row] = (found, judgement, lines, old, new, changes)
    return _SEEN[row.row]


def test_every_row_of_the_review_has_its_expectation():
    assert [r.row for r in ROWS] == list(EXPECT)
    assert len(ROWS) == 76


@pytest.mark.parametrize("row", ROWS, ids=[r.row for r in ROWS])
def test_a_row_is_marked_said_and_judged_as_a_real_up_does_it(row):
    expect = EXPECT[row.row]
    result = judged(row)
    if expect.refused:
        (failure,) = result
        assert isinstance(failure, ProgramError) and failure.registered == 0
        assert f"eks-config-storage:{expect.refused}:" in str(failure)
        return
    found, judgement, lines, _, _, _ = result
    report = "\n".join(lines)
    for name, mark in expect.marks.items():
        change = found.get(name)
        if mark is None:
            assert change is None, change.line() if change else ""
            continue
        assert change is not None, f"{name} not in the diff\n{report}"
        assert (change.action, change.delete_first) == (MARKS[mark], mark == "±!"), change.line()
    for name, said in expect.says.items():
        assert said in found[name].consequence, found[name].line()
    got = {(v.subject, v.key) for v in judgement.violations}
    assert got == expect.needs, report
    if expect.report:
        assert any(line.startswith(expect.report) for line in lines), report


@pytest.mark.parametrize("row", [r for r in ROWS if EXPECT[r.row].needs], ids=lambda r: r.row)
def test_the_named_acknowledgements_accept_exactly_what_they_name(row):
    _, _, _, old, new, changes = judged(row)
    buckets: dict[str, set] = {}
    for subject, key in EXPECT[row.row].needs:
        if key:
            bucket = {"snapshotPolicies": "snapshot_policies"}.get(
                key.removeprefix("acknowledge."), key.removeprefix("acknowledge.")
            )
            value = {"snapshot policy hourly": "hourly"}.get(subject, subject)
            buckets.setdefault(bucket, set()).add(value)
    accepted = transitions.Acknowledged(**{k: frozenset(v) for k, v in buckets.items()})
    judgement = transitions.judge(old, new, changes, accepted, guards.rules(old, new, changes))
    refusals = {(subject, key) for subject, key in EXPECT[row.row].needs if not key}
    left = {(v.subject, v.key) for v in judgement.violations}
    assert left == refusals
    assert judgement.unused == []


@pytest.mark.parametrize("row", [r for r in ROWS if r.row in RUN_TIME_LOSSES], ids=lambda r: r.row)
def test_a_run_time_loss_in_a_protected_stack_needs_an_acknowledgement(row):
    judgement = judged(row)[1]
    (found,) = judgement.violations
    assert (found.subject, found.key) == ("storage.protection", SETTINGS)
    # The message names each class and policy that parts, and when their generations go.
    assert "leaves policy hourly" in found.message
    assert "until 1d old, then the hourly rotator prunes them" in found.message
