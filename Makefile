# Everything runs from ./venv, the same virtualenv Pulumi.yaml points the Pulumi CLI at. Every
# package comes from a hash-locked requirements file compiled from its .in file (`make lock`),
# pip included: Pulumi.yaml's `toolchain: pip` finds the program's plugins with
# `python -m pip list` in the virtualenv, and `uv venv` creates none
# (tests/project/test_toolchain.py).
VENV ?= venv
POLICY_VENV ?= policies/venv
PYTHON ?= python3
# The interpreter of the virtualenvs: a path, a name, or a version that uv finds or installs (the
# workflows pass the version, with UV_PYTHON_PREFERENCE=only-managed, so every job runs one build).
VENV_PYTHON ?= $(PYTHON)
PY := $(VENV)/bin/python
STACK ?= dev
# uv installs without bytecode, so every process compiles what it imports (about 1 s of pulumi_aws
# alone) unless Python may cache it: a caller's PYTHONDONTWRITEBYTECODE would make that every time.
# The venv and the project's __pycache__ (git-ignored) are build output, so cache.
unexport PYTHONDONTWRITEBYTECODE

# uv installs the locked sets. A uv of the locked version on PATH is used as it is (CI puts one
# there); otherwise make installs that version, hash-checked, from requirements-uv.txt into the
# user's cache, one directory per version, so every clone after the first starts at once.
UV_VERSION := $(shell sed -n 's/^uv==\([0-9.]*\).*/\1/p' requirements-uv.txt)
UV_HOME ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/eks-config-storage/uv-$(UV_VERSION)
ifeq ($(word 2,$(shell uv --version 2>/dev/null)),$(UV_VERSION))
UV := uv
UV_DEP :=
else
UV := $(UV_HOME)/bin/uv
UV_DEP := $(UV)
endif
# Resolve for every platform and for the oldest supported Python, so one lock serves all.
COMPILE := $(UV) pip compile --quiet --generate-hashes --universal --python-version 3.11

.PHONY: plan test lint bench setup runtime policy-venv lock

setup: $(VENV)/.installed

# The uv wheel is a self-contained binary: pip puts it in bin/ without a virtualenv when the
# interpreter has pip (3 s instead of 6 s here); otherwise a small virtualenv holds it. The
# directory is named by the version, so the lock file's date (a clone's) does not matter.
$(UV_HOME)/bin/uv: | requirements-uv.txt
	rm -rf $(UV_HOME)
	if $(PYTHON) -m pip --version >/dev/null 2>&1; then \
	    $(PYTHON) -m pip install --quiet --disable-pip-version-check --no-deps \
	        --target $(UV_HOME) --require-hashes -r requirements-uv.txt; \
	else \
	    $(PYTHON) -m venv $(UV_HOME) && $(UV_HOME)/bin/python -m pip install --quiet \
	        --disable-pip-version-check --require-hashes -r requirements-uv.txt; \
	fi
	touch $@

# `uv pip sync` installs exactly the lock (removing anything else) and checks every hash.
$(VENV)/.installed: requirements-dev.txt $(UV_DEP)
	$(UV) venv --quiet --allow-existing --python $(VENV_PYTHON) $(VENV)
	$(UV) pip sync --quiet --require-hashes --python $(PY) requirements-dev.txt
	rm -f $(VENV)/.runtime
	touch $@

# What the jobs that hold credentials install: the runtime set alone, no test tools beside the token.
runtime: $(VENV)/.runtime

$(VENV)/.runtime: requirements.txt $(UV_DEP)
	$(UV) venv --quiet --allow-existing --python $(VENV_PYTHON) $(VENV)
	$(UV) pip sync --quiet --require-hashes --python $(PY) requirements.txt
	rm -f $(VENV)/.installed
	touch $@

# The policy pack's own virtualenv (policies/PulumiPolicy.yaml: virtualenv venv). With a local
# --policy-pack the CLI installs nothing into it (pulumi/pulumi@v3.259.0: InstallPluginDependencies
# runs only from `pulumi install`, `policy new` and `package new`). POLICY_VENV builds it elsewhere
# (tests/project/test_toolchain.py builds all three virtualenvs in a temporary directory).
policy-venv: $(POLICY_VENV)/.installed

$(POLICY_VENV)/.installed: policies/requirements.txt $(UV_DEP)
	$(UV) venv --quiet --allow-existing --python $(VENV_PYTHON) $(POLICY_VENV)
	$(UV) pip sync --quiet --require-hashes --python $(POLICY_VENV)/bin/python policies/requirements.txt
	touch $@

plan: setup  ## offline plan of STACK (default dev): no cloud, no credentials
	$(PY) -m tools.plan $(STACK)

test: setup  ## the whole test suite (what CI runs), on both cores; idle workers take queued tests
	$(PY) -m pytest -n 2 --dist worksteal

lint: setup
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

bench: setup  ## offline plan against the import floor, plan time as apps grow, set-up time
	$(PY) benchmarks/plan_vs_import.py
	$(PY) benchmarks/apps_scale.py
	$(PY) benchmarks/setup_time.py

# Recompile the locks after editing a .in file. The dev set is resolved first and constrains the
# runtime and policy sets, so a package has one version in all three. Existing pins are kept
# unless UPGRADE=--upgrade.
lock: $(UV_DEP)
	$(COMPILE) $(UPGRADE) requirements-dev.in -o requirements-dev.txt
	$(COMPILE) $(UPGRADE) -c requirements-dev.txt requirements.in -o requirements.txt
	$(COMPILE) $(UPGRADE) -c requirements-dev.txt policies/requirements.in -o policies/requirements.txt
	$(COMPILE) $(UPGRADE) requirements-uv.in -o requirements-uv.txt
