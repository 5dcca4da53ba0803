"""The manual: the generated configuration reference is current, and every page renders as
GitHub renders it (tables are tables, relative links and anchors resolve)."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest
import yaml
from markdown_it import MarkdownIt
from pydantic import BaseModel, Field

from config.schema import StackConfig
from config.schema.base import Model
from tests.support.docs_pages import PAGES, page_id
from tools import config_reference as ref
from tools import plan as plan_cli

ROOT = Path(__file__).resolve().parents[2]
# CommonMark plus GFM's tables: what GitHub renders a repository's Markdown with.
MD = MarkdownIt("commonmark").enable("table")
TABLE_ROW = re.compile(r"^\s*\|.*\|\s*$")


# ------------------------------------------------------------------ configuration reference


def test_the_configuration_reference_is_generated_from_the_current_schema():
    page = ref.PAGE.read_text()
    assert ref.render(page) == page, f"docs/configuration.md is stale: run `{ref.COMMAND}`"


def test_the_reference_lists_every_key_once_with_a_description():
    keys = [row.key for row in ref.rows(StackConfig)]
    assert len(keys) == len(set(keys))
    undocumented = [row.key for row in ref.rows(StackConfig) if not row.description]
    assert not undocumented, "add a docstring under each field in config/schema/"
    assert set(ref.DERIVED_DEFAULTS) <= set(keys)


def test_an_objects_keys_stay_together():
    """Depth first: every key under ``x`` comes right after ``x`` (the old hand-written table put
    ``acknowledge`` between two ``sealedSecrets`` keys)."""
    keys = [row.key for row in ref.rows(StackConfig)]
    for i, key in enumerate(keys):
        inside = [j for j, other in enumerate(keys) if other.startswith(f"{key}.")]
        assert inside == list(range(i + 1, i + 1 + len(inside))), key


class _Inner(Model):
    depth: int = 3
    """How deep."""


class _Outer(Model):
    name: str
    """The name."""
    mode: str | None = None
    """Optional."""
    inner: list[_Inner] = Field(default_factory=list)
    """Each entry:"""


class _Extended(_Inner):
    extra: bool = True
    """Only here."""


class _Both(Model):
    inner: _Inner = _Inner()
    """An inner."""
    extended: _Extended = _Extended()
    """Inner plus."""


def test_rows_carry_path_type_default_constraints_and_docstring():
    rows = ref.rows(_Outer)
    assert [(r.key, r.type, r.default, r.description) for r in rows] == [
        ("name", "string", "required", "The name."),
        ("mode", "string", "unset", "Optional."),
        ("inner[]", "object[]", "`[]`", "Each entry:"),
        ("inner[].depth", "integer", "`3`", "How deep."),
    ]


def test_a_model_extending_a_documented_one_lists_only_its_own_keys():
    assert [r.key for r in ref.rows(_Both)] == [
        "inner",
        "inner.depth",
        "extended",
        "extended.extra",
    ]


def test_allowed_values_and_cells():
    fields = StackConfig.model_fields
    assert ref.allowed_values(fields["log_retention_days"]).startswith("`1`, `3`, `5`")
    assert ref.allowed_values(fields["environment"]) == "at most 20 characters"
    assert ref.allowed_values(fields["node_groups"]) == "at least 1 entry"
    rows = {r.key: r for r in ref.rows(StackConfig)}
    assert rows["kms.deletionWindowDays"].allowed == "7 to 30"
    assert rows["acknowledge.reason"].allowed == "10 to 500 characters"
    assert "`kubernetesVersion`" in rows["acknowledge.settings"].allowed
    assert rows["storage.classes[]"].default == "`[{backing: gp3, access: rwo, default: true}]`"
    assert (
        ref.table([ref.Row("a", "string", "`x|y`", "", "")])[-1]
        == "| `a` | string | `x\\|y` | - | - |"
    )


def test_render_replaces_only_between_the_markers():
    page = f"intro\n{ref.BEGIN}\nold\n{ref.END}\noutro\n"
    fresh = ref.render(page, _Outer)
    assert fresh.startswith(f"intro\n{ref.BEGIN}\nSections: [Top-level settings]")
    assert "\n### `inner[]`\n" in fresh and "(#inner)" in fresh
    assert fresh.endswith(f"\n\n{ref.END}\noutro\n") and "old" not in fresh
    assert ref.render(fresh, _Outer) == fresh
    with pytest.raises(ValueError, match="markers"):
        ref.render("no markers", _Outer)


def test_check_mode_reports_a_stale_page(tmp_path, monkeypatch, capsys):
    page = tmp_path / "configuration.md"
    page.write_text(f"{ref.BEGIN}\nstale\n{ref.END}\n")
    monkeypatch.setattr(ref, "PAGE", page)
    monkeypatch.setattr(ref, "ROOT", tmp_path)
    assert ref.main(["--check"]) == 1
    assert ref.COMMAND in capsys.readouterr().err
    assert ref.main([]) == 0 and ref.main(["--check"]) == 0


# ------------------------------------------------------------------ Markdown as GitHub renders it


def stray_table_rows(text: str) -> list[int]:
    """1-based numbers of lines that look like table rows but render as something else."""
    tokens = MD.parse(text)
    covered: set[int] = set()
    for token in tokens:
        if token.map and token.type in ("table_open", "fence", "code_block", "html_block"):
            covered.update(range(*token.map))
    return [
        n + 1
        for n, line in enumerate(text.splitlines())
        if TABLE_ROW.match(line) and n not in covered
    ]


def test_the_table_check_finds_a_table_broken_by_a_blank_line():
    broken = "| a | b |\n|---|---|\n| 1 | 2 |\n\n| 3 | 4 |\n"
    assert stray_table_rows(broken) == [5]
    assert stray_table_rows("```\n| not | a table |\n```\n") == []


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_every_table_row_renders_inside_a_table(page):
    assert stray_table_rows(page.read_text()) == []


def slug(heading: str) -> str:
    """GitHub's heading anchor: lower case, punctuation dropped, spaces become hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(text: str) -> set[str]:
    found: dict[str, int] = {}
    tokens = MD.parse(text)
    for opening, inline in itertools.pairwise(tokens):
        if opening.type == "heading_open":
            plain = "".join(c.content for c in inline.children or [] if c.type != "softbreak")
            base = slug(plain)
            count = found.get(base, 0)
            found[base] = count + 1
            found[f"{base}-{count}" if count else base] = 1
    return set(found)


def links(text: str) -> list[str]:
    return [
        child.attrGet("href")
        for token in MD.parse(text)
        if token.type == "inline"
        for child in token.children or []
        if child.type == "link_open"
    ]


def test_the_anchor_rules_follow_github():
    text = "# Backups and restores\n## `storage`\n## Retire a class\n## Retire a class\n"
    assert anchors(text) == {
        "backups-and-restores",
        "storage",
        "retire-a-class",
        "retire-a-class-1",
    }


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_relative_links_point_at_files_and_headings_that_exist(page):
    broken = []
    for href in links(page.read_text()):
        if re.match(r"^[a-z]+:", href):
            continue
        path, _, anchor = href.partition("#")
        target = (page.parent / path).resolve() if path else page
        missing = not target.exists()
        if missing or (
            anchor and target.suffix == ".md" and anchor not in anchors(target.read_text())
        ):
            broken.append(href)
    assert broken == []


def test_models_document_themselves():
    """Every schema model takes field docstrings as descriptions (the reference depends on it)."""
    assert issubclass(StackConfig, BaseModel)
    assert Model.model_config.get("use_attribute_docstrings") is True


# ------------------------------------------------------------------ the README is the front door


README = ROOT / "README.md"


def fenced(text: str, language: str) -> list[str]:
    return [t.content for t in MD.parse(text) if t.type == "fence" and t.info == language]


def test_the_readme_is_a_front_door():
    text = README.read_text()
    assert len(text.splitlines()) <= 250
    first = fenced(text, "sh")[0].splitlines()
    # .ci/run calls `make test`; a newcomer's first two commands are the ones CI runs.
    assert [line.split("#")[0].strip() for line in first[:2]] == ["make plan", "make test"]


def test_the_readme_example_stack_plans_clean(tmp_path, capsys):
    (block,) = [b for b in fenced(README.read_text(), "yaml") if "\nconfig:\n" in b]
    stack = yaml.safe_load(block)["config"]
    assert stack["aws:region"]
    assert all(":iam::123456789012:" in arn for arn in stack["eks-config-storage:adminRoleArns"])
    path = tmp_path / "Pulumi.staging.yaml"
    path.write_text(block)
    assert plan_cli.main(["staging", "--stack-file", str(path)]) == 0
    out = capsys.readouterr().out
    rules = out.split("Design rules (environment=staging", 1)[1].split("\n\n", 1)[0]
    verdicts = [line.split()[0] for line in rules.splitlines()[1:]]
    assert verdicts and set(verdicts) == {"PASS"}
    # The comment on the classes names what the stack derives.
    assert "gp3-ssd-staging-rwo" in out and "efs-elastic-staging-rwx" in out


def test_no_test_reads_a_readme_table():
    """Facts tests read live in data files; the README only shows them."""
    for test in sorted((ROOT / "tests").rglob("test_*.py")):
        if test.name != Path(__file__).name:
            assert '"README.md"' not in test.read_text(), test.name
