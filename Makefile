# Two commands do all set-up on a fresh machine (see README):
#   make run   - the embedded demo on http://127.0.0.1:8050
#   make test  - the whole test suite (installs what the tests need, starts PostgreSQL and Redis)
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test unit lint bench system-deps services clean

run: $(STAMP)
	$(PY) run.py

test: system-deps $(STAMP) services
	$(PY) -m pytest -q

unit: $(STAMP)
	$(PY) -m pytest -q tests/unit

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

bench: $(STAMP) services
	$(PY) -m bench

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[test]'
	touch $(STAMP)

system-deps:
	bash scripts/system-deps.sh

services:
	bash scripts/services.sh

clean:
	rm -rf $(VENV) var .pytest_cache
