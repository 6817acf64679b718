# PYTHON is the interpreter .venv is made with: Python 3.11 or newer. By default python3.11
# when it runs here, else python3; e.g. `make PYTHON=python3.12 test`.
PYTHON ?= $(shell python3.11 -c '' >/dev/null 2>&1 && echo python3.11 || echo python3)
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip --disable-pip-version-check
STAMP := $(VENV)/.installed
RUN_STAMP := $(VENV)/.installed-runtime
CONFIG ?= gatepass.yml

# Installs come only from the lock files (exact versions and hashes); `make lock` regenerates
# them from pyproject.toml, keeping the current pins (LOCK_FLAGS=--upgrade moves them on).
LOCK := requirements.lock
TEST_LOCK := requirements-test.lock
UV_VERSION := 0.13.9
LOCK_FLAGS ?=
COMPILE := $(BIN)/uv pip compile pyproject.toml --universal --python-version 3.11 \
	--generate-hashes --custom-compile-command 'make lock' --quiet $(LOCK_FLAGS)

.PHONY: run test lint install lock clean
.DEFAULT_GOAL := install

# Before .venv exists, check PYTHON: one line and a stop when it cannot be used.
GOALS := $(or $(MAKECMDGOALS),$(.DEFAULT_GOAL))
ifneq ($(filter-out clean,$(GOALS)),)
ifeq ($(wildcard $(BIN)/python),)
FOUND := $(shell $(PYTHON) -c 'import sys; v = sys.version_info; \
	print("ok" if v >= (3, 11) else "%d.%d" % v[:2])' 2>/dev/null)
ifeq ($(FOUND),)
$(error PYTHON=$(PYTHON) does not run here; Gatepass needs Python 3.11 or newer: make PYTHON=/path/to/python3.11 $(GOALS))
else ifneq ($(FOUND),ok)
$(error PYTHON=$(PYTHON) is Python $(FOUND); Gatepass needs 3.11 or newer: make PYTHON=/path/to/python3.11 $(GOALS))
endif
endif
endif

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(RUN_STAMP): $(BIN)/python $(LOCK) pyproject.toml
	$(PIP) install --quiet --require-hashes -r $(LOCK)
	$(PIP) install --quiet --no-deps -e .
	touch $(RUN_STAMP)

$(STAMP): $(RUN_STAMP) $(TEST_LOCK)
	$(PIP) install --quiet --require-hashes -r $(TEST_LOCK)
	touch $(STAMP)

install: $(STAMP)

lock: $(BIN)/python
	$(PIP) install --quiet uv==$(UV_VERSION)
	$(COMPILE) -o $(LOCK)
	$(COMPILE) --extra test --constraint $(LOCK) -o $(TEST_LOCK)

$(CONFIG):
	cp gatepass.example.yml $(CONFIG)

run: $(RUN_STAMP) $(CONFIG)
	$(BIN)/gatepass serve --config $(CONFIG)

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

clean:
	rm -rf $(VENV) .pytest_cache
