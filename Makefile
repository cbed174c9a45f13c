# Funnel Lab — everyday commands. `make run` starts the app, `make test` runs every test.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check
REQ_STAMP := $(VENV)/.req-stamp
DEV_STAMP := $(VENV)/.dev-stamp
CHROMIUM := /usr/bin/chromium
# apt-get needs root; use sudo only when we are not root and sudo exists.
SUDO := $(shell [ "$$(id -u)" -eq 0 ] || ! command -v sudo >/dev/null || echo sudo)

# Playwright drives the Debian Chromium; it must never fetch a browser of its own.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1

.PHONY: help run test test-fast explore bench bench-pages load lint clean distclean deps deps-dev chromium

help:
	@echo "make run        start the app on http://localhost:8501"
	@echo "make test       lint + all tests (unit, app, browser, slow)"
	@echo "make test-fast  tests without the slow and browser ones"
	@echo "make explore    unit and fuzz tests on new random examples (a hunt, not a gate)"
	@echo "make bench      run the benchmarks in tests/bench/ (prints ratios)"
	@echo "make bench-pages  time every page against a blank Streamlit page in Chromium"
	@echo "make load       sessions in a meeting: waves of browser sessions against one server"
	@echo "make lint       ruff check"
	@echo "make clean      remove caches and test artifacts (distclean also removes .venv)"

$(PY):
	$(PYTHON) -m venv $(VENV)

# Reinstall only when a requirements file changed (stamp files).
$(REQ_STAMP): requirements.txt | $(PY)
	$(PIP) install -r requirements.txt
	touch $@

$(DEV_STAMP): requirements-dev.txt requirements.txt $(REQ_STAMP)
	$(PIP) install -r requirements-dev.txt
	touch $@

deps: $(REQ_STAMP)

deps-dev: $(DEV_STAMP)

chromium:
	@if [ ! -x $(CHROMIUM) ]; then \
		$(SUDO) apt-get update && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; \
	fi
	@test -x $(CHROMIUM) || { echo "Chromium is missing at $(CHROMIUM)" >&2; exit 1; }

run: deps
	$(PY) -m streamlit run serve.py --server.port 8501 --server.headless true

# pytest exits 5 when it collected no test: that is a failure here, said out loud.
test: deps-dev chromium
	$(PY) -m ruff check .
	$(PY) -m pytest -q || { rc=$$?; \
		if [ $$rc -eq 5 ]; then echo "pytest collected no tests" >&2; fi; exit $$rc; }

test-fast: deps-dev
	$(PY) -m pytest -q -m "not slow and not browser" || { rc=$$?; \
		if [ $$rc -eq 5 ]; then echo "pytest collected no tests" >&2; fi; exit $$rc; }

# New random examples for every property test (`make test` runs fixed ones): a hunt, not a gate.
explore: deps-dev
	HYPOTHESIS_PROFILE=explore $(PY) -m pytest -q -m "not browser" tests/unit tests/fuzz || { rc=$$?; \
		if [ $$rc -eq 5 ]; then echo "pytest collected no tests" >&2; fi; exit $$rc; }

bench: deps-dev
	@shopt -s nullglob; scripts=(tests/bench/*.py); \
	if [ $${#scripts[@]} -eq 0 ]; then echo "no benchmarks in tests/bench/"; exit 0; fi; \
	for f in "$${scripts[@]}"; do \
		[ "$$(basename $$f)" = "__init__.py" ] && continue; \
		[ "$$(basename $$f)" = "bench_pages.py" ] && continue; \
		echo "== $$f"; PYTHONPATH=. $(PY) "$$f"; \
	done

# Starts and stops its own servers on loopback; prints seconds and ratios, asserts nothing.
bench-pages: deps-dev chromium
	PYTHONPATH=. $(PY) tests/bench/bench_pages.py

# Not part of `make test`: it measures (about 10 minutes), it does not pass or fail.
LOAD_ARGS ?= --wave 8 --total 50 --max-seconds 600
load: deps-dev chromium
	PYTHONPATH=. $(PY) -u tests/load/run_load.py $(LOAD_ARGS)

lint: deps-dev
	$(PY) -m ruff check .

clean:
	rm -rf .pytest_cache .ruff_cache .hypothesis tests/artifacts
	find . -path ./$(VENV) -prune -o -type d -name __pycache__ -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV)
