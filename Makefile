# AgentAudit: two commands for a newcomer (`make run`, `make test`); the rest are helpers.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PACKAGE_STAMP := $(VENV)/.package-installed

.PHONY: run serve test bench venv clean lint package test-package

$(STAMP): pyproject.toml sdk/python/pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install --quiet --upgrade pip
	@$(PY) -m pip uninstall --quiet --yes agentaudit-client 2>/dev/null || true
	@$(PY) -m pip install --quiet -e '.[desktop,dev]' -e sdk/python
	@# the public agentaudit-client shares the import name agentaudit with sdk/python: it lives apart, for its e2e test
	@$(PY) -m pip install --quiet --upgrade --target $(VENV)/public-client agentaudit-client==1.0.6
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
test: $(STAMP) $(PACKAGE_STAMP)
	@bash tests/system_deps.sh
	@QT_QPA_PLATFORM=offscreen $(VENV)/bin/lint-imports --no-cache >/dev/null || $(VENV)/bin/lint-imports --no-cache
	@QT_QPA_PLATFORM=offscreen $(PY) -m pytest $(PYTEST_ARGS)
	@if command -v npm >/dev/null 2>&1; then \
		cd sdk/js && npm install --silent --no-audit --no-fund && AGENTAUDIT_PYTHON=$(CURDIR)/$(PY) npm test --silent; \
	else echo "sdk/js: node and npm are not installed (sudo apt-get install nodejs npm); the JavaScript SDK tests skip"; fi

## Print the performance figures.
bench: $(STAMP)
	@bash tests/system_deps.sh
	@$(PY) bench/ingest.py

clean:
	rm -rf $(VENV) build dist *.egg-info

# The `package` extra of pyproject.toml (PyInstaller), installed into the same .venv without reinstalling the app.
$(PACKAGE_STAMP): $(STAMP) pyproject.toml
	@$(PY) -c 'import tomllib; print("\n".join(tomllib.load(open("pyproject.toml", "rb"))["project"]["optional-dependencies"]["package"]))' \
		| xargs -d '\n' $(PY) -m pip install --quiet
	@touch $(PACKAGE_STAMP)

## Build the installable app: dist/agentaudit (PyInstaller, rebuilt only when its inputs changed), then
## dist/agentaudit-<version>-linux-<arch>.tar.gz and, where dpkg-deb exists, dist/agentaudit_<version>_<arch>.deb.
package: $(PACKAGE_STAMP)
	@$(PY) packaging/build.py
	@$(PY) packaging/dist.py

## Build the bundle if needed and test it as a user runs it (also part of `make test`).
test-package: $(PACKAGE_STAMP)
	@QT_QPA_PLATFORM=offscreen $(PY) -m pytest tests/package $(PYTEST_ARGS)

## Run the reliability and security suite's long variants: many more fuzzing examples per operation,
## crash-and-restart iterations and hypothesis examples (tens of minutes).
.PHONY: test-long
test-long: $(STAMP)
	@QT_QPA_PLATFORM=offscreen AGENTAUDIT_TEST_LONG=1 $(PY) -m pytest tests/reliability $(PYTEST_ARGS)
