"""How container images the program deploys are pinned (rule R8).

A tag can be moved to other bytes by whoever controls the registry; a digest cannot. Outside
production a version tag is enough to make every upgrade a reviewed diff; in production the
image is pinned by digest (``name:tag@sha256:...``), as checkov's CKV_K8S_43 asks, so what runs
is exactly what was reviewed.
"""

from __future__ import annotations

import re

DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")


def image_pin_problem(image: str, *, production: bool) -> str | None:
    """Why ``image`` is not pinned well enough for the environment, or None."""
    if DIGEST.search(image):
        return None
    if production:
        return f"image {image!r} must be pinned by digest in production (name:tag@sha256:...)"
    tail = image.rsplit("/", 1)[-1]
    if ":" not in tail or tail.endswith(":latest"):
        return f"image {image!r} must be pinned by a version tag or a digest, never latest"
    return None
