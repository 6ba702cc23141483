# Two commands on a fresh machine: `make demo` and `make test`. Both create .venv when needed.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEMO   ?= scenarios/demo.yaml
OUT    ?= runs/demo

.PHONY: demo test test-all fuzz bench lint docs notebooks venv clean screenshots

# The hot modules (autopilot_sim/native.py) are compiled with mypyc by setup.py where a C compiler
# exists; NATIVE is rebuilt when one of their sources changes (the package would otherwise run
# pure Python and say so: compiled modules older than their sources are never used).
NATIVE := $(VENV)/.native
NATIVE_SOURCES := setup.py $(wildcard autopilot_sim/native.py autopilot_sim/raft/*.py autopilot_sim/sim/*.py)

.PHONY: native

$(STAMP): pyproject.toml setup.py
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip 'setuptools>=77'
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/autopilot-sim --version
	touch $(STAMP) $(NATIVE)

$(NATIVE): $(STAMP) $(NATIVE_SOURCES)
	@$(BIN)/python -c "from autopilot_sim import native; raise SystemExit(native.STATUS['build'] != 'compiled')" \
	    2>/dev/null || $(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	$(BIN)/autopilot-sim --version
	touch $(NATIVE)

venv: $(STAMP)

# Rebuild the compiled modules after editing their sources (AUTOPILOT_SIM_PURE=1: pure build).
native: $(NATIVE)

demo: $(NATIVE)
	$(BIN)/autopilot-sim run $(DEMO) --out $(OUT) --plot

test: $(NATIVE)
	$(BIN)/python -m pytest

test-all: $(NATIVE)
	$(BIN)/python -m pytest -m ''

# Random exploration: every Hypothesis property (slow ones included), new examples each run,
# FUZZ_FACTOR x the default counts; failures are saved in .hypothesis/ and replayed next time.
FUZZ_FACTOR ?= 10
fuzz: $(NATIVE)
	HYPOTHESIS_PROFILE=fuzz HYPOTHESIS_FUZZ_FACTOR=$(FUZZ_FACTOR) $(BIN)/python -m pytest -m hypothesis

# ruff (rule set in pyproject [tool.ruff]) and mypy (strict on the protocol cores and sim/, see
# [tool.mypy]); both pinned in the dev extras so the result does not drift between machines.
lint: $(STAMP)
	$(BIN)/ruff check autopilot_sim tests benchmarks
	$(BIN)/mypy

# Re-execute the teaching notebooks in place (they are stored with their outputs).
notebooks: $(STAMP)
	$(BIN)/python notebooks/execute.py

# The documentation site, into site/ (open site/index.html); --strict: a broken link is an error.
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

# The dashboard screenshots in docs/images/ (needs chromium and chromium-driver).
screenshots: $(STAMP)
	AUTOPILOT_SIM_SCREENSHOTS=1 $(BIN)/python -m pytest -q tests/test_web_browser.py -k "live or replay"

bench: $(NATIVE)
	$(BIN)/python benchmarks/bench_engine.py

clean:
	rm -rf $(VENV) runs build site .cache *.egg-info
