# Two set-up commands: `make demo` and `make test`. Everything else builds on them.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
DEMO_DB ?= demo.db

.PHONY: demo test bench soak lint venv clean

$(VENV)/bin/activate:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "need $(PYTHON) on PATH (or make PYTHON=python3)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(VENV)/.installed: $(VENV)/bin/activate pyproject.toml
	$(PIP) install --quiet -e '.[postgres]'
	@touch $@

$(VENV)/.installed-test: $(VENV)/bin/activate pyproject.toml
	$(PIP) install --quiet -e '.[test]'
	@touch $@ $(VENV)/.installed

venv: $(VENV)/.installed

demo: $(VENV)/.installed
	$(VENV)/bin/crm demo --db $(DEMO_DB)

test: $(VENV)/.installed-test
	$(VENV)/bin/ruff check crm_tui tests bench
	$(VENV)/bin/lint-imports
	$(PY) -m pytest -n 2 -q -p no:cacheprovider

bench: $(VENV)/.installed-test
	$(PY) -m bench

lint: $(VENV)/.installed-test
	$(VENV)/bin/ruff check crm_tui tests bench
	$(VENV)/bin/lint-imports

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache

soak: $(VENV)/.installed-test
	$(PY) -m bench.soak $(or $(SOAK_TRIALS),200)
