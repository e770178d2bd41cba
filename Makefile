# Claimwatch: `make demo` runs the main job, `make test` runs every test. Each sets up .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup demo test lint eval bench bench-stream clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Broker (fetched through Maven on first use) and worker; a recorded 26-minute session of four
# rooms replayed at 60x (about half a minute), alerts shown as they arrive; stops 20 s after the
# replay's last alert.
demo: setup
	$(BIN)/claimwatch rules lint
	$(BIN)/claimwatch up --port 0 --feed samples/session_mixed_evening.jsonl --speed 60 --exit-when-idle 20

test: setup
	$(BIN)/claimwatch rules lint
	$(BIN)/python -m pytest

lint: setup
	$(BIN)/claimwatch rules lint
	$(BIN)/claimwatch rules test

eval: setup
	$(BIN)/claimwatch eval tests/data/dev_corpus.jsonl

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info

bench: setup
	$(BIN)/python -m pipeline.bench

bench-stream: setup
	$(BIN)/python -m pipeline.bench_stream
