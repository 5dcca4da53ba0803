"""``python -m jobs DIR``: the built job scripts into DIR, as the pods get them (CI shellchecks
them there)."""

import sys
from pathlib import Path

from jobs import write

if len(sys.argv) != 2:
    sys.exit("usage: python -m jobs DIR")
for path in write(Path(sys.argv[1])):
    print(path)
