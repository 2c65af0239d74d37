# Two commands do everything: `make run` and `make test`.
PYTHON   ?= python3
VENV     := .venv
PY       := $(VENV)/bin/python
STAMP    := $(VENV)/.requirements.stamp
PORT     ?= 8501
ADDRESS  ?= 127.0.0.1
CHROMIUM := /usr/bin/chromium
JOBS     ?= 2

.PHONY: run test test-backends wheel-check docs bench chromium clean-venv

# (Re)install only when the pins or the package's metadata changed since the last install: the exact pins of
# requirements.txt, then this project editable (pyproject.toml; no dependency resolution, no build isolation).
$(STAMP): requirements.txt pyproject.toml prune_core/__init__.py
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	@touch $(STAMP)

# The app listens on this machine only (ADDRESS=0.0.0.0 make run to share it on your network).
run: $(STAMP)
	$(VENV)/bin/streamlit run app.py --server.address $(ADDRESS) --server.port $(PORT) \
		--browser.gatherUsageStats false

# The browser tests drive Debian's Chromium (Playwright cannot download a browser here).
chromium:
	@test -x $(CHROMIUM) || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing Debian's Chromium for the browser tests…"; \
	    DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else \
	    echo "make test needs Chromium at $(CHROMIUM): install it (sudo apt-get install chromium), then run make test again." >&2; \
	    exit 1; \
	  fi; }

# Unit and AppTest tests on $(JOBS) processes (pytest-xdist), then the browser tests alone, so a busy CPU
# never races the browser against a page's timeouts.
# Last, the wheel in a clean venv outside the repository (see wheel-check).
test: $(STAMP) chromium
	$(PY) -m pytest -m "not browser" -n $(JOBS)
	$(MAKE) --no-print-directory test-backends
	$(PY) -m pytest -m browser
	$(PY) scripts/wheel_check.py

# The core suite again under the other Keras backends (TensorFlow ran above); tf_only tests skip. PyTorch (~1 min):
# scoring, masks, the graph rules and compaction on the model zoo, fine-tuning with masks held at zero, the loops,
# reconstruction, and the cross-backend equality test. JAX (~1.5 min; eager JAX is slow on the zoo models, whose graph
# rules are backend-free numpy and run under torch, as do the loops, which only orchestrate fit and masks): scoring,
# masks, fine-tuning with masks held on every kernel kind, the pruning callbacks, the equality test.
TORCH_TESTS := tests/methods tests/graph tests/train tests/test_pruning.py tests/test_backends_agree.py \
	prune_core/methods/signals.py
JAX_TESTS := tests/methods tests/train/test_fit.py tests/train/test_callbacks.py tests/train/test_every_kernel_held.py \
	tests/test_backends_agree.py prune_core/methods/signals.py
test-backends: $(STAMP)
	KERAS_BACKEND=torch $(PY) -m pytest -m "not browser" -n $(JOBS) $(TORCH_TESTS)
	KERAS_BACKEND=jax $(PY) -m pytest -m "not browser" -n $(JOBS) $(JAX_TESTS)

# Build the wheel, install it with a Keras backend into a clean venv in a temporary folder, and run the README's
# library example and `prune-core example` from another folder (BACKEND=tensorflow for the default backend).
BACKEND ?= jax
wheel-check: $(STAMP)
	$(PY) scripts/wheel_check.py --backend $(BACKEND)

# API reference from the docstrings into docs/api/ (not committed). pdoc: no configuration and no site to
# maintain; it reads the package's own docstrings (doctests included) as they are; installed here on demand.
# Every module is named (prune_core's __all__ would otherwise hide its subpackages).
PDOC := pdoc==16.0.0
PDOC_MODULES = $(shell $(PY) -c "import pkgutil, prune_core; print(' '.join(['prune_core'] + [m.name for m in \
	pkgutil.walk_packages(prune_core.__path__, 'prune_core.') if not m.name.endswith('__main__')]))")
docs: $(STAMP)
	@$(PY) -c "import pdoc" 2>/dev/null || $(PY) -m pip install --quiet --disable-pip-version-check "$(PDOC)"
	rm -rf docs/api
	TF_CPP_MIN_LOG_LEVEL=2 $(PY) -W "ignore:The module specification" -m pdoc --output-directory docs/api \
		$(PDOC_MODULES)
	@echo "API reference: docs/api/index.html"

bench: $(STAMP)
	$(PY) -m bench

clean-venv:
	rm -rf $(VENV)
