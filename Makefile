# nemwatch: `make demo` plays the 2018 scenario on the local simulator; `make test` runs the tests.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: demo test test-long lint bench clean venv

venv: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]"
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/nemwatch demo

test: $(STAMP)
	$(VENV)/bin/lint-imports --no-cache --verbose >/dev/null || $(VENV)/bin/lint-imports --no-cache
	$(PY) -m pytest -q

test-long: $(STAMP)
	$(PY) -m pytest -q --long

lint: $(STAMP)
	$(VENV)/bin/lint-imports

bench: $(STAMP)
	$(PY) bench/run.py

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache .hypothesis
