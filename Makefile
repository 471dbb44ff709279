# Two entry points for a fresh machine with Python 3.11, pip and make: `make demo` and `make test`.
# The venv is built with uv (put into the venv by the system pip): the runtime dependencies for the demo,
# the test extras on top for the tests. CI runs `make test TESTS=all` (slow tests too, corpus required).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
UV     := $(BIN)/uv
UV_VERSION ?= 0.13.9
RUNTIME := $(VENV)/.installed-runtime
TESTENV := $(VENV)/.installed-test
IN_VENV := --quiet --python $(BIN)/python

# TESTS=all also runs the tests marked slow; PYTEST_ARGS adds pytest options.
ifeq ($(TESTS),all)
PYTEST_MARKERS := -m "slow or not slow"
endif

.PHONY: demo test lint typecheck clean

# The venv gets no pip of its own (uv installs into it): creating it takes a second instead of ten.
$(UV):
	$(PYTHON) -m venv --without-pip $(VENV)
	$(PYTHON) -m pip --python $(BIN)/python install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

# A venv made by plain pip has fasttext or fasttext-predict in fasttext-community's files: replace them.
# Then one import of what a run's driver and workers load, with .pyc writing on, caches their bytecode (~4 s):
# every run then starts ~3 s faster per process, also where PYTHONDONTWRITEBYTECODE keeps Python from caching it.
$(RUNTIME): pyproject.toml | $(UV)
	$(UV) pip uninstall $(IN_VENV) fasttext fasttext-predict
	$(UV) pip install $(IN_VENV) --reinstall-package fasttext-community -e .
	PYTHONDONTWRITEBYTECODE= $(BIN)/python -m curation.warm_imports
	touch $@

$(TESTENV): pyproject.toml $(RUNTIME)
	$(UV) pip install $(IN_VENV) -e '.[test]'
	touch $@

demo: $(RUNTIME)
	$(BIN)/curation demo --output demo-out --overwrite

test: lint typecheck
	$(BIN)/pytest -q $(PYTEST_MARKERS) $(PYTEST_ARGS)

lint: $(TESTENV)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# mypy at the level the code passes (pyproject.toml [tool.mypy]); part of `make test` and CI.
typecheck: $(TESTENV)
	$(BIN)/mypy curation filters pipelines

clean:
	rm -rf demo-out .pytest_cache .ruff_cache build dist *.egg-info
