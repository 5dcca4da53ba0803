"""What restore_drill.sh sends and may do: its manifests validate against Kubernetes and the
vendored snapshot CRDs and have the shapes design/restore.py renders for a restore by hand; it
uses exactly the access design/drills.py grants; for any set of snapshots and any outcome the
newest ready one is restored, nothing the drill made is left and no original is touched; the
stand-in kubectl refuses forms the drill does not use."""

from __future__ import annotations

import json

import kubernetes_validate
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from design import drills as drills_design
from design import restore as restore_design
from tests.support.drill_harness import (
    CLASS,
    DAILY_3,
    NOTHING_LEFT,
    RUN,
    SCRATCH,
    claim,
    cluster,
    drill,
    leftovers,
    originals_untouched,
    recorded,
    source,
)
from tests.support.kube_harness import ScriptBin
from tests.support.snapshot_harness import IMAGE_SHELL, run_fake
from tests.support.upstream_schema import manifest_problems

K8S_VERSION = "1.35.0"


@pytest.fixture(scope="module", params=IMAGE_SHELL)
def sent(request, tmp_path_factory) -> list[dict]:
    """What one drill under the image's shell sends with ``kubectl create``: the manifests do
    not depend on the shell, and every test below reads the same ones."""
    result = drill(ScriptBin(tmp_path_factory.mktemp("drill"), request.param), cluster([DAILY_3]))
    assert result.returncode == 0, result.stderr
    return [yaml.safe_load(text) for text in result.stdins]


def test_every_manifest_validates(sent):
    content, copy, pvc, pod = sent
    assert manifest_problems(content) == []
    assert manifest_problems(copy) == []
    for manifest in (pvc, pod):
        kubernetes_validate.validate(manifest, K8S_VERSION, strict=True)


def test_the_check_pod_meets_restricted_pod_security(sent):
    *_, pod = sent
    assert pod["spec"]["securityContext"] == {
        "runAsNonRoot": True,
        "runAsUser": 65532,
        "runAsGroup": 65532,
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    (check,) = pod["spec"]["containers"]
    assert check["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
        "capabilities": {"drop": ["ALL"]},
    }
    assert check["image"] == "docker.io/alpine/k8s:1.34.1"


def test_the_copy_and_pvc_have_the_shapes_of_a_restore_by_hand(sent):
    """design/restore.py (python -m tools.restore) renders the same objects for a person; only
    the names differ (a drill names them after its run)."""
    snap, content = DAILY_3
    item = {
        "metadata": {
            "namespace": snap["namespace"],
            "name": snap["name"],
            "creationTimestamp": snap["creationTimestamp"],
            "labels": snap["labels"],
        },
        "spec": {
            "volumeSnapshotClassName": snap["volumeSnapshotClassName"],
            "source": {"persistentVolumeClaimName": snap["pvc"]},
        },
        "status": {
            "readyToUse": True,
            "restoreSize": snap["restoreSize"],
            "boundVolumeSnapshotContentName": content["name"],
        },
    }
    contents = {
        "items": [
            {
                "metadata": {"name": content["name"]},
                "spec": {"driver": content["driver"], "deletionPolicy": "Retain"},
                "status": {"snapshotHandle": content["snapshotHandle"]},
            }
        ]
    }
    snapshot = restore_design.Snapshot.of(item)
    by_hand_content, by_hand_copy = restore_design.prebound_copy(snapshot, contents, SCRATCH)
    by_hand_pvc = restore_design.pvc_from_snapshot(
        snapshot, name=RUN, namespace=SCRATCH, storage_class=CLASS, source_name=RUN
    )
    content_sent, copy_sent, pvc_sent, _ = sent

    expected = json.loads(json.dumps(by_hand_content["spec"]))
    expected["volumeSnapshotRef"]["name"] = RUN
    assert content_sent["spec"] == expected
    assert content_sent["metadata"]["annotations"] == by_hand_content["metadata"]["annotations"]
    expected = json.loads(json.dumps(by_hand_copy["spec"]))
    expected["source"]["volumeSnapshotContentName"] = content_sent["metadata"]["name"]
    assert copy_sent["spec"] == expected
    assert pvc_sent["spec"] == by_hand_pvc["spec"]
    assert pvc_sent["metadata"]["annotations"] == by_hand_pvc["metadata"]["annotations"]


# Each call, as the API requests kubectl makes for it: (resource, verb). `kubectl wait` gets,
# lists and watches (kubernetes/kubectl@v0.34.1:pkg/cmd/wait).
def requests(argv: list[str], stdin: str | None) -> set[tuple[str, str]]:
    kinds = {
        "VolumeSnapshotContent": "volumesnapshotcontents",
        "VolumeSnapshot": "volumesnapshots",
        "PersistentVolumeClaim": "persistentvolumeclaims",
        "Pod": "pods",
    }
    if argv[0] == "create":
        return {(kinds[yaml.safe_load(stdin)["kind"]], "create")}
    if argv[0] == "wait":
        return {("volumesnapshots", verb) for verb in ("get", "list", "watch")}
    resource = argv[1] if argv[1].endswith("s") else f"{argv[1]}s"
    if argv[0] == "get":
        return {(resource, "list" if "--all-namespaces" in argv else "get")}
    return {(resource, argv[0])}


def test_the_drill_uses_exactly_the_access_it_is_granted(script_bin):
    result = drill(script_bin, cluster([DAILY_3]))
    assert result.returncode == 0, result.stderr
    stdins = iter(result.stdins)
    used = set()
    for argv in result.calls:
        used |= requests(argv, next(stdins) if argv[0] == "create" else None)
    rules = [*drills_design.role_rules(["weekly"]), *drills_design.cluster_rules()]
    granted = {(r, v) for rule in rules for r in rule["resources"] for v in rule["verbs"]}
    assert used == granted


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"DRILL": None}, "DRILL ''"),
        ({"DRILL": "x" * 31}, "at most 30"),
        ({"POLICY": "Daily"}, "POLICY 'Daily'"),
        ({"NAMESPACE": None}, "NAMESPACE ''"),
        ({"CRONJOB": "drill_weekly"}, "CRONJOB 'drill_weekly'"),
        ({"CHECK_IMAGE": "alpine k8s"}, "CHECK_IMAGE"),
        ({"TIMEOUT_SECONDS": "0"}, "TIMEOUT_SECONDS '0'"),
        ({"TIMEOUT_SECONDS": "30m"}, "TIMEOUT_SECONDS '30m'"),
        ({"TIMEOUT_SECONDS": "100000"}, "TIMEOUT_SECONDS '100000'"),
        ({"POLL_SECONDS": "010"}, "POLL_SECONDS '010'"),
        ({"POLICY_LABEL": "a/b/c"}, "POLICY_LABEL"),
    ],
    ids=lambda v: json.dumps(v) if isinstance(v, dict) else None,
)
def test_invalid_configuration_exits_2_before_calling_kubectl(script_bin, overrides, message):
    result = drill(script_bin, cluster([DAILY_3]), **overrides)

    assert result.returncode == 2
    assert result.calls == []
    assert message in result.stderr


TIMES = ["2026-11-20T03:00:00Z", "2026-11-25T03:00:00Z", "2026-11-26T03:00:00Z"]
snapshot_sets = st.lists(
    st.tuples(st.sampled_from(["a", "b"]), st.sampled_from(TIMES), st.booleans()),
    max_size=4,
)
OUTCOMES = {
    "checked": ["Pending", "Succeeded"],
    "check fails": ["Running", "Failed"],
    "never mounts": ["Pending"],
}


@settings(max_examples=10)
@given(
    drawn=snapshot_sets,
    outcome=st.sampled_from(sorted(OUTCOMES)),
    class_reclaim=st.sampled_from(["Retain", "Delete"]),
    original=st.sampled_from(["Retain", "Delete"]),
)
def test_any_drill_restores_the_newest_ready_snapshot_and_leaves_nothing(
    script_bin_image, drawn, outcome, class_reclaim, original
):
    sources = [
        source(ns, f"data-{i}", ts, ready=ready, deletion_policy=original)
        for i, (ns, ts, ready) in enumerate(drawn)
    ]
    state = cluster(
        sources,
        claims=[claim("a", "data"), claim("b", "data")],
        class_reclaim=class_reclaim,
        pod_phases=OUTCOMES[outcome],
    )
    result = drill(script_bin_image, state, TIMEOUT_SECONDS="25")

    originals_untouched(result)
    assert leftovers(result) == NOTHING_LEFT
    ready = sorted((ts, ns, f"data-{i}") for i, (ns, ts, r) in enumerate(drawn) if r)
    if not ready or outcome != "checked":
        assert result.returncode == 1
        assert recorded(result) is None
        return
    assert result.returncode == 0, result.stderr
    _, ns, name = ready[-1]
    assert recorded(result) == f"2026-11-27T03:00:10Z 10s {ns}/{name}"


@pytest.mark.parametrize(
    "argv",
    [
        ["get", "pod", "--namespace", SCRATCH, RUN, "-o", "json"],
        ["get", "pods", "--namespace", SCRATCH],
        ["get", "persistentvolumeclaim", "--namespace", "app", "data", "-o", "yaml"],
        ["get", "volumesnapshotcontent", "c", "-o", "jsonpath={.spec}"],
        ["delete", "pod", "--namespace", SCRATCH, RUN],
        ["delete", "persistentvolumeclaim", "--namespace", SCRATCH, RUN, "--wait=true"],
        ["delete", "volumesnapshotcontent", "c"],
        ["patch", "cronjob", "--namespace", SCRATCH, "drill-weekly", "--type=json", "-p", "[]"],
        [
            "patch",
            "cronjob",
            "--namespace",
            SCRATCH,
            "drill-weekly",
            "--type=merge",
            "-p",
            '{"spec":{"suspend":true}}',
        ],
        ["annotate", "cronjob", "--namespace", SCRATCH, "drill-weekly", "a=b"],
        # A PV set to Delete without the test that it is the drill's own.
        [
            "patch",
            "persistentvolume",
            "pv-1",
            "--type=json",
            "-p",
            '[{"op":"replace","path":"/spec/persistentVolumeReclaimPolicy","value":"Delete"}]',
        ],
    ],
)
def test_fake_kubectl_refuses_forms_the_drill_does_not_use(tmp_path, argv):
    returncode, output, _ = run_fake(tmp_path, cluster([DAILY_3]), argv)
    assert returncode == 3, output
    assert "fake kubectl: unsupported" in output
