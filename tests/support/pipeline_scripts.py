"""The pipeline scripts of .github/scripts run against a stand-in `aws`, and the environment a
preflight runs with."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = ROOT / ".github" / "scripts"


def fake_aws(tmp_path: Path, listing: str = "None", content: str = "{}") -> Path:
    """A stand-in `aws`: list-objects-v2 lists `listing` under a matching --prefix, s3 cp prints
    `content`, and every call is logged."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "aws"
    script.write_text(
        "#!/bin/sh\n"
        f'echo "$*" >> "{tmp_path}/aws.log"\n'
        'case "$1 $2" in\n'
        f"  '--version ') echo 'aws-cli/2.22.0 Python/3.12' ;;\n"
        f"  's3api list-objects-v2') case '{listing}' in \"$6\"*) echo '{listing}' ;;"
        " *) echo None ;; esac ;;\n"
        f"  's3 cp') echo '{content}' ;;\n"
        "esac\n"
    )
    script.chmod(0o755)
    return bin_dir


def run_script(name: str, tmp_path: Path, env: dict, *args: str) -> subprocess.CompletedProcess:
    path = f"{fake_aws(tmp_path) if 'PATH' not in env else env.pop('PATH')}:{os.environ['PATH']}"
    return subprocess.run(
        [str(SCRIPTS / name), *args],
        check=False,
        cwd=env.pop("CWD", ROOT),
        env={**os.environ, "PATH": path, **env},
        capture_output=True,
        text=True,
    )


def repo_copy(tmp_path: Path, stack_text: str) -> Path:
    repo = tmp_path / "repo"
    (repo / "stacks").mkdir(parents=True)
    (repo / "stacks" / "Pulumi.dev.yaml").write_text(stack_text)
    return repo


PREFLIGHT_ENV = {
    "STACK": "dev",
    "ROLE_VARIABLE": "AWS_PREVIEW_ROLE_ARN_DEV",
    "ROLE_ARN": "arn:aws:iam::123456789012:role/github-preview-dev",
    "AWS_REGION": "eu-west-1",
    "PULUMI_BACKEND_URL": "s3://state-bucket?region=eu-west-1",
    "PREFLIGHT_SKIP_NETWORK": "1",
    "GH_TOKEN": "",  # no ruleset check (tests/pipeline/test_preflight.py)
}
