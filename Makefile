# Two commands do all set-up on a fresh machine (see README):
#   make run   - the embedded demo on http://127.0.0.1:8050 (installs only what the demo needs)
#   make test  - the whole test suite (installs what the tests need, starts PostgreSQL and Redis)
#                on today's date, then the date-sensitive part of it with every process's
#                calendar clock moved past the working calendar's last year (scripts/on-date.sh);
#                docs/testing.md
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip --quiet --disable-pip-version-check
RUN_STAMP := $(VENV)/.installed-run
TEST_STAMP := $(VENV)/.installed-test
# The date the second run of `make test` pretends it is (a Monday morning in Shanghai, in a
# year the holiday data does not cover). Any date must pass: FUTURE_DATE=... make test-future
FUTURE_DATE ?= 2027-01-04 01:30:00 UTC
# The second run, on the moved date: the pure rules (tests/unit, without the source checks, which
# read no clock) and the integration tests whose subject is a date rule or whose server runs on
# the machine's clock — the remote simulator, the demo's opening, the watchers, the scheduler's
# processes, the trends' periods, the residents' deadlines (docs/testing.md says why not all:
# the whole suite twice is over the 15-minute budget on 2 cores). Of the CLI's tests, those that
# read no clock stay out: check-config (the file's validation) and the busy-port refusal (before
# anything is read).
FUTURE_TESTS ?= tests/unit --ignore=tests/unit/test_lint.py --ignore=tests/unit/test_layers.py \
	--ignore=tests/unit/test_import_cycles.py \
	tests/integration/test_cli.py --deselect=tests/integration/test_cli.py::test_check_config \
	--deselect=tests/integration/test_cli.py::test_a_busy_port_stops_the_server \
	tests/integration/test_demo_opening.py \
	tests/integration/test_watchers.py tests/integration/test_scheduler_two_processes.py \
	tests/integration/test_trends_summary.py tests/integration/test_residents_api.py \
	tests/integration/test_bounded_times.py tests/integration/test_live_memory.py

.PHONY: run test test-now test-future unit lint bench system-deps services clean

run: $(RUN_STAMP)
	@bash scripts/system-deps.sh run
	$(PY) run.py

# One after the other (scripts/test-both.sh).
test: system-deps $(TEST_STAMP) services
	bash scripts/test-both.sh $(PY) "$(FUTURE_DATE)" "$(FUTURE_TESTS)"

test-now: system-deps $(TEST_STAMP) services
	$(PY) -m pytest -q

# Every clock of every process the tests start (the app, the capture service, Chromium) moves by
# the same offset, so they still agree with each other; the suite must not notice.
test-future: system-deps $(TEST_STAMP) services
	bash scripts/on-date.sh "$(FUTURE_DATE)" $(PY) -m pytest -q -p no:cacheprovider $(FUTURE_TESTS)

unit: $(TEST_STAMP)
	$(PY) -m pytest -q tests/unit

lint: $(TEST_STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

bench: $(TEST_STAMP) services
	$(PY) -m bench

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip

# The dependencies only (scripts/requirements.py reads pyproject.toml): the code runs from here.
$(RUN_STAMP): pyproject.toml $(VENV)/bin/python
	$(PY) scripts/requirements.py > $(VENV)/requirements-run.txt
	$(PIP) install -r $(VENV)/requirements-run.txt
	touch $@

$(TEST_STAMP): pyproject.toml $(VENV)/bin/python
	$(PY) scripts/requirements.py test > $(VENV)/requirements-test.txt
	$(PIP) install -r $(VENV)/requirements-test.txt
	touch $(RUN_STAMP) $@

system-deps:
	bash scripts/system-deps.sh test

services:
	bash scripts/services.sh

clean:
	rm -rf $(VENV) var .pytest_cache
