"""A real preview's steps, in the engine's own JSON (vendored from pulumi/pulumi's lifecycle tests,
tests/upstream/SOURCES.yaml), are marked and judged by the same transition rules, with the same
acknowledgement keys, as the offline diff."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.support.upstream_schema import UPSTREAM
from tools.transitions import Acknowledged, Change, compare, engine, rules

LIFECYCLE = UPSTREAM / "pulumi" / "lifecycletest"
ROOT = Path(__file__).resolve().parents[3]


def stream(case: str) -> str:
    return (LIFECYCLE / case / "eventstream.json").read_text()


NOTHING = Acknowledged()


def judged(case: str, accepted: Acknowledged = NOTHING, text: str | None = None):
    found, judgement = engine.judged(engine.read(text or stream(case)), accepted)
    return {c.name: c for c in found}, judgement


def as_digest(text: str) -> str:
    """The same preview as `pulumi preview --json` prints it without streaming: a PreviewDigest
    built as pkg/backend/display/json.go ``getPreviewMetadataStep`` builds its steps."""
    steps, diagnostics = [], []
    for line in text.splitlines():
        event = json.loads(line)
        if pre := event.get("resourcePreEvent"):
            m = pre["metadata"]
            steps.append(
                {
                    "op": m["op"],
                    "urn": m["urn"],
                    "oldState": m.get("old"),
                    "newState": m.get("new"),
                    "diffReasons": m.get("diffs"),
                    "replaceReasons": m.get("keys"),
                    "detailedDiff": {
                        k: {"kind": v["diffKind"], "inputDiff": v["inputDiff"]}
                        for k, v in (m.get("detailedDiff") or {}).items()
                    }
                    or None,
                }
            )
        elif diag := event.get("diagnosticEvent"):
            diagnostics.append({"message": diag["message"], "severity": diag["severity"]})
    return json.dumps({"steps": steps, "diagnostics": diagnostics, "changeSummary": {}})


@pytest.mark.parametrize(
    ("case", "name", "delete_first", "fields"),
    [
        # delete-replaced before create-replacement: deleteBeforeReplace
        ("TestDependencyChangeDBR/-0-1-preview", "resA", True, ("A",)),
        # create-replacement first, delete-replaced at the end
        ("TestExplicitDeleteBeforeReplace/-0-1-preview", "resA", False, ("A",)),
        # the old resource is deleted under its former (aliased) URN
        ("TestAliasURNs/urn-force-new-0-0-preview", "n5", True, ("forcesReplacement",)),
    ],
)
def test_a_replacement_is_marked_by_the_order_of_the_engines_steps(
    case, name, delete_first, fields
):
    found, judgement = judged(case)
    assert list(found) == [name]
    change = found[name]
    assert (change.action, change.delete_first, change.fields) == ("replace", delete_first, fields)
    assert change.consequence.startswith(
        "the old one goes first" if delete_first else "a new one first"
    )
    assert judgement.violations == []


def test_the_stacks_exports_come_from_its_root_resource_in_either_format():
    urn = "urn:pulumi:dev::eks-config-storage::pulumi:pulumi:Stack::eks-config-storage-dev"
    root = {"type": "pulumi:pulumi:Stack", "urn": urn}
    old = {**root, "outputs": {"clusterName": "eks-dev"}}
    new = {**root, "outputs": {"clusterName": "eks-dev-2"}}
    digest = {"steps": [{"op": "same", "urn": urn, "oldState": old, "newState": new}]}
    event = {
        "resOutputsEvent": {"metadata": {"op": "same", "urn": urn, **root, "old": old, "new": new}}
    }
    for text in (json.dumps(digest), json.dumps(event)):
        preview = engine.read(text)
        assert preview.exports == ({"clusterName": "eks-dev"}, {"clusterName": "eks-dev-2"})
        _, judgement = engine.judged(preview, NOTHING)
        assert [v.subject for v in judgement.violations] == ["clusterName"]


@pytest.mark.parametrize("case", ["TestDependencyChangeDBR/-0-1-preview", "TestProtect/1"])
def test_the_digest_and_the_event_stream_are_judged_alike(case):
    streamed, verdict = judged(case)
    digested, digest_verdict = judged(case, text=as_digest(stream(case)))
    assert streamed == digested
    assert verdict.violations == digest_verdict.violations


def test_a_protected_replacement_needs_the_offline_acknowledgement_key():
    found, judgement = judged("TestProtect/1")
    assert found["resA"].consequence.startswith("refused by protect: the update stops")
    (violation,) = judgement.violations
    assert (violation.subject, violation.key) == ("resA", "acknowledge.replacements")
    _, accepted = judged("TestProtect/1", Acknowledged(replacements=frozenset({"resA"})))
    assert accepted.violations == [] and len(accepted.accepted) == 1


def test_protected_deletes_say_the_update_continues_past_them():
    preview = engine.read(stream("TestMultipleProtectedDeletes/1"))
    found, judgement = judged("TestMultipleProtectedDeletes/1")
    assert sorted(found) == ["resA", "resB"]
    for change in found.values():
        assert (change.action, change.protected) == ("delete", True)
        assert "the update continues past the refusal" in change.consequence
        assert "what depends on it is deleted before it" in change.consequence
    assert sorted((v.subject, v.key) for v in judgement.violations) == [
        ("resA", "acknowledge.deletes"),
        ("resB", "acknowledge.deletes"),
    ]
    assert any("cannot be deleted" in d for d in preview.diagnostics)
    lines, _ = engine.report(preview, Acknowledged(deletes=frozenset({"resA", "resB"})))
    assert "Transition rules: PASS" in lines
    assert "Engine diagnostics:" in lines


@pytest.mark.parametrize(
    ("case", "field"),
    [("TestPreviewRefreshWithProgram/1", "foo"), ("TestRefreshBasics/0-0-0-preview", "oof")],
)
def test_refresh_drift_is_reported(case, field):
    preview = engine.read(stream(case))
    assert list(preview.drift) == ["urn:pulumi:test::test::pkgA:m:typA::resA"]
    lines, _ = engine.report(preview, Acknowledged())
    assert f"  - resA ({field}): changed outside Pulumi; `up` sets it back" in lines


def test_provider_steps_are_not_resources_to_judge():
    found, _ = judged("TestReplaceSpecificTargets/-0-0-preview")
    # A, C and D are provider updates; B, F and G are the resources replaced because of them.
    assert sorted(found) == ["B", "F", "G"]
    assert all(c.action == "replace" and not c.delete_first for c in found.values())


def retyped(case: str, resource_type: str, inputs: dict, upstream: str = "pkgA:index:typ") -> str:
    """The same engine steps for a resource of this project's: the rules read types and inputs."""
    lines = []
    for line in stream(case).splitlines():
        event = json.loads(line)
        for kind in ("resourcePreEvent", "resOutputsEvent"):
            meta = (event.get(kind) or {}).get("metadata")
            if not meta or meta["type"] != upstream:
                continue
            meta["type"] = resource_type
            meta["urn"] = meta["urn"].replace(upstream, resource_type)
            for side in ("old", "new"):
                if meta.get(side):
                    meta[side]["type"] = resource_type
                    meta[side]["urn"] = meta["urn"]
                    meta[side]["inputs"] = {**inputs, **meta[side]["inputs"]}
        lines.append(json.dumps(event))
    return "\n".join(lines)


def test_the_data_rules_fire_on_the_engines_steps_for_a_stateful_kind():
    text = retyped(
        "TestDependencyChangeDBR/-0-1-preview",
        "aws:efs/fileSystem:FileSystem",
        {"creationToken": "eks-prod-efs"},
    )
    found, judgement = judged("", text=text)
    assert found["resA"].consequence.startswith(
        "the old one goes first: deletes the file system and every file on it"
    )
    assert [(v.subject, v.key) for v in judgement.violations] == [
        ("resA", "acknowledge.replacements")
    ]


def test_a_discarded_resource_is_left_in_place():
    # `discard`: a resource the program only read leaves the stack; nothing is deleted.
    text = retyped(
        "TestStackReference/-4-0-preview",
        "kubernetes:core/v1:Namespace",
        {"metadata": {"name": "orders"}},
        upstream="pulumi:pulumi:StackReference",
    )
    found, judgement = judged("", text=text)
    assert (found["other"].action, found["other"].retained) == ("delete", True)
    assert (
        found["other"].consequence == "removed from the stack and left in place (it was only read)"
    )
    assert judgement.violations == []


def change(name: str, action: str, delete_first: bool = False) -> Change:
    return Change(action, "aws:eks/nodeGroup:NodeGroup", name, (), "", delete_first)


def test_a_disagreement_between_offline_and_engine_is_reported():
    offline = [change("nodes-general", "update")]
    real = [change("nodes-general", "replace", True), change("nodes-batch", "create")]
    verdict = rules.Judgement(violations=[rules.Violation("nodes-general", "x", "k")])
    lines = compare.differences(offline, rules.Judgement(), real, verdict)
    assert lines == [
        "The offline diff and the engine DIFFER (the engine is what `up` does):",
        "  - aws:eks/nodeGroup:NodeGroup nodes-batch: offline no change, engine create",
        "  - aws:eks/nodeGroup:NodeGroup nodes-general: offline update, engine replace (delete "
        "first)",
        "  - rules: engine only: nodes-general (k)",
    ]
    same = compare.differences(offline, rules.Judgement(), offline, rules.Judgement())
    assert same == ["The offline diff and the engine agree on every change and every verdict."]


def test_the_command_judges_a_preview_with_the_stacks_acknowledgements(capsys):
    path = LIFECYCLE / "TestMultipleProtectedDeletes/1/eventstream.json"
    assert engine.main(["dev", str(path)]) == 1
    out = capsys.readouterr().out
    assert "  - resA: typA deleted: refused by protect" in out
    assert "[accept with acknowledge.deletes]" in out


def preview_step() -> dict:
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "pull-request.yml").read_text())
    job = workflow["jobs"]["preview-dev"]
    (step,) = [s for s in job["steps"] if s.get("id") == "preview"]
    return step


def test_the_pull_request_preview_is_judged_and_fails_on_what_needs_acknowledgement(tmp_path):
    """The preview step, run with a `pulumi` that prints the engine's events (here the vendored
    protected deletes): its report is the judged steps, and the step's status fails."""
    step = preview_step()
    assert step["env"] == {"PULUMI_ENABLE_STREAMING_JSON_PREVIEW": "true"}
    for entry in ROOT.iterdir():
        if entry.name not in (".git", "venv"):
            (tmp_path / entry.name).symlink_to(entry)
    (tmp_path / "venv").symlink_to(Path(sys.prefix))  # the virtualenv running these tests
    fake = tmp_path / "fake-bin"
    fake.mkdir()
    events = LIFECYCLE / "TestMultipleProtectedDeletes/1/eventstream.json"
    (fake / "pulumi").write_text(f"#!/bin/sh\ncat '{events}'\n")
    (fake / "pulumi").chmod(0o755)
    output = tmp_path / "github-output"
    result = subprocess.run(
        [shutil.which("bash") or "/bin/bash", "-e", "-c", step["run"]],
        cwd=tmp_path,
        env={
            "PATH": f"{fake}:/usr/bin:/bin",
            "STACK": "dev",
            "GITHUB_OUTPUT": str(output),
            **step["env"],
        },
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert output.read_text() == "status=1\n"
    text = (tmp_path / "preview-dev.txt").read_text()
    assert text.startswith("The engine's preview, judged by the transition rules:\n")
    assert "[accept with acknowledge.deletes]" in text
    # No offline plans were downloaded here, and the report says so.
    assert "No offline plans of base and head to compare with" in text
