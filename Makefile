# emofeat: `make demo` and `make test` work on a fresh machine with nothing installed by hand.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.emofeat-installed
STORE ?= storage/default

# Offline and quiet: no telemetry, one BLAS thread per process (2-core machines are faster so).
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export DO_NOT_TRACK := 1
export PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS := 180
export OPENBLAS_NUM_THREADS := 1
export OMP_NUM_THREADS := 1

.PHONY: install demo test lint typecheck unit system-packages bench clean

install: $(STAMP)

$(STAMP): requirements.lock requirements-dev.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.lock -r requirements-dev.lock
	# insightface's hard dependency on opencv-python would replace the headless build
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps insightface==2.1
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .
	# A real recorded voice for the tests (tests/recorded.py): read from the wheel, not installed
	$(BIN)/pip download --quiet --disable-pip-version-check --no-deps -d $(VENV)/test-media pyannote.audio==3.3.2
	touch $@

demo: $(STAMP)
	$(BIN)/emofeat demo --store $(STORE)

lint: $(STAMP)
	$(BIN)/ruff check emofeat flows tests bench
	$(BIN)/ruff format --check emofeat flows tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP) system-packages
	$(BIN)/pytest -q

# Debian packages the tests drive: chromium renders the QC report (tests/audit/test_report.py),
# docker-compose validates docker/compose.yaml (tests/test_docker.py). Installed only where
# missing (as root, or through sudo).
SYSTEM_PACKAGES := chromium docker-compose
system-packages:
	@missing=""; for p in $(SYSTEM_PACKAGES); do command -v $$p >/dev/null || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

test: lint typecheck unit

bench: $(STAMP)
	$(BIN)/python bench/ingest.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
