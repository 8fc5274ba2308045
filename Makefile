# `make run` and `make test` do the whole set-up on a fresh machine: a virtual environment, torch,
# the package with its test extras, and (once it exists) the frontend build.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# A pinned torch: on a CPU-only machine with a local wheel (find-links) pip takes that; elsewhere PyPI's
# Linux wheel, which carries CUDA. Override e.g. TORCH_SPEC="torch==2.13.0 --index-url ...".
TORCH_SPEC ?= torch==2.13.0
STAMP := $(VENV)/.installed

.PHONY: run test bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml Makefile | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check $(TORCH_SPEC)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[test]"
	touch $@

run: $(STAMP)
	$(BIN)/retouch serve

test: $(STAMP)
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python benchmarks/fill_speed.py

clean:
	rm -rf $(VENV) build *.egg-info backend/*.egg-info
