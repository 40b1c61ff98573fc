# Two entry points that work on a fresh Debian machine: `make demo` and `make test check`.
VENV ?= .venv
PY := $(VENV)/bin/python
CHROMIUM ?= /usr/bin/chromium
PORT ?= 8000
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: setup chromium python venv clients lock demo test test-fast check lint docs bench bench-load bench-cluster clean

setup: chromium venv

chromium:
	@if [ ! -x "$(CHROMIUM)" ] || ! command -v xvfb-run >/dev/null || ! command -v xdotool >/dev/null || ! command -v redis-server >/dev/null; then \
		echo "installing Chromium, Xvfb, xdotool and redis-server from Debian (xvfb, xdotool: the headed sign-in test; redis-server: the shared-state tests)"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium xvfb xauth xdotool redis-server; \
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
# Everything comes from the lock, hash-checked (pip and setuptools too, so the project builds
# without fetching a newer backend); then the project itself, editable, adding nothing.
$(VENV)/.installed: pyproject.toml requirements-test.lock | python
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --require-hashes -r requirements-test.lock
	$(PY) -m pip install -q --no-deps --no-build-isolation -e .
	touch $@

venv: $(VENV)/.installed

# The third-party clients the end-to-end tests drive (tests/support/clients.py): the Vercel AI SDK
# from tests/node/package-lock.json (npm ci; Node 20 and npm from Debian when missing), LlamaIndex
# and instructor from tests/pyclients/requirements.lock in a venv of their own (they pin openai
# below the suite's). The tests install what is missing too; this installs it up front.
clients: venv
	@if ! command -v npm >/dev/null 2>&1; then \
		echo "installing Node.js and npm from Debian"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq nodejs npm; \
	fi
	$(PY) -m tests.support.clients

# Regenerates requirements-test.lock (runtime + test extra, for make) and requirements.lock
# (runtime, for the Dockerfile) with uv, hashes included, and the end-to-end clients' own lock
# (tests/pyclients/requirements.lock, from its requirements.in). Needs the package index; CI never runs it.
# Seeded with what $(VENV) has installed (the versions the suite was run with), then with the
# locks' own pins, so only what pyproject.toml changed moves; UPGRADE='--upgrade-package NAME' moves more.
UV_VERSION := 0.13.9
LOCK_FLAGS := --generate-hashes --python-version 3.11 --python-platform x86_64-manylinux_2_28 \
	--custom-compile-command 'make lock' $(UPGRADE)
lock: | python
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	python3 -m venv "$$tmp/uv" && "$$tmp/uv/bin/python" -m pip install -q uv==$(UV_VERSION) && \
	if [ -x $(PY) ]; then $(PY) -m pip freeze --exclude-editable > "$$tmp/seed.txt"; else : > "$$tmp/seed.txt"; fi && \
	printf 'pip\nsetuptools>=68\n' > "$$tmp/bootstrap.in" && \
	"$$tmp/uv/bin/uv" pip compile -q pyproject.toml "$$tmp/bootstrap.in" --extra test \
		-c "$$tmp/seed.txt" $(LOCK_FLAGS) -o requirements-test.lock && \
	"$$tmp/uv/bin/uv" pip compile -q pyproject.toml "$$tmp/bootstrap.in" \
		-c requirements-test.lock $(LOCK_FLAGS) -o requirements.lock && \
	"$$tmp/uv/bin/uv" pip compile -q tests/pyclients/requirements.in \
		-c tests/pyclients/requirements.lock $(LOCK_FLAGS) -o tests/pyclients/requirements.lock && \
	sed -i "s#$$tmp/##g" requirements-test.lock requirements.lock tests/pyclients/requirements.lock && \
	echo "wrote requirements-test.lock, requirements.lock and tests/pyclients/requirements.lock"

demo: setup
	$(PY) -m service demo --port $(PORT)

# The tiers are markers given at collection (tests/support/tiers.py). `make test` is the suite
# (real Chromium, real servers, subprocesses); `make check` the packaging checks (Docker install
# replay, hadolint, the lock, the benchmarks' smoke runs, the schema fuzzer); `make test-fast` the
# inner loop: no Chromium, no subprocess (a test that starts one fails there, naming tiers.py).
# With the bytecode cache even where the environment turns it off (PYTHONDONTWRITEBYTECODE=1, as
# many containers set): without it each xdist worker, and each gateway a test starts, compiles the
# project and rewrites every test module's asserts again, 9 s of every worker's collection.
PYTEST := env -u PYTHONDONTWRITEBYTECODE $(PY) -m pytest -n 2 --dist loadfile --no-loadscope-reorder

test: setup lint clients
	$(PYTEST) -m "not check"

check: setup
	$(PYTEST) -m check

test-fast: venv
	TEST_TIER=fast $(PYTEST) -m "not browser and not subprocess and not check"

lint: venv
	@echo "ruff and mypy (strict)"
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

# The documentation site, into site/ (git-ignored): strict, so a broken link, a page left out of the
# navigation, a settings field without a description or a CLI argument without help fails it. The
# reference pages are generated by docsite/hooks.py; nothing is fetched from the internet.
docs: venv
	NO_MKDOCS_2_WARNING=1 $(PY) -m mkdocs build --strict

bench: setup
	$(PY) -m bench

# Load: N concurrent streams (1, 4, 8, 16) and a burst of 200; a few minutes.
bench-load: setup
	$(PY) -m bench.load

# Replicas: throughput through 1, 2 and 3 replicas on the same accounts, and a killed replica's
# accounts serving again; a few minutes.
bench-cluster: setup
	$(PY) -m bench.cluster

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache site
