"""Entry point of the CrossGuard pack: builds it (which serves it to the Pulumi engine)."""

import sys
from pathlib import Path

# The rules share design/ with the program (one implementation of each naming and IAM rule);
# the CLI runs this file from inside policies/, so put the project root on the path.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from policies.pack import build_pack

build_pack()
