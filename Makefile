# The two commands of the README. Both start from a fresh clone with nothing installed.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: demo test

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

demo: $(BIN)/python
	$(BIN)/pip install --quiet -e '.[embedded]'
	$(BIN)/df-gen validate environments/demo

test: $(BIN)/python
	$(BIN)/pip install --quiet -e '.[embedded,dev]'
	$(BIN)/ruff check generator tests tools benchmarks
	$(BIN)/mypy generator
	$(BIN)/python -m pytest $(PYTEST_ARGS)
