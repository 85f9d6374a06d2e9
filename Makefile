# Two commands do everything on a fresh clone: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# The CPU build of torch. On a firm's server point pip at the CPU wheel index, e.g.
#   make install TORCH_PIP_ARGS="--index-url https://download.pytorch.org/whl/cpu"
TORCH_SPEC ?= torch==2.13.0
TORCH_PIP_ARGS ?=
CONFIG ?= config

.PHONY: install run test bench clean screenshots

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet $(TORCH_PIP_ARGS) "$(TORCH_SPEC)"
	$(BIN)/python -m pip install --quiet -e '.[test]'
	# The matcher trained on the bundled labels, kept with the installation: a first start is ready in seconds.
	HF_HUB_OFFLINE=1 $(BIN)/watcher --config $(CONFIG) prepare
	touch $@

# The database is the config's [storage] path (var/watcher.db for the bundled config); DB=... overrides it.
run: install
	HF_HUB_OFFLINE=1 $(BIN)/watcher --config $(CONFIG) $(if $(DB),--db $(DB)) run

test: install
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest -q

bench: install
	HF_HUB_OFFLINE=1 $(BIN)/python -m bench

clean:
	rm -rf $(VENV) var .pytest_cache

# The alert e-mail and agenda, then the web page's change list, a change page and the agenda builder.
screenshots: install
	$(BIN)/python scripts/screenshots.py var/screenshots
	WATCHER_SCREENSHOTS=$(CURDIR)/var/screenshots HF_HUB_OFFLINE=1 $(BIN)/python -m pytest -q tests/test_web_browser.py
