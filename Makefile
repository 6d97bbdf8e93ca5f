# Two commands: `make report` and `make test`. Both create .venv and install what they need.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
AUTHORITY ?= E06000015
SCHEDULE ?= schedules/example.yaml
WORKERS ?= 2

.PHONY: report schedule test install system-deps data lab dashboard clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev]"
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $(STAMP)

install: $(STAMP)

report: $(STAMP)
	$(BIN)/planning report --authority $(AUTHORITY) --out reports

# Every report in a schedule file (README: "Scheduled reports"); the example asks for PDFs.
schedule: $(STAMP) system-deps
	$(BIN)/planning report --schedule $(SCHEDULE) --out reports --workers $(WORKERS)

# Debian's Chromium drives the browser tests and PDF output (Playwright uses it via
# executable_path; it never downloads a browser of its own).
system-deps:
	@command -v chromium >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium fonts-dejavu-core >/dev/null; }

# Lint, format check and type check the package first (seconds), then every test; the
# import-linter contracts and the doctests run inside pytest (tests/test_layout.py, src/planning).
test: $(STAMP) system-deps
	$(BIN)/ruff check src
	$(BIN)/ruff format --check src
	$(BIN)/mypy
	$(BIN)/python -m pytest

# The planner's workbench: JupyterLab on this environment, notebooks 01-04 (README: "Notebooks").
lab: $(STAMP)
	$(BIN)/jupyter lab --ServerApp.ip=127.0.0.1 --notebook-dir=notebooks \
	  $$( [ "$$(id -u)" = 0 ] && echo --allow-root )

# The councillors' dashboard: Voila on 127.0.0.1, locked down (README: "Councillors' dashboard").
PORT ?= 8866
dashboard: $(STAMP)
	$(BIN)/planning dashboard --port $(PORT)

# Rebuild src/planning/data/ from ../shared/data (developers only; the result is committed).
data: $(STAMP)
	$(BIN)/python scripts/build_data.py --source ../shared/data --out src/planning/data

clean:
	rm -rf $(VENV) reports build src/*.egg-info
