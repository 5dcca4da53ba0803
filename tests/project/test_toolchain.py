"""The seam between the Pulumi CLI and the virtualenvs make builds.

Pulumi.yaml (and policies/PulumiPolicy.yaml) say `toolchain: pip`, `virtualenv: venv`. The CLI's
Python language host then runs a fixed set of commands in that virtualenv before and around the
program; a virtualenv uv built without pip fails the first of them, and so every preview and
update (pulumi/pulumi#22072 dropped the SDK's pip dependency in 3.226.0). These tests build the
virtualenvs exactly as `make runtime`, `make setup` and `make policy-venv` do and replay those
commands as the language host runs them.

Source: pulumi/pulumi@v3.259.0 (the newest tag available here; the pinned CLI is
.pulumi-version, 3.272.0). Unchanged at the newer HEAD 1b59498 (sdk/.version 3.260.0) but for lint
comments. Files, relative to sdk/python/:
  - toolchain/toolchain.go:140-170 ResolveToolchain (`toolchain: pip` is newPip(root, venv));
    :176-207 ActivateVirtualEnv (PATH gets <venv>/bin first, VIRTUAL_ENV set, PYTHONHOME
    dropped); :285-297 getPythonExecutablePath; :341-358 getPythonVersion;
    :366-368 normalizePythonPackageName (PEP 503).
  - toolchain/pip.go:146-176 ListPackages (`python -m pip list --format json`, plus
    `--not-required` when not transitive); :178-198 Command/ModuleCommand (<venv>/bin/python);
    :200-239 About (python --version, sys.executable, `pip --version`); :241-246 ValidateVenv
    and :248-286 EnsureVenv (both only need <venv>/bin/python, IsVirtualEnv :292-302).
  - cmd/pulumi-language-python/main.go:326-368 GetRequiredPackages (EnsureVenv, validateVersion,
    listPulumiPackageInfos); :549-552 packagesWithoutPlugins; :557-569 the pulumi-plugin.json
    locator script; :571-598 readAllPulumiPluginJSONPaths; :608-650 listPulumiPackageInfos;
    :658-727 packageDependencyFromPluginJSON; :1273-1309 validateVersion; :1046 Run's
    ValidateVenv; :1453-1485 About; :1487-1515 GetProgramDependencies.
InstallDependencies (pip.go:61-72, toolchain.go:444-559) runs only from `pulumi install` and
on a missing virtualenv (EnsureVenv); make builds the virtualenvs, so CI never reaches it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from functools import cache
from pathlib import Path

import pytest
import yaml
from packaging.markers import Marker

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"

# main.go:557-569, verbatim (the Go raw string uses a tab for each indent).
PLUGIN_JSON_PATHS_SCRIPT = "\n".join(
    [
        "import importlib.metadata, importlib.util, os, sys, json",
        "result = {}",
        "for pkg_name in sys.argv[1:]:",
        "\ttry:",
        "\t\tdist = importlib.metadata.distribution(pkg_name)",
        "\t\tmodule = dist.metadata['Name'].replace('-', '_')",
        "\t\tspec = importlib.util.find_spec(module)",
        "\t\tlocs = list(spec.submodule_search_locations or []) if spec else []",
        "\t\tfound = [p for l in locs for p in [os.path.join(str(l), 'pulumi-plugin.json')]"
        " if os.path.isfile(p)]",
        "\t\tresult[pkg_name] = found[0] if found else ''",
        "\texcept Exception:",
        "\t\tresult[pkg_name] = ''",
        "print(json.dumps(result))",
    ]
)
# main.go:549-552
PACKAGES_WITHOUT_PLUGINS = {"pulumi-policy", "pulumi-esc-sdk"}


def normalized(name: str) -> str:
    """toolchain.go:366-368."""
    return re.sub(r"[-_.]+", "-", name.lower())


def locked(requirements: str) -> dict[str, str]:
    """Exact versions of a hash-locked requirements file, by normalized name, for this
    interpreter: a universal lock may pin one package twice under exclusive markers
    (`soupsieve==2.10 ; python_full_version < '3.11.5'`), and only the matching line installs."""
    text = (ROOT / requirements).read_text()
    pins = {}
    for name, version, marker in re.findall(
        r"^([A-Za-z0-9_.-]+)==([^\s;]+)(?: ; ([^\\\n]*?))? \\$", text, re.M
    ):
        if not marker or Marker(marker).evaluate():
            pins[normalized(name)] = version
    return pins


def activated(venv: Path) -> dict[str, str]:
    """toolchain.go:176-207: the environment every command of the pip toolchain runs with."""
    env = {k: v for k, v in os.environ.items() if k.upper() not in ("PYTHONHOME", "VIRTUAL_ENV")}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["VIRTUAL_ENV"] = str(venv)
    return env


@cache
def host_runs(venv: Path, *args: str) -> str:
    """pip.go:178-198: `<venv>/bin/python <args>`, in the project root; fails as the host does
    (cmd.Output() with a non-zero exit is an error). The virtualenvs do not change during the
    module, so each command runs once."""
    result = subprocess.run(
        [str(venv / "bin" / "python"), *args],
        cwd=ROOT,
        env=activated(venv),
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, f"`{' '.join(result.args)}` failed: {result.stderr}"
    return result.stdout


@pytest.fixture(scope="module")
def venvs(tmp_path_factory) -> dict[str, Path]:
    """The three virtualenvs, built by the Makefile targets the workflows and the manual run."""
    base = tmp_path_factory.mktemp("venvs")
    built = {"runtime": base / "runtime", "setup": base / "dev", "policy-venv": base / "policy"}
    for target, path in built.items():
        variable = "POLICY_VENV" if target == "policy-venv" else "VENV"
        subprocess.run(
            ["make", "-s", "-C", str(ROOT), target, f"{variable}={path}"],
            check=True,
            capture_output=True,
        )
    return built


def required_packages(venv: Path) -> dict[str, dict]:
    """GetRequiredPackages (main.go:326-368) replayed: the packages the CLI would load plugins
    for, with the name and version it would ask for."""
    assert (venv / "bin" / "python").is_file()  # ValidateVenv / EnsureVenv (pip.go:241-302)
    version = host_runs(venv, "--version")  # validateVersion (main.go:1273-1309)
    assert re.fullmatch(r"Python 3\.1[1-9]\.\d+\s*", version), version
    listing = json.loads(host_runs(venv, "-m", "pip", "list", "--format", "json"))
    packages = {normalized(p["name"]): p["version"] for p in listing}
    paths = json.loads(host_runs(venv, "-c", PLUGIN_JSON_PATHS_SCRIPT, *packages))
    assert set(paths) == set(packages)
    required = {}
    for name, package_version in packages.items():
        if name in PACKAGES_WITHOUT_PLUGINS:
            continue
        plugin = json.loads(Path(paths[name]).read_text()) if paths[name] else None
        if plugin is None and not name.startswith("pulumi-"):
            continue
        if plugin is not None and not plugin.get("resource"):
            continue  # main.go:667-670: no plugin behind this package
        version = (plugin or {}).get("version") or package_version
        required[name] = {  # main.go:689-720: the plugin's name and v-prefixed version
            "package": package_version,
            "plugin": (plugin or {}).get("name") or name.removeprefix("pulumi-"),
            "version": version if version.startswith("v") else f"v{version}",
        }
    return required


@pytest.mark.parametrize(
    ("target", "lock"), [("runtime", "requirements.txt"), ("setup", "requirements-dev.txt")]
)
def test_the_cli_finds_the_programs_plugins_at_the_locked_versions(venvs, target, lock):
    pins = locked(lock)
    assert required_packages(venvs[target]) == {
        "pulumi-aws": {
            "package": pins["pulumi-aws"],
            "plugin": "aws",
            "version": f"v{pins['pulumi-aws']}",
        },
        "pulumi-kubernetes": {
            "package": pins["pulumi-kubernetes"],
            "plugin": "kubernetes",
            "version": f"v{pins['pulumi-kubernetes']}",
        },
    }


@pytest.mark.parametrize(
    ("target", "lock", "expected"),
    [
        ("runtime", "requirements.txt", {"pulumi", "pulumi-aws", "pulumi-kubernetes", "pip"}),
        ("setup", "requirements-dev.txt", {"pulumi", "pulumi-aws", "pulumi-kubernetes", "pip"}),
        ("policy-venv", "policies/requirements.txt", {"pulumi", "pulumi-policy", "pip"}),
    ],
)
def test_pip_list_answers_json_with_exactly_the_lock(venvs, target, lock, expected):
    """ListPackages (pip.go:146-176), transitive as GetRequiredPackages asks and direct-only as
    `pulumi about` asks (GetProgramDependencies), and About's `pip --version` (pip.go:593-604)."""
    venv = venvs[target]
    listing = json.loads(host_runs(venv, "-m", "pip", "list", "--format", "json"))
    installed = {normalized(p["name"]): p["version"] for p in listing}
    pins = locked(lock)
    # `uv pip sync` installs the lock (for this platform) and nothing else.
    assert installed.items() <= pins.items()
    assert {name: installed.get(name) for name in expected} == {n: pins[n] for n in expected}
    direct = json.loads(host_runs(venv, "-m", "pip", "list", "--format", "json", "--not-required"))
    assert {normalized(p["name"]) for p in direct} <= set(installed)
    assert re.match(r"pip \d+\.\d+", host_runs(venv, "-m", "pip", "--version"))
    executable = host_runs(venv, "-c", "import sys; print(sys.executable)").strip()
    assert Path(executable).parent == venv / "bin"


def test_the_policy_venv_needs_no_plugin_and_runs_the_policy_module(venvs):
    """RunPlugin (main.go:1566-1623) starts `python -u -m pulumi.policy` in the pack's venv;
    pulumi-policy is in packagesWithoutPlugins, so no plugin is asked for."""
    venv = venvs["policy-venv"]
    assert required_packages(venv) == {}
    host_runs(venv, "-c", "import pulumi.run.plugin, pulumi.policy")


# -- the declared toolchain and the install method agree ---------------------------------------


def runtime_options(path: Path) -> dict:
    return yaml.safe_load(path.read_text())["runtime"]["options"]


def make_default(variable: str) -> str:
    match = re.search(rf"^{variable} \?= (\S+)$", (ROOT / "Makefile").read_text(), re.M)
    assert match, variable
    return match.group(1)


@pytest.mark.parametrize(
    ("project", "variable", "locks"),
    [
        ("Pulumi.yaml", "VENV", ["requirements.txt", "requirements-dev.txt"]),
        ("policies/PulumiPolicy.yaml", "POLICY_VENV", ["policies/requirements.txt"]),
    ],
)
def test_the_declared_toolchain_is_the_one_make_installs_for(project, variable, locks):
    """`toolchain: pip` lists packages with the virtualenv's own pip, so every lock installed
    into a virtualenv the CLI uses holds pip (hash-pinned like everything else), and the
    virtualenv is where make puts it. The uv toolchain would instead read uv.lock and run
    `uv sync --inexact` before every Python process (uv.go:301-316, 346-382): a second lock
    and installs at run time in credentialed jobs."""
    options = runtime_options(ROOT / project)
    assert options["toolchain"] == "pip"
    default = make_default(variable)
    assert (ROOT / project).parent / options["virtualenv"] == ROOT / default
    makefile = (ROOT / "Makefile").read_text()
    for lock in locks:
        text = (ROOT / lock).read_text()
        assert re.search(r"^pip==\S+ \\\n    --hash=sha256:", text, re.M), lock
        assert f"pip sync --quiet --require-hashes --python $(PY) {lock}" in makefile or (
            f"--python $({variable})/bin/python {lock}" in makefile
        ), lock
    assert "uv.lock" not in {p.name for p in ROOT.iterdir()}  # would switch auto-detection


def test_every_job_that_runs_the_cli_installs_with_make():
    """The venvs the CLI uses come from the Makefile only: a job that ran `uv venv`/`uv pip`
    itself for them could leave pip out again."""
    for workflow in sorted(WORKFLOWS.glob("*.yml")):
        for job_id, job in yaml.safe_load(workflow.read_text())["jobs"].items():
            job_steps = job.get("steps", [])
            if not any("pulumi/actions" in step.get("uses", "") for step in job_steps):
                continue
            runs = [step.get("run", "") for step in job_steps]
            assert "make runtime policy-venv" in runs, (workflow.name, job_id)
            assert not any(re.search(r"\buv (venv|pip)\b", run) for run in runs), job_id


def test_every_module_a_runtime_job_runs_imports_in_the_runtime_venv(venvs):
    """Credentialed jobs install the runtime lock alone (`make runtime`): a tool they run that
    imports a test-only package (jsonschema before it joined requirements.in) would fail there,
    after the credentials, on the first real run."""
    modules = set()
    for workflow in sorted(WORKFLOWS.glob("*.yml")):
        for job in yaml.safe_load(workflow.read_text())["jobs"].values():
            runs = [step.get("run", "") for step in job.get("steps", [])]
            if not any(re.search(r"\bmake runtime\b", run) for run in runs):
                continue
            for run in runs:
                modules |= set(re.findall(r"venv/bin/python -m ([\w.]+)", run))
    for script in (ROOT / ".github" / "scripts").glob("*.sh"):  # what those jobs' steps call
        modules |= set(re.findall(r"venv/bin/python -m ([\w.]+)", script.read_text()))
    assert {"tools.addon_config", "tools.plan", "tools.transitions.engine"} <= modules
    code = "import importlib, sys\nfor m in sys.argv[1:]: importlib.import_module(m)"
    done = subprocess.run(
        [str(venvs["runtime"] / "bin" / "python"), "-c", code, *sorted(modules)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
