# Two commands do everything: `make run` and `make test`.
PYTHON   ?= python3
VENV     := .venv
PY       := $(VENV)/bin/python
STAMP    := $(VENV)/.requirements.stamp
PORT     ?= 8501
ADDRESS  ?= 127.0.0.1
CHROMIUM := /usr/bin/chromium
JOBS     ?= 2

.PHONY: run test bench chromium clean-venv

# (Re)install only when requirements.txt changed since the last install.
$(STAMP): requirements.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
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
test: $(STAMP) chromium
	$(PY) -m pytest -m "not browser" -n $(JOBS)
	$(PY) -m pytest -m browser

bench: $(STAMP)
	$(PY) -m bench

clean-venv:
	rm -rf $(VENV)
