# Claimwatch: `make demo` runs the main job, `make test` runs every test. Each sets up .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup demo test test-fast lint check-code eval alert-ids bench bench-stream soak fuzz clean

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

# Every check and every test, integration tests on a real broker included: on Kafka 3.9 (the
# default), then the broker tier again on Kafka 4.
KAFKA4 ?= 4.1.1
test: setup check-code
	$(BIN)/claimwatch rules lint --strict
	$(BIN)/python -m pytest
	CLAIMWATCH_KAFKA_VERSION=$(KAFKA4) $(BIN)/python -m pytest -m kafka

# The pure tier only: no broker, no Maven.
test-fast: setup
	$(BIN)/python -m pytest -m "not kafka"

# The code: ruff, mypy, and the direction of imports between the packages.
check-code: setup
	$(BIN)/ruff check pipeline models tests
	$(BIN)/mypy
	$(BIN)/lint-imports

# The rules: lint (warnings fail) and every rule's own examples.
lint: setup check-code
	$(BIN)/claimwatch rules lint --strict
	$(BIN)/claimwatch rules test

# Each labelled corpus scored on its own, with precision and recall per kind.
eval: setup
	@for corpus in dev check evasion cases cases2 cases3 holdout holdout2; do \
		echo "== tests/data/$${corpus}_corpus.jsonl"; \
		$(BIN)/claimwatch eval tests/data/$${corpus}_corpus.jsonl | sed -n '1,/^tp=/p' || exit 1; \
	done

# Rewrite tests/data/alert_ids/ after a change meant to change alerts (a rule change), then review
# the diff: the test suite holds every other change to the alerts they list.
alert-ids: setup
	$(BIN)/python -m pipeline.quality.snapshot

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build *.egg-info

bench: setup
	$(BIN)/python -m pipeline.ops.bench

bench-stream: setup
	$(BIN)/python -m pipeline.ops.bench_stream

# The worker SIGKILLed 10 times while it judges 20,000 segments, then the broker stopped (SIGTERM)
# and crashed (SIGKILL) under a paced replay; every alert `scan` gives must arrive (the test suite
# runs a small size of each).
soak: setup
	$(BIN)/python -m pipeline.ops.soak
	$(BIN)/python -m pipeline.ops.outage

# 100,000 hostile records through scan and through the worker: each judged or rejected with the
# same reason by both, the same alerts (the test suite runs a small size).
fuzz: setup
	$(BIN)/python -m pipeline.ops.fuzz
