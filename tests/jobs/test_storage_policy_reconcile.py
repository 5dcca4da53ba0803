"""jobs/storage_policy_reconcile.sh under real shells against the stand-in kubectl:
existing PVs take their class's reclaimPolicy (never a Released one towards Delete), existing
contents of the stack's snapshot classes take the stack's deletionPolicy (never one being pruned,
deleted, made from an existing snapshot or kept by Velero), and any failed patch fails the run."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from design import reconciler as design
from tests.support.kube_harness import ScriptBin, ScriptRun
from tests.support.snapshot_harness import Harness, day, pvc, run_fake, snap

SCRIPT = "storage_policy_reconcile.sh"
PV_JSONPATH = (
    'jsonpath={range .items[*]}{.metadata.name}{"\\t"}{.spec.storageClassName}{"\\t"}'
    '{.spec.persistentVolumeReclaimPolicy}{"\\t"}{.status.phase}{"\\t"}'
    '{.spec.claimRef.namespace}{"\\n"}{end}'
)
CONTENTS_JSONPATH = (
    'jsonpath={range .items[*]}{.metadata.name}{"\\t"}{.spec.volumeSnapshotClassName}{"\\t"}'
    '{.spec.deletionPolicy}{"\\t"}{.metadata.resourceVersion}{"\\t"}'
    '{.spec.source.volumeHandle}{"\\t"}{.metadata.deletionTimestamp}{"\\t"}'
    '{.metadata.annotations.snapshots\\.eks-config-storage\\.io/pruning}{"\\t"}'
    '{.metadata.labels.velero\\.io/backup-name}{"\\n"}{end}'
)
LIST_PVS = ["get", "persistentvolumes", "-o", PV_JSONPATH]
LIST_CONTENTS = ["get", "volumesnapshotcontents", "-o", CONTENTS_JSONPATH]
RETAIN_PV = '{"spec":{"persistentVolumeReclaimPolicy":"Retain"}}'
DELETE_BOUND_PV = (
    '[{"op":"test","path":"/status/phase","value":"Bound"},'
    '{"op":"replace","path":"/spec/persistentVolumeReclaimPolicy","value":"Delete"}]'
)
ENV = {
    "CLASS_POLICIES": "gp3-ssd-prod-rwo=Retain,io2-ssd-db-prod-rwo=Delete",
    "SNAPSHOT_CLASSES": "ebs-retain-prod,ebs-delete-prod",
    "SNAPSHOT_DELETION_POLICY": "Retain",
}
GP3, IO2 = "gp3-ssd-prod-rwo", "io2-ssd-db-prod-rwo"


def pv(name: str, cls: str, policy: str, phase: str = "Bound", claim_ns: str | None = "app"):
    return {
        "name": name,
        "storageClassName": cls,
        "reclaimPolicy": policy,
        "phase": phase,
        "claimRef": {"namespace": claim_ns, "name": f"claim-{name}"} if claim_ns else None,
        "volumeHandle": f"vol-{name}",
    }


def content(name: str, cls: str, policy: str, rv: int = 7, **extra) -> dict:
    """A dynamically provisioned content unless extra says otherwise."""
    return {
        "name": name,
        "volumeSnapshotClassName": cls,
        "deletionPolicy": policy,
        "resourceVersion": str(rv),
        "volumeHandle": f"vol-of-{name}",
        "snapshotHandle": f"snap-of-{name}",
        "volumeSnapshotRef": {"namespace": "app", "name": f"vs-{name}"},
        **extra,
    }


def reconcile(bin_: ScriptBin, pvs=(), contents=(), **env: str | None) -> ScriptRun:
    state = {
        "pvs": list(pvs),
        "volumes": [p["volumeHandle"] for p in pvs],
        "contents": list(contents),
        "physical": [c["snapshotHandle"] for c in contents],
        **{k: v for k, v in env.items() if not k.isupper()},
    }
    variables = {k: v for k, v in {**ENV, **env}.items() if k.isupper() and v is not None}
    return bin_.execute(SCRIPT, state, variables)


def patch_pv(name: str, to: str) -> list[str]:
    if to == "Retain":
        return ["patch", "persistentvolume", name, "--type=merge", "-p", RETAIN_PV]
    return ["patch", "persistentvolume", name, "--type=json", "-p", DELETE_BOUND_PV]


def patch_content(name: str, rv: int, to: str) -> list[str]:
    body = (
        f'[{{"op":"test","path":"/metadata/resourceVersion","value":"{rv}"}},'
        f'{{"op":"replace","path":"/spec/deletionPolicy","value":"{to}"}}]'
    )
    return ["patch", "volumesnapshotcontent", name, "--type=json", "-p", body]


def by_name(objects: list[dict]) -> dict[str, dict]:
    return {o["name"]: o for o in objects}


# ------------------------------------------------------------------ volumes


def test_pvs_take_their_class_policy_and_released_ones_never_move_to_delete(script_bin):
    pvs = [
        pv("pv-a", GP3, "Delete"),  # promoted class: now Retain
        pv("pv-b", GP3, "Retain"),  # already right
        pv("pv-c", IO2, "Retain"),  # Bound: may move to Delete
        pv("pv-d", IO2, "Retain", phase="Released"),  # would lose its volume at once
        pv("pv-e", "efs-other-rwx", "Delete"),  # another class: never touched
        pv("pv-f", "", "Delete", claim_ns=None),  # no class
        pv("pv-g", GP3, "Delete", phase="Released"),  # towards Retain is always safe
        pv("pv-h", IO2, "Retain", phase="Available", claim_ns=None),
    ]
    result = reconcile(script_bin, pvs)

    assert result.returncode == 0, result.stderr
    assert result.calls == [
        LIST_PVS,
        patch_pv("pv-a", "Retain"),
        patch_pv("pv-c", "Delete"),
        patch_pv("pv-g", "Retain"),
        LIST_CONTENTS,
    ]
    assert result.lines() == [
        "PV pv-a: Delete -> Retain",
        "PV pv-c: Retain -> Delete",
        "warning: kept PV pv-d Retain (phase Released): only a Bound PV is moved to Delete, a "
        "Released one would lose its volume at once; delete it deliberately if it should go",
        "PV pv-g: Delete -> Retain",
        "warning: kept PV pv-h Retain (phase Available): only a Bound PV is moved to Delete, a "
        "Released one would lose its volume at once; delete it deliberately if it should go",
        "volumes and snapshot contents follow policy",
    ]
    after = by_name(result.state["pvs"])
    assert {name: p["reclaimPolicy"] for name, p in after.items()} == {
        "pv-a": "Retain",
        "pv-b": "Retain",
        "pv-c": "Delete",
        "pv-d": "Retain",
        "pv-e": "Delete",
        "pv-f": "Delete",
        "pv-g": "Retain",
        "pv-h": "Retain",
    }
    assert sorted(result.state["volumes"]) == sorted(p["volumeHandle"] for p in pvs)


def test_a_claim_deleted_between_listing_and_patch_keeps_its_volume(script_bin):
    """The Delete patch tests the phase it saw: the PV controller would reclaim a PV that is
    Released by then, so the patch must fail rather than land."""
    pvs = [pv("pv-c", IO2, "Retain"), pv("pv-z", GP3, "Delete")]
    result = reconcile(script_bin, pvs, race_pvs=[{"name": "pv-c", "phase": "Released"}])

    assert result.returncode == 1
    assert result.calls == [
        LIST_PVS,
        patch_pv("pv-c", "Delete"),
        patch_pv("pv-z", "Retain"),
        LIST_CONTENTS,
    ]
    after = by_name(result.state["pvs"])
    assert after["pv-c"]["reclaimPolicy"] == "Retain"
    assert "vol-pv-c" in result.state["volumes"]
    assert after["pv-z"]["reclaimPolicy"] == "Retain"
    assert result.errors() == [
        "The request is invalid: the server rejected our request due to an error in our "
        'request: "pv-c": testing value /status/phase failed: test failed',
        "error: cannot set PV pv-c to Delete (it was Retain, Bound)",
        "error: 1 volumes or contents do not follow policy yet",
    ]


def test_pvs_claimed_in_an_exempt_namespace_are_left(script_bin):
    pvs = [pv("pv-drill", GP3, "Delete", claim_ns="restore-drills"), pv("pv-a", GP3, "Delete")]
    result = reconcile(script_bin, pvs, EXEMPT_NAMESPACES="restore-drills")

    assert result.returncode == 0, result.stderr
    assert result.calls == [LIST_PVS, patch_pv("pv-a", "Retain"), LIST_CONTENTS]
    assert result.lines()[:2] == [
        "PV pv-a: Delete -> Retain",
        "left PV pv-drill (Delete, claimed in restore-drills, an exempt namespace)",
    ]
    assert by_name(result.state["pvs"])["pv-drill"]["reclaimPolicy"] == "Delete"


def test_a_failed_pv_patch_fails_the_run_after_the_rest(script_bin):
    pvs = [pv("pv-a", GP3, "Delete"), pv("pv-b", GP3, "Delete")]
    result = reconcile(
        script_bin,
        pvs,
        [content("c1", "ebs-delete-prod", "Delete")],
        fail_patch_pv=["pv-a"],
    )

    assert result.returncode == 1
    assert result.calls == [
        LIST_PVS,
        patch_pv("pv-a", "Retain"),
        patch_pv("pv-b", "Retain"),
        LIST_CONTENTS,
        patch_content("c1", 7, "Retain"),
    ]
    assert by_name(result.state["pvs"])["pv-a"]["reclaimPolicy"] == "Delete"
    assert "error: cannot set PV pv-a to Retain (it was Delete, Bound)" in result.errors()


states = st.lists(
    st.tuples(
        st.sampled_from([GP3, IO2, "efs-x-rwx", ""]),
        st.sampled_from(["Retain", "Delete"]),
        st.sampled_from(["Bound", "Released", "Available", "Failed"]),
    ),
    max_size=6,
)


@settings(max_examples=15)
@given(
    drawn=states,
    gp3=st.sampled_from(["Retain", "Delete"]),
    io2=st.sampled_from(["Retain", "Delete"]),
)
def test_no_volume_is_ever_lost_and_bound_pvs_follow_their_class(script_bin_image, drawn, gp3, io2):
    pvs = [pv(f"pv-{i}", cls, policy, phase) for i, (cls, policy, phase) in enumerate(drawn)]
    policies = {GP3: gp3, IO2: io2}
    result = reconcile(script_bin_image, pvs, CLASS_POLICIES=f"{GP3}={gp3},{IO2}={io2}")

    assert result.returncode == 0, result.stderr
    assert sorted(result.state["volumes"]) == sorted(p["volumeHandle"] for p in pvs)
    after = by_name(result.state["pvs"])
    for p in pvs:
        want = policies.get(p["storageClassName"])
        got = after[p["name"]]["reclaimPolicy"]
        # Other classes keep theirs, and only Bound PVs move to Delete.
        kept = want is None or (want == "Delete" and p["phase"] != "Bound")
        assert got == (p["reclaimPolicy"] if kept else want)


# ------------------------------------------------------------------ contents


def test_contents_of_the_stacks_classes_take_its_policy_except_those_in_flight(script_bin):
    contents = [
        content("c1", "ebs-delete-prod", "Delete", rv=11),  # made before the promotion
        content("c2", "ebs-retain-prod", "Retain"),
        content("c3", "ebs-delete-prod", "Delete", volumeHandle=""),  # pre-provisioned
        content(
            "c4",
            "ebs-delete-prod",
            "Delete",
            annotations={"snapshots.eks-config-storage.io/pruning": "app/data-1"},
        ),
        content("c5", "ebs-delete-prod", "Delete", labels={"velero.io/backup-name": "nightly-1"}),
        content("c6", "ebs-delete-prod", "Delete", deletionTimestamp="2026-11-27T03:00:00Z"),
        content("c7", "velero-csi", "Delete"),  # not the stack's class
        content("c8", "ebs-retain-prod", "Delete", rv=12),
    ]
    result = reconcile(script_bin, contents=contents)

    assert result.returncode == 0, result.stderr
    assert result.calls == [
        LIST_PVS,
        LIST_CONTENTS,
        patch_content("c1", 11, "Retain"),
        patch_content("c8", 12, "Retain"),
    ]
    assert result.lines() == [
        "content c1: Delete -> Retain",
        "left content c3 Delete: made from an existing snapshot",
        "left content c4 Delete: being pruned (app/data-1)",
        "left content c5 Delete: of Velero backup nightly-1",
        "left content c6 Delete: being deleted",
        "content c8: Delete -> Retain",
        "volumes and snapshot contents follow policy",
    ]
    after = by_name(result.state["contents"])
    assert {n: c["deletionPolicy"] for n, c in after.items()} == {
        "c1": "Retain",
        "c2": "Retain",
        "c3": "Delete",
        "c4": "Delete",
        "c5": "Delete",
        "c6": "Delete",
        "c7": "Delete",
        "c8": "Retain",
    }


def test_a_delete_stack_releases_retained_contents(script_bin):
    contents = [
        content("c1", "ebs-retain-dev", "Retain"),
        content("c2", "ebs-delete-dev", "Retain"),
    ]
    result = reconcile(
        script_bin,
        contents=contents,
        SNAPSHOT_CLASSES="ebs-retain-dev,ebs-delete-dev",
        SNAPSHOT_DELETION_POLICY="Delete",
    )

    assert result.returncode == 0, result.stderr
    assert result.calls[2:] == [patch_content("c1", 7, "Delete"), patch_content("c2", 7, "Delete")]


def test_a_content_the_rotator_marks_after_the_listing_is_left_to_it(script_bin):
    """Between the listing and the patch the rotator releases c1 to prune it: the patch tests
    the resourceVersion it saw, fails, and the run fails; c1 stays Delete, so its physical
    snapshot goes with the generation as the rotator meant."""
    race = {
        "name": "c1",
        "annotations": {"snapshots.eks-config-storage.io/pruning": "app/data-1"},
    }
    result = reconcile(
        script_bin,
        contents=[content("c1", "ebs-delete-prod", "Delete", rv=11)],
        race_contents=[race],
    )

    assert result.returncode == 1
    assert result.calls[2:] == [patch_content("c1", 11, "Retain")]
    assert by_name(result.state["contents"])["c1"]["deletionPolicy"] == "Delete"
    assert result.errors() == [
        "The request is invalid: the server rejected our request due to an error in our "
        'request: "c1": testing value /metadata/resourceVersion failed: test failed',
        "error: cannot set content c1 to Retain (it was Delete; changed since the listing, or "
        "refused)",
        "error: 1 volumes or contents do not follow policy yet",
    ]


def test_a_generation_the_rotator_could_not_delete_stays_released(script_bin, tmp_path):
    """The rotator released data-1's content but could not delete the snapshot; the reconciler
    of a Retain stack leaves that content Delete, so the next rotation prunes it for good."""
    old = [snap("app", f"data-{n}", day(n), "data") for n in (1, 2)]
    state = {"pvcs": [pvc("app", "data")], "snapshots": old, "fail_delete": ["app/data-1"]}
    (tmp_path / "rotator").mkdir()
    rotated = Harness(tmp_path / "rotator", script_bin.shell).run(state, "Retain", KEEP="1")
    assert rotated.returncode == 1
    (released,) = [
        c for c in rotated.state["contents"] if c["volumeSnapshotRef"]["name"] == "data-1"
    ]
    assert released["deletionPolicy"] == "Delete"
    released.update(volumeSnapshotClassName="ebs-retain-prod", volumeHandle="vol-app-data")

    state = {**rotated.state, "fail_delete": []}
    result = script_bin.execute(SCRIPT, state, ENV)

    assert result.returncode == 0, result.stderr
    assert by_name(result.state["contents"])[released["name"]]["deletionPolicy"] == "Delete"
    assert f"left content {released['name']} Delete: being pruned (app/data-1)" in result.lines()


def test_listing_failures_fail_the_run_and_the_other_half_still_runs(script_bin):
    pvs = [pv("pv-a", GP3, "Delete")]
    result = reconcile(script_bin, pvs, fail_calls=[["get", "volumesnapshotcontents"]])

    assert result.returncode == 1
    assert result.calls == [LIST_PVS, patch_pv("pv-a", "Retain"), LIST_CONTENTS]
    assert result.errors() == [
        "Error from server (Forbidden): get volumesnapshotcontents refused",
        "error: cannot list VolumeSnapshotContents",
        "error: 1 volumes or contents do not follow policy yet",
    ]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"CLASS_POLICIES": None}, "CLASS_POLICIES is required"),
        ({"CLASS_POLICIES": "gp3=Keep"}, "CLASS_POLICIES entry 'gp3=Keep'"),
        ({"CLASS_POLICIES": "gp3"}, "CLASS_POLICIES entry 'gp3'"),
        ({"CLASS_POLICIES": "gp3=Retain,gp3=Delete"}, "names class 'gp3' twice"),
        ({"CLASS_POLICIES": "GP3=Retain"}, "CLASS_POLICIES entry 'GP3=Retain'"),
        ({"SNAPSHOT_CLASSES": None}, "SNAPSHOT_CLASSES is required"),
        ({"SNAPSHOT_CLASSES": "a,,b"}, "SNAPSHOT_CLASSES entry ''"),
        ({"SNAPSHOT_DELETION_POLICY": "retain"}, "SNAPSHOT_DELETION_POLICY 'retain'"),
        ({"SNAPSHOT_DELETION_POLICY": None}, "SNAPSHOT_DELETION_POLICY ''"),
        ({"EXEMPT_NAMESPACES": "Drills"}, "EXEMPT_NAMESPACES entry 'Drills'"),
    ],
    ids=lambda v: json.dumps(v) if isinstance(v, dict) else None,
)
def test_invalid_configuration_exits_2_before_calling_kubectl(script_bin, overrides, message):
    result = reconcile(script_bin, [pv("pv-a", GP3, "Delete")], **overrides)

    assert result.returncode == 2
    assert result.calls == []
    assert message in result.stderr


def test_verbs_used_are_exactly_those_granted(script_bin):
    pvs = [pv("pv-a", GP3, "Delete"), pv("pv-c", IO2, "Retain")]
    result = reconcile(script_bin, pvs, [content("c1", "ebs-delete-prod", "Delete")])

    assert result.returncode == 0, result.stderr
    # The script gets only whole lists (kubectl's "get" of a type is a list) and patches.
    used = {
        (
            argv[1] if argv[1].endswith("s") else f"{argv[1]}s",
            "list" if argv[0] == "get" else argv[0],
        )
        for argv in result.calls
    }
    granted = {
        (resource, verb)
        for rule in design.reconciler_rules()
        for resource in rule["resources"]
        for verb in rule["verbs"]
    }
    assert (
        used
        == granted
        == {
            ("persistentvolumes", "list"),
            ("persistentvolumes", "patch"),
            ("volumesnapshotcontents", "list"),
            ("volumesnapshotcontents", "patch"),
        }
    )


@pytest.mark.parametrize(
    "argv",
    [
        ["get", "persistentvolumes", "-o", "json"],
        ["get", "persistentvolumes", "-l", "a=b", "-o", PV_JSONPATH],
        ["get", "volumesnapshotcontents", "-o", "yaml"],
        ["patch", "persistentvolume", "pv-a", "--type=merge", "-p", '{"spec":{}}'],
        # Towards Delete only with the test of the phase in front.
        [
            "patch",
            "persistentvolume",
            "pv-a",
            "--type=merge",
            "-p",
            '{"spec":{"persistentVolumeReclaimPolicy":"Delete"}}',
        ],
        [
            "patch",
            "persistentvolume",
            "pv-a",
            "--type=json",
            "-p",
            '[{"op":"replace","path":"/spec/persistentVolumeReclaimPolicy","value":"Delete"}]',
        ],
        [
            "patch",
            "volumesnapshotcontent",
            "c1",
            "--type=json",
            "-p",
            '[{"op":"replace","path":"/spec/deletionPolicy","value":"Retain"}]',
        ],
        ["delete", "persistentvolume", "pv-a"],
    ],
)
def test_fake_kubectl_refuses_forms_the_reconciler_does_not_use(tmp_path, argv):
    state = {"pvs": [pv("pv-a", GP3, "Retain")], "contents": [content("c1", "x", "Delete")]}
    returncode, output, _ = run_fake(tmp_path, state, argv)
    assert returncode == 3, output
    assert "fake kubectl: unsupported" in output
