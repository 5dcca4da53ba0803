# Everything runs from ./venv, the same virtualenv Pulumi.yaml points the Pulumi CLI at.
VENV ?= venv
PYTHON ?= python3
PY := $(VENV)/bin/python
STACK ?= dev

.PHONY: plan test lint bench setup

setup: $(VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

plan: setup  ## offline plan of STACK (default dev): no cloud, no credentials
	$(PY) -m tools.plan $(STACK)

test: setup  ## the whole test suite (what CI runs)
	$(PY) -m pytest

lint: setup
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

bench: setup  ## offline plan against the import floor, and plan time as apps grow
	$(PY) benchmarks/plan_vs_import.py
	$(PY) benchmarks/apps_scale.py
