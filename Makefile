# KetaDesk: `make run` opens the demo clinic, `make test` runs the whole suite.
# Both create .venv and install the project into it when needed, so a fresh clone
# needs nothing but Python 3.11+.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: run test lint check bench screenshots clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,dev]'
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/ketadesk --demo

test: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy ketadesk

check: test lint

bench: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/python bench/bench_foundation.py
	QT_QPA_PLATFORM=offscreen $(BIN)/python bench/bench_scheduling.py
	QT_QPA_PLATFORM=offscreen $(BIN)/python bench/bench_billing.py

# Each view of the demo clinic twice: full HD in docs/img/, a 1280x800 laptop in docs/img/laptop/.
screenshots: $(STAMP)
	mkdir -p docs/img/laptop
	for view in schedule patients billing settings; do \
		QT_QPA_PLATFORM=offscreen $(BIN)/ketadesk --demo --screenshot docs/img/$$view.png --view $$view --size 1920x1080; \
	done
	for view in today schedule patients billing settings; do \
		QT_QPA_PLATFORM=offscreen $(BIN)/ketadesk --demo --screenshot docs/img/laptop/$$view.png --view $$view --size 1280x800; \
	done

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
