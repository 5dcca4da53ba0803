"""How container images the program deploys are pinned (rule R8).

A tag can be moved to other bytes by whoever controls the registry; a digest cannot. Outside
production a version tag is enough to make every upgrade a reviewed diff; in production the
image is pinned by digest (``name:tag@sha256:...``), as checkov's CKV_K8S_43 asks, so what runs
is exactly what was reviewed.
"""

from __future__ import annotations

import re

DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")

# The images the program deploys by default, each with the digest it is tested and shipped with
# (stacks/Pulumi.prod.yaml deploys exactly these; tests/config/test_config_mistakes.py keeps the
# three in step).
# Each digest is the registry's manifest-list digest of the tag, what `crane digest <image>` or
# `docker buildx imagetools inspect <image>` prints: pinning it keeps every architecture.
TESTED = {
    "docker.io/alpine/k8s:1.34.1": (
        "sha256:ec714df3813b5405292860f8a1c55c5727bf8c33c88992f1e981efad8065547f"
    ),
    "docker.io/velero/velero-plugin-for-aws:v1.14.2": (
        "sha256:0751144c1c8e52d52c48717fbd13ad5a3061e612ae4d7ad744a946cd5b139d1a"
    ),
}


def pinned(image: str) -> str | None:
    """``image`` pinned by its tested digest, if it is one of the tested images."""
    digest = TESTED.get(image)
    return f"{image}@{digest}" if digest else None


def image_pin_problem(image: str, *, production: bool) -> str | None:
    """Why ``image`` is not pinned well enough for the environment, or None."""
    if DIGEST.search(image):
        return None
    if production:
        if tested := pinned(image):
            how = f"write {tested!r} (the digest it is tested with, design/images.py)"
        else:
            how = "get its digest with `crane digest <image>` and write name:tag@sha256:<digest>"
        return f"image {image!r} must be pinned by digest in production: {how}"
    tail = image.rsplit("/", 1)[-1]
    if ":" not in tail or tail.endswith(":latest"):
        return f"image {image!r} must be pinned by a version tag or a digest, never latest"
    return None
