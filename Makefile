# The two set-up commands: `make run` and `make test`. Everything installs into .venv from the
# lock files in locks/ (hashes checked), through a pinned uv kept in the user's cache folder
# (shared by every clone on the machine, so a fresh clone does not bootstrap it again).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.9
UV_HOME ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/shifangbang/uv-$(UV_VERSION)
UV := $(UV_HOME)/bin/uv
PORT ?= 8000
# The public address in QR codes, posters and links: the one `make run` listens on, unless
# BASE_URL is given (the deployed https:// address, say).
BASE_URL ?= http://127.0.0.1:$(PORT)
export FLASK_APP := shifangbang
export UV_PYTHON_DOWNLOADS := never

.PHONY: install install-dev run test test-fast lint format lock bench clean

$(UV):
	$(PYTHON) -m venv $(UV_HOME)
	$(UV_HOME)/bin/python -m pip install --quiet uv==$(UV_VERSION)

# One stamp per lock: a changed lock (a bumped chinese-calendar, say) reinstalls. Bytecode is
# compiled at install, so the server's first start neither pays for it nor prints Whoosh 2.7's
# compile-time SyntaxWarnings (docs/search.md).
$(VENV)/.installed-%: locks/%.txt pyproject.toml | $(UV)
	test -x $(BIN)/python || $(UV) venv --quiet --python $(PYTHON) $(VENV)
	$(UV) pip install --quiet --compile-bytecode --python $(BIN)/python --require-hashes -r locks/$*.txt
	$(UV) pip install --quiet --python $(BIN)/python --no-deps -e .
	touch $@

install: $(VENV)/.installed-prod       ## runtime with PostgreSQL and Redis drivers
install-dev: $(VENV)/.installed-dev    ## plus tests and lint

run: install
	BASE_URL='$(BASE_URL)' $(BIN)/flask setup
	@echo ""
	@echo "  食坊榜：http://127.0.0.1:$(PORT)/    监管后台：http://127.0.0.1:$(PORT)/admin/login"
	@echo "  二维码和链接指向：$(BASE_URL)/"
	@echo ""
	BASE_URL='$(BASE_URL)' $(BIN)/gunicorn --workers 2 --bind 127.0.0.1:$(PORT) --access-logfile - shifangbang.wsgi:app

test: install-dev
	$(BIN)/python -m pytest -q -p no:cacheprovider $(PYTEST_ARGS)

# The edit-test loop: no browser and no multi-server tests (CI always runs the whole suite).
test-fast: install-dev
	$(BIN)/python -m pytest -q -p no:cacheprovider -m "not browser and not scaleout" $(PYTEST_ARGS)

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Re-resolve the locks after editing pyproject.toml's ranges (needs the package index).
lock: | $(UV)
	$(UV) pip compile -q pyproject.toml --extra postgres --extra redis --universal --python-version 3.11 --generate-hashes -o locks/prod.txt
	$(UV) pip compile -q pyproject.toml --extra postgres --extra redis --extra test --extra lint --universal --python-version 3.11 --generate-hashes -o locks/dev.txt

bench: install-dev
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .venv* instance test-artifacts bench/results
