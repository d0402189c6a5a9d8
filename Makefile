# AgentAudit: two commands for a newcomer (`make run`, `make test`); the rest are helpers.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run serve test bench venv clean lint

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install --quiet --upgrade pip
	@$(PY) -m pip install --quiet -e '.[desktop,dev]'
	@touch $(STAMP)

venv: $(STAMP)

## Start the app: the desktop window when a display is available, else the sidecar alone.
run: $(STAMP)
	@if [ -n "$$DISPLAY$$WAYLAND_DISPLAY" ] && $(PY) -c 'import desktop.app' 2>/dev/null; then \
		$(VENV)/bin/agentaudit desktop; \
	else \
		$(VENV)/bin/agentaudit serve --first-run-hint; \
	fi

## Start the sidecar alone (headless).
serve: $(STAMP)
	@$(VENV)/bin/agentaudit serve --first-run-hint

## Run every test.
test: $(STAMP)
	@bash tests/system_deps.sh
	@QT_QPA_PLATFORM=offscreen $(VENV)/bin/lint-imports --no-cache >/dev/null || $(VENV)/bin/lint-imports --no-cache
	@QT_QPA_PLATFORM=offscreen $(PY) -m pytest $(PYTEST_ARGS)

## Print the performance figures.
bench: $(STAMP)
	@bash tests/system_deps.sh
	@$(PY) bench/ingest.py

clean:
	rm -rf $(VENV) build dist *.egg-info
