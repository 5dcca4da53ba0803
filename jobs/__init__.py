"""The scripts the stack's CronJobs run, and how each becomes the one text its ConfigMap carries.

A job is a POSIX sh script that calls kubectl, in the image ``snapshots.jobImage`` names
(docs/decisions/jobs-in-shell.md). Its pod runs one ConfigMap key, so each script ships as one
self-contained text: the helpers the scripts share live once in ``lib.sh``, and a script names
those it uses on a line ``# from lib.sh: NAME...``, which the build replaces with their
definitions. The built text is what the ConfigMap holds and what the tests run; a helper that a
script uses but does not name is missing there, and the tests see the failure.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

HERE = Path(__file__).resolve().parent
LIBRARY = "lib.sh"
MARK = "# from lib.sh:"
SCRIPTS = (
    "escrow_check.sh",
    "restore_drill.sh",
    "snapshot_rotate.sh",
    "storage_policy_reconcile.sh",
)
_DEFINITION = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\(\) \{$", re.M)


def helpers(library: str) -> dict[str, str]:
    """Each function of ``library`` by name: its paragraph (lines between blank lines) without
    the comment lines that open it. A paragraph of comments alone is the library's own prose."""
    found: dict[str, str] = {}
    for paragraph in re.split(r"\n\s*\n", library):
        lines = paragraph.strip("\n").splitlines()
        while lines and lines[0].startswith("#"):
            lines.pop(0)
        if not lines:
            continue
        text = "\n".join(lines) + "\n"
        names = _DEFINITION.findall(text)
        if len(names) != 1:
            raise ValueError(f"{LIBRARY}: a paragraph must define one function, not {names}")
        if names[0] in found:
            raise ValueError(f"{LIBRARY}: {names[0]} is defined twice")
        found[names[0]] = text
    return found


def build(source: str, library: Mapping[str, str]) -> str:
    """``source`` with each ``# from lib.sh: NAME...`` line replaced by those helpers, in that
    order, a blank line apart; every other line as it is."""
    out = []
    for line in source.splitlines(keepends=True):
        if not line.startswith(MARK):
            out.append(line)
            continue
        names = line[len(MARK) :].split()
        unknown = [n for n in names if n not in library]
        if not names or unknown:
            raise ValueError(f"{line.strip()!r}: {LIBRARY} has no {unknown or 'names'}")
        out.append("\n".join(library[n] for n in names))
    return "".join(out)


def script(name: str) -> str:
    """The text the job ``name`` (a file of this folder) runs."""
    if name not in SCRIPTS:
        raise ValueError(f"{name} is not a job script: {', '.join(SCRIPTS)}")
    return build((HERE / name).read_text(), helpers((HERE / LIBRARY).read_text()))


def write(directory: Path) -> list[Path]:
    """Every built script into ``directory``, as a pod would see it (for shellcheck and tests)."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for name in SCRIPTS:
        path = directory / name
        path.write_text(script(name))
        paths.append(path)
    return paths
