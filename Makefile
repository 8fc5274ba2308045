# `make run` and `make test` do the whole set-up on a fresh machine: a virtual environment, torch,
# the package with its test extras, and the canvas build (npm ci, then vite build into
# backend/retouch/static/). `make test` also installs Debian's chromium for the browser tests if missing.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# PyPI's own torch and torchvision, pinned with PEP 440 arbitrary equality (===): spandrel imports
# torchvision, and PyPI's torchvision only imports beside PyPI's torch, so `===` keeps pip from taking a
# local `+cpu` wheel from its find-links (which `==2.13.0` would match). The same build runs on a user's
# GPU (CUDA) and on the CPU here (about 4.8 GB installed). Override e.g. TORCH_SPEC="torch==2.13.0 ... --index-url ...".
TORCH_SPEC ?= torch===2.13.0 torchvision===0.28.0
STAMP := $(VENV)/.installed

# pytest's worker processes in `make test` (pytest-xdist): each test file runs whole on one of them, so a
# module's server or browser is started once; most tests wait on a server, a browser or a subprocess, so two
# workers roughly halve the wall time on two cores. PYTEST_WORKERS=0 runs everything in one process.
PYTEST_WORKERS ?= 2

.PHONY: run test check bench bench-canvas clean frontend chromium api-client

FRONTEND := frontend
NODE_STAMP := $(FRONTEND)/node_modules/.installed
CANVAS := backend/retouch/static/index.html
CANVAS_SOURCES := $(shell find $(FRONTEND)/src -type f 2>/dev/null) $(FRONTEND)/index.html \
	$(FRONTEND)/vite.config.ts $(FRONTEND)/tsconfig.json $(FRONTEND)/package-lock.json $(FRONTEND)/eslint.config.js
CHROMIUM ?= /usr/bin/chromium
# root on the developers' machines and CI; elsewhere sudo
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml Makefile | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check $(TORCH_SPEC)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[test]"
	touch $@

$(NODE_STAMP): $(FRONTEND)/package.json $(FRONTEND)/package-lock.json
	cd $(FRONTEND) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(CANVAS): $(NODE_STAMP) $(CANVAS_SOURCES)
	cd $(FRONTEND) && npm run --silent build

frontend: $(CANVAS)

chromium:
	@[ -x $(CHROMIUM) ] || command -v chromium >/dev/null || \
		($(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium)

# after a change to the server's schemas: regenerate the canvas's typed API client
api-client: $(STAMP) $(NODE_STAMP)
	$(BIN)/python $(FRONTEND)/scripts/gen_api.py

run: $(STAMP) $(CANVAS)
	$(BIN)/retouch serve

# guard rails: lint, types, and the import layers (no cycles, nothing importing upwards)
check: $(STAMP)
	$(BIN)/ruff check backend tests benchmarks frontend/scripts
	$(BIN)/ruff format --check backend tests benchmarks frontend/scripts
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

test: check $(CANVAS) chromium
	cd $(FRONTEND) && npx eslint --max-warnings 0 . && npx vitest run
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadfile

bench: $(STAMP)
	$(BIN)/python benchmarks/fill_speed.py

bench-canvas: $(STAMP) $(CANVAS) chromium
	$(BIN)/python benchmarks/canvas_paint.py

clean:
	rm -rf $(VENV) build *.egg-info backend/*.egg-info backend/retouch/static $(FRONTEND)/node_modules
