# Two commands do everything: `make run` and `make test`.
PYTHON   ?= python3
VENV     := .venv
PY       := $(VENV)/bin/python
STAMP    := $(VENV)/.requirements.stamp
PORT     ?= 8501
ADDRESS  ?= 127.0.0.1
CHROMIUM := /usr/bin/chromium
JOBS     ?= 2

.PHONY: run test test-backends test-ray wheel-check docs bench chromium clean-venv

# (Re)install only when the pins or the package's metadata changed since the last install: the exact pins of
# requirements.txt, then this project editable (pyproject.toml; no dependency resolution, no build isolation).
$(STAMP): requirements.txt pyproject.toml prune_core/__init__.py
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --no-compile -r requirements.txt
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
	$(PY) -m pytest -m "not browser" -n $(JOBS) --durations=15
	$(MAKE) --no-print-directory test-backends
	$(PY) -m pytest -m browser --durations=10
	$(PY) scripts/wheel_check.py

# The core suite again under the other Keras backends (TensorFlow ran above); tf_only tests skip. What touches the
# backend: scoring and gradients, masks applied and held while training (every kernel kind, the pruning callbacks,
# sparse training), compaction's rebuilt layers, reconstruction, and the cross-backend equality test. The graph rules,
# thresholds, rules and schedules are backend-free numpy over layer configs: TensorFlow's run covers them.
# Side by side ~100 s (eager JAX is slow: it gets the gradient, mask and training core; the conv-net scoring test and
# the rebuilt RNN/attention/grouped layers run under PyTorch, whose conv gradients are the other non-TF path).
TORCH_TESTS := tests/methods/test_criteria.py tests/methods/test_signals.py tests/methods/test_masks.py \
	tests/graph/test_surgery.py tests/graph/test_heads.py tests/graph/test_sequence_groups.py tests/train/test_fit.py tests/train/test_callbacks.py \
	tests/train/test_every_kernel_held.py tests/train/test_sparse.py tests/train/test_reconstruct.py \
	tests/train/test_regularize.py tests/test_backends_agree.py prune_core/methods/signals.py
JAX_TESTS := tests/methods/test_criteria.py tests/methods/test_signals.py tests/train/test_fit.py \
	tests/train/test_callbacks.py tests/train/test_every_kernel_held.py \
	tests/train/test_sparse.py::test_every_update_keeps_the_count_and_starts_grown_weights_at_zero \
	tests/test_backends_agree.py prune_core/methods/signals.py \
	--deselect tests/methods/test_signals.py::test_conv_net_scores_have_kernel_shapes_and_taylor_is_w_times_sensitivity
# The two backends run side by side, one process each (a worker's start — importing Keras on its backend — is
# most of a small suite's time); the PyTorch log is printed after the JAX one, and either failing fails the target.
test-backends: $(STAMP)
	@KERAS_BACKEND=torch $(PY) -m pytest -m "not browser" --basetemp=$(VENV)/tmp-torch $(TORCH_TESTS) \
	    > $(VENV)/torch-tests.log 2>&1 & torch=$$!; \
	  KERAS_BACKEND=jax $(PY) -m pytest -m "not browser" --basetemp=$(VENV)/tmp-jax $(JAX_TESTS); jax=$$?; \
	  wait $$torch; torch=$$?; echo "--- KERAS_BACKEND=torch"; cat $(VENV)/torch-tests.log; \
	  test $$jax -eq 0 && test $$torch -eq 0

# Sweeps on Ray (prune_core.experiments.executor): installs the optional Ray extra and runs its test module on a local
# Ray with 2 workers (about a minute; outside make test's 20-minute budget).
RAY := ray==2.60.0
test-ray: $(STAMP)
	$(PY) -m pip install --quiet --disable-pip-version-check --no-compile "$(RAY)"
	$(PY) -m pytest -p no:cacheprovider tests/experiments/test_executor_ray.py

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
