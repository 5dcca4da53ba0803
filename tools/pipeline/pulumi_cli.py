"""Check that the `pulumi` on PATH is, byte for byte, the released CLI of .pulumi-version.

    python -m tools.pipeline.pulumi_cli

pulumi/actions downloads the CLI's tarball from get.pulumi.com and extracts it without checking
it (pulumi/actions@v7.0.0:src/libs/pulumi-cli.ts:149-175; the `checksums` URL that
src/libs/libs/get-version.ts reads is never used), and the binary then runs with the job's cloud
credentials. So this downloads the same tarball again, checks its SHA-256 against the release's
checksums file taken from the other place Pulumi publishes the release, its GitHub release, and
compares the tarball's `pulumi/pulumi` with the installed binary. Both places hold the same
files: the release workflow writes `pulumi-<version>-checksums.txt` over the
`pulumi-v<version>-<os>-<arch>` archives and copies the GitHub release's `pulumi-*` to
get.pulumi.com/releases/sdk (pulumi/pulumi@v3.259.0:.github/workflows/sign.yml:99,
release.yml:147-151, .goreleaser.yml:86,92).
A file changed in one of the two places fails here. Both are fetched over TLS; the hashes are
not pinned in this repository, so a release changed in both places at once would pass.
"""

from __future__ import annotations

import hashlib
import io
import platform
import shutil
import sys
import tarfile
import urllib.request
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ARCHITECTURES = {"x86_64": "x64", "aarch64": "arm64"}

Download = Callable[[str], bytes]


def download(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=120) as response:
        return response.read()


def archive_name(version: str, arch: str) -> str:
    return f"pulumi-v{version}-linux-{arch}.tar.gz"


def urls(version: str, arch: str) -> tuple[str, str]:
    """(the tarball where pulumi/actions gets it, the checksums file of the GitHub release)"""
    return (
        f"https://get.pulumi.com/releases/sdk/{archive_name(version, arch)}",
        f"https://github.com/pulumi/pulumi/releases/download/v{version}/"
        f"pulumi-{version}-checksums.txt",
    )


def listed_sha256(checksums: str, name: str) -> str | None:
    """The hash `sha256sum` wrote for `name` ("<hash>  <name>" lines)."""
    for line in checksums.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].lstrip("*") == name:
            return parts[0].lower()
    return None


def check(version: str, arch: str, installed: Path, get: Download = download) -> str | None:
    """None when `installed` is the release's binary; else what differs."""
    tarball_url, checksums_url = urls(version, arch)
    name = archive_name(version, arch)
    expected = listed_sha256(get(checksums_url).decode(), name)
    if expected is None:
        return f"{checksums_url} lists no {name}"
    tarball = get(tarball_url)
    actual = hashlib.sha256(tarball).hexdigest()
    if actual != expected:
        return f"{tarball_url} has SHA-256 {actual}, but the release lists {expected}"
    with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as archive:
        member = archive.extractfile("pulumi/pulumi")
        released = member.read() if member else b""
    if hashlib.sha256(released).digest() != hashlib.sha256(installed.read_bytes()).digest():
        return f"{installed} is not the pulumi binary of the v{version} release ({name})"
    return None


def main(argv: list[str] | None = None, get: Download = download) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args:
        print("usage: python -m tools.pipeline.pulumi_cli", file=sys.stderr)
        return 2
    version = (ROOT / ".pulumi-version").read_text().strip()
    arch = ARCHITECTURES.get(platform.machine())
    found = shutil.which("pulumi")
    if arch is None or found is None:
        print(f"::error::no pulumi on PATH, or a machine ({platform.machine()}) with no release")
        return 1
    installed = Path(found).resolve()
    problem = check(version, arch, installed, get)
    if problem:
        print(f"::error::The Pulumi CLI is not the released one: {problem}.")
        return 1
    print(f"{installed} is the pulumi binary of the v{version} release (SHA-256 checked).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
