# The two commands of the README do the whole set-up on a fresh machine:
#   make run   virtualenv, install, migrate the embedded SQLite database, load the demo
#              network from fixtures/, serve on 127.0.0.1:8080
#   make test  virtualenv, install (and the system programs the tests drive), lint, type-check
#              the pure cores, run the suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
export EDIGATE_SERVER_DATA_DIR ?= var

.PHONY: run test lint bench system-deps clean fuzz

$(STAMP): setup.cfg pyproject.toml setup.py translators/mapping/_accel.c \
          translators/validation/_accel.c translators/cpython_slots.h
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

system-deps:
	@scripts/ensure-system-deps.sh

run: $(STAMP)
	$(BIN)/edigate db upgrade
	$(BIN)/edigate partners import fixtures/partners
	$(BIN)/edigate tokens import fixtures/operators.toml
	EDIGATE_DEMO_SIMULATE=$${EDIGATE_DEMO_SIMULATE:-true} \
	EDIGATE_SFTP_LISTEN=$${EDIGATE_SFTP_LISTEN:-127.0.0.1:2222} $(BIN)/edigate serve

test: $(STAMP) system-deps
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

bench: $(STAMP)
	for script in bench/*.py; do $(BIN)/python $$script --quick || exit 1; done

# Coverage-guided fuzzing (atheris, the 'fuzz' extra; without it a mutational loop runs the
# same properties): FUZZ_SECONDS in all, shared by the targets; prints executions and distinct
# failures, and keeps every failing input under tests/fuzz/regressions/.
FUZZ_SECONDS ?= 1800
fuzz: $(STAMP)
	$(BIN)/python -c 'import atheris' 2>/dev/null || $(BIN)/python -m pip install --quiet -e '.[fuzz]' \
		|| echo "atheris did not install: fuzzing without coverage feedback"
	$(BIN)/python fuzz/run.py --seconds $(FUZZ_SECONDS)

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache *.egg-info
