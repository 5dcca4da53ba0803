"""The preview's report: one Markdown text for the pull-request comment and the job summary.

    python -m tools.pipeline.report STACK OUTPUT_FILE EXIT_STATUS > report.md

It is written whatever happened (`if: always()`), so a failed preview replaces the comment of the
last good one instead of leaving it standing: an empty EXIT_STATUS means the preview never ran.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

# "GitHub limits PR comment characters to 65_535" (pulumi/actions@v7.0.0:src/libs/pr.ts:72); the
# rest of the report needs a little room.
OUTPUT_BUDGET = 60_000
HEAD = 20_000


def marker(stack: str) -> str:
    """The hidden line by which the comment job finds the comment of this stack to replace."""
    return f"<!-- eks-config-storage:preview:{stack} -->"


def shorten(text: str, budget: int = OUTPUT_BUDGET) -> str:
    """Keep the start (the diff) and the end (the errors and the summary) of a long output."""
    if len(text) <= budget:
        return text
    cut = len(text) - budget
    return (
        f"{text[:HEAD]}\n... {cut} characters left out; the job log has them all ...\n"
        + (text[len(text) - (budget - HEAD) :])
    )


def fenced(text: str) -> str:
    """A code block whose fence no backtick run in the text can close."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}text\n{text}\n{fence}"


def report(stack: str, output: str | None, status: str, run_url: str, sha: str) -> str:
    if not status:
        verdict = "did not run"
        detail = "A step before the preview failed; the job log says which and why."
    elif status == "0":
        verdict, detail = "passed", ""
    else:
        verdict = "FAILED"
        detail = (
            f"The preview exited {status}: a configuration or provider error, a mandatory rule was"
            " violated, or a transition needs acknowledgement (the judged steps say which)."
        )
    lines = [
        marker(stack),
        f"### Preview of `{stack}`: {verdict}",
        "",
        f"Commit `{sha[:12]}`, run {run_url}.",
        "`pulumi preview --json` against the stack's state, with the policy pack, as the read-only",
        "preview role (no refresh: the deploy workflow's preview shows drift before it applies);",
        "the engine's steps judged by the transition rules and compared with the offline diff.",
    ]
    if detail:
        lines += ["", detail]
    if output is not None:
        lines += [
            "",
            "<details><summary>Output</summary>",
            "",
            fenced(shorten(output)),
            "</details>",
        ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 3:
        print(
            "usage: python -m tools.pipeline.report STACK OUTPUT_FILE EXIT_STATUS", file=sys.stderr
        )
        return 2
    stack, output_file, status = args
    path = Path(output_file)
    output = path.read_text(errors="replace") if path.exists() else None
    server = os.environ.get("GITHUB_SERVER_URL", "https://github.com")
    run_url = f"{server}/{os.environ.get('GITHUB_REPOSITORY', '')}/actions/runs/" + os.environ.get(
        "GITHUB_RUN_ID", ""
    )
    print(report(stack, output, status.strip(), run_url, os.environ.get("GITHUB_SHA", "")), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
