# Two entry points that work on a fresh Debian machine: `make demo` and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
CHROMIUM ?= /usr/bin/chromium
PORT ?= 8000
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: setup chromium python venv demo test lint bench clean

setup: chromium venv

chromium:
	@if [ ! -x "$(CHROMIUM)" ]; then \
		echo "installing Chromium from Debian"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium; \
	fi

# Python 3.11+ with a working venv. Debian ships `venv` without ensurepip unless python3-venv is
# installed, so `python3 -m venv` would fail half-way; install it first when either is missing.
python:
	@python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null || { \
		echo "Python 3.11 or newer is needed as python3 (found: $$(python3 --version 2>&1))" >&2; exit 1; }
	@if ! python3 -m venv --help >/dev/null 2>&1 || ! python3 -c 'import ensurepip' >/dev/null 2>&1; then \
		echo "installing python3-venv from Debian"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq python3-venv; \
	fi

# `python` is order-only: checked before the venv is made, without forcing a reinstall each time.
$(VENV)/.installed: pyproject.toml | python
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $@

venv: $(VENV)/.installed

demo: setup
	$(PY) -m service demo --port $(PORT)

test: setup lint
	$(PY) -m pytest -n 2 --dist loadgroup

lint: venv
	@echo "ruff and mypy (strict)"
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

bench: setup
	$(PY) -m bench

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
