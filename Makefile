# IDEAL: two commands from a fresh clone.
#   make demo   install (uv + .venv from uv.lock) and run the whole pipeline to a PDF
#   make test   install the same way and run the whole test suite
SHELL := /bin/bash
.DEFAULT_GOAL := help
# uv from PATH, else the one pip installs into python3 (run as `python3 -m uv`)
UV ?= $(shell command -v uv 2>/dev/null || echo python3 -m uv)
VENV := .venv
PY := $(VENV)/bin/python
export IDEAL_HOME ?= var
export AIRFLOW_HOME ?= $(CURDIR)/var/airflow
export AIRFLOW__CORE__DAGS_FOLDER ?= $(CURDIR)/dags
export AIRFLOW__CORE__LOAD_EXAMPLES ?= False
export GX_ANALYTICS_ENABLED ?= False

FUZZ_FILES ?= 100000
FUZZ_SUBMIT ?= 2000
FUZZ_API ?= 2000
.PHONY: fuzz help uv install syslibs chromium demo test lint reliability soak load serve airflow airflow-home clean bench

help:
	@echo "make demo   install and run the pipeline on demo data (SQLite + var/) to reports/<period>/briefing-es.pdf"
	@echo "make test   install and run the test suite (SQLite and the PostgreSQL on 127.0.0.1:5432)"
	@echo "make lint   ruff over the code and the tests (also part of make test)"
	@echo "make reliability  hostile inputs, crashes, concurrency, access: prints the table"
	@echo "make load   18 stewards at once against ideal serve (DB=sqlite or postgresql)"
	@echo "make fuzz   100,000 mutants of real files through the reading, submit_bytes and ideal serve (not in CI)"
	@echo "make soak   ten minutes of uploads and runs: no error, memory stable (not in CI)"
	@echo "make serve  start the web portal on http://127.0.0.1:8000/ (add accounts with .venv/bin/ideal user add)"
	@echo "make airflow  Airflow (standalone, development) on http://127.0.0.1:8080/ with the login printed; Ctrl-C stops it all"
	@echo "make clean  remove var/ and reports/ (generated data)"

uv:
	@$(UV) --version >/dev/null 2>&1 || { echo "uv not found: installing it with pip"; \
	  python3 -m pip install --quiet uv; }

# the virtual environment, exactly as pinned in uv.lock; its bytecode compiled once here: where
# PYTHONDONTWRITEBYTECODE is set (as on these machines) every process would otherwise compile
# the libraries' sources again (importing Great Expectations: 11.4 s -> 6.2 s)
$(VENV)/.installed: pyproject.toml uv.lock
	@$(MAKE) --no-print-directory uv
	$(UV) sync --frozen --python 3.11 --compile-bytecode
	@touch $@

install: $(VENV)/.installed syslibs

# WeasyPrint needs Pango (a system library); say how to get it instead of a traceback
syslibs:
	@$(PY) -c "import ctypes.util, sys; sys.exit(0 if ctypes.util.find_library('pango-1.0') and ctypes.util.find_library('pangoft2-1.0') else 1)" || { \
	  echo "Missing system library: Pango (needed by WeasyPrint to write PDFs)."; \
	  echo "  Debian/Ubuntu: sudo apt-get install -y libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core"; \
	  echo "  Fedora:        sudo dnf install pango"; \
	  echo "  macOS:         brew install pango"; \
	  exit 1; }

# Airflow home under var/: config pointing at dags/ and a SQLite metadata DB (development only)
airflow-home: install
	@mkdir -p $(AIRFLOW_HOME)
	@test -f $(AIRFLOW_HOME)/airflow.db || { echo "creating the Airflow home in $(AIRFLOW_HOME) (airflow db migrate)"; \
	  $(VENV)/bin/airflow db migrate >$(AIRFLOW_HOME)/migrate.log 2>&1 || { cat $(AIRFLOW_HOME)/migrate.log; exit 1; }; }

# Airflow standalone on this machine (AIRFLOW_PORT, default 8080): address and login printed,
# Ctrl-C stops every process it started
airflow: install airflow-home
	$(PY) scripts/airflow_dev.py

demo: install airflow-home
	$(VENV)/bin/ideal demo

# the portal's browser tests drive Debian's Chromium (Playwright's own browser download is not used)
CHROMIUM ?= /usr/bin/chromium
chromium:
	@test -x $(CHROMIUM) || { echo "installing Debian's Chromium for the browser tests (apt-get install chromium)"; \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  { $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; } || { \
	    echo "Could not install Chromium: install it (Debian/Ubuntu: apt-get install chromium) or point"; \
	    echo "IDEAL_CHROMIUM at a Chromium or Chrome binary."; exit 1; }; }

# ruff (pyflakes, isort, pyupgrade, bugbear; pyproject.toml) over the code and the tests
# ruff, and bandit's security checks: no medium or high finding (an accepted one carries a
# `# nosec <rule>` with the reason beside it)
lint: install
	$(VENV)/bin/ruff check ideal tests bench dags scripts
	$(VENV)/bin/bandit -q -r ideal dags scripts -ll

# the suite on every core (pytest-xdist): each test file on one worker, so a module's fixtures are
# built once; TEST_WORKERS=0 runs it in this process alone
TEST_WORKERS ?= auto
test: install chromium lint
	IDEAL_CHROMIUM=$${IDEAL_CHROMIUM:-$(CHROMIUM)} $(PY) -m pytest -q -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder

# the reliability and security suite alone, with its table (it also runs inside make test)
reliability: install
	$(PY) -m pytest -q tests/reliability

# the load scenario alone (bench/load.py; it also runs inside make reliability)
DB ?= sqlite
load: install
	$(PY) -m bench.load --db $(DB)

# mutants of the template and the real exports through the reading (under its limits),
# submit_bytes and a running server's API; figures in bench/results/<date>-fuzz.json (#46)
fuzz: install
	$(PY) -m bench.fuzz --files $(FUZZ_FILES) --submit $(FUZZ_SUBMIT) --api $(FUZZ_API)

# ten minutes of steady uploads and runs: no error, server memory within 10 % (not in CI)
soak: install
	$(PY) -m bench.soak --minutes 10

serve: install
	$(VENV)/bin/ideal serve

clean:
	rm -rf var reports/*/

SCALE ?= S
REPEAT ?= 2
# benchmarks at a named scale (S about 0.64 M observations, M about 2.56 M, L a 22 M municipal
# slice of three countries); results in bench/results/ (committed); see bench/ and the README
bench: install
	@if [ "$(SCALE)" = L ]; then $(PY) -m bench.lscale; \
	else $(PY) -m bench.run --scale $(SCALE) --repeat $(REPEAT); fi
