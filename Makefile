# The two commands of the README. Both start from a fresh clone with nothing installed.
PYTHON  ?= python3
VENV    ?= .venv
BIN     := $(VENV)/bin
# One venv per Airflow major that Cloud Composer 3 runs (see tests/airflow*-requirements.txt).
AIRFLOW_VENVS := .venv-airflow2 .venv-airflow3

# The whole suite on two pytest-xdist workers; loadgroup keeps each xdist_group on one worker
# (the conformance cases, which run side by side in one worker's threads; the packaging tests'
# one wheel). Override to run something else, e.g. make test PYTEST_ARGS="-m 'not slow' -n 2".
PYTEST_ARGS ?= -n 2 --dist loadgroup

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

# Airflow lives in its own venvs, one per Airflow major; the tests load the rendered DAGs
# into each one's DagBag. A requirements file is the whole environment, every package pinned
# (tools/airflow_requirements.py writes it), so pip installs it as is, without resolving.
# The venv is rebuilt from scratch when its file changes; the stamp is written last, so an
# interrupted install is redone.
$(AIRFLOW_VENVS:%=%/.installed): .venv-%/.installed: tests/%-requirements.txt
	rm -rf $(@D)
	$(PYTHON) -m venv $(@D)
	$(@D)/bin/python -m pip install --quiet --upgrade pip
	$(@D)/bin/pip install --quiet --no-deps -r $<
	touch $@

test: $(BIN)/python $(AIRFLOW_VENVS:%=%/.installed)
	$(BIN)/pip install --quiet -e '.[embedded,dev]'
	$(BIN)/ruff check generator tests tools benchmarks
	$(BIN)/mypy generator
	DF_GEN_AIRFLOW2_PYTHON=$(CURDIR)/.venv-airflow2/bin/python \
	DF_GEN_AIRFLOW3_PYTHON=$(CURDIR)/.venv-airflow3/bin/python \
	$(BIN)/python -m pytest $(PYTEST_ARGS)
