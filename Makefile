# The two commands of the README:
#   make reproduce   install into .venv (if needed), then build the EMI paper's Table 3 on the demo data
#   make test        install into .venv (if needed), then run the test suite
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test
FACENET := facenet-pytorch==2.6.0
# Every core of this machine (profiles/default, the profile Snakemake reads by itself: cores: all);
# `make tables CORES=4` for fewer.
CORES ?= $(shell nproc)

.PHONY: install reproduce tables verify plots lint test clean-work

install: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	# facenet-pytorch's metadata pins torch<2.3, numpy<2, Pillow<10.3; it runs on our pins, so no deps.
	$(BIN)/python -m pip install --quiet --no-deps $(FACENET)
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

# The test and lint tools (pyproject.toml's `test` extra), only for `make test`/`make lint`.
# A headless Chromium for the browser tests of the verdict page and the DVC plots (Debian's, as root).
$(TEST_STAMP): $(STAMP) requirements-test.txt tools/install-browser.sh
	$(BIN)/python -m pip install --quiet -r requirements-test.txt
	tools/install-browser.sh
	touch $(TEST_STAMP)

reproduce: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" snakemake --cores $(CORES) results/table3.csv
	@cat results/table3.csv

tables: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" snakemake --cores $(CORES) all

# Rebuild every table from scratch in work/verify/ and compare each cell with the committed one.
verify: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" HF_HUB_OFFLINE=1 $(BIN)/python -m affrepro.verify --cores $(CORES)

# dvc_plots/index.html (`dvc plots show`) with vega, vega-lite and vega-embed copied beside it from Snakemake's
# assets, so it renders without internet access (affrepro.offline_plots).
plots: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m affrepro.offline_plots

# Style and workflow lint: ruff on the Python, `snakemake --lint` on the rules.
lint: $(TEST_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	PATH="$(CURDIR)/$(BIN):$$PATH" HF_HUB_OFFLINE=1 snakemake --lint

test: lint
	PATH="$(CURDIR)/$(BIN):$$PATH" HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 $(BIN)/python -m pytest -ra --durations=25

clean-work:
	rm -rf work logs .snakemake
