# The two commands of the README. Both start from a fresh clone with nothing installed.
PYTHON  ?= python3
VENV    ?= .venv
BIN     := $(VENV)/bin
AIRFLOW ?= .venv-airflow

.PHONY: demo test

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

demo: $(BIN)/python
	$(BIN)/pip install --quiet -e '.[embedded]'
	$(BIN)/df-gen validate environments/demo
	$(BIN)/df-gen render environments/demo
	$(BIN)/df-gen apply environments/demo --sandbox --auto-approve
	$(BIN)/df-gen output environments/demo --sandbox

# Airflow lives in its own venv; the tests load the rendered DAGs into its DagBag.
# The stamp is written last, so an interrupted install is redone.
$(AIRFLOW)/.installed: tests/airflow-requirements.txt
	$(PYTHON) -m venv $(AIRFLOW)
	$(AIRFLOW)/bin/python -m pip install --quiet --upgrade pip
	$(AIRFLOW)/bin/pip install --quiet -r tests/airflow-requirements.txt
	touch $@

test: $(BIN)/python $(AIRFLOW)/.installed
	$(BIN)/pip install --quiet -e '.[embedded,dev]'
	$(BIN)/ruff check generator tests tools benchmarks
	$(BIN)/mypy generator
	DF_GEN_AIRFLOW_PYTHON=$(CURDIR)/$(AIRFLOW)/bin/python $(BIN)/python -m pytest $(PYTEST_ARGS)
