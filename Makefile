# The two commands: `make run` starts circlebot, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint format bench clean messages messages-extract messages-update messages-compile

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(VENV)/.installed $@

run: $(VENV)/.installed
	$(BIN)/circlebot run

# The suite runs in two workers (pytest-xdist): it is mostly waiting on SQLite, PostgreSQL
# and loopback sockets, and halves on 2 CPUs. The long tests (.ci/run: pytest -m long) stay
# one at a time: they measure against the platforms' limits and kill processes on purpose.
test: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy
	$(BIN)/pytest -n 2

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Message catalogs (gettext, managed with Babel; see README "Languages"). The template
# bot/locale/circlebot.pot is extracted from the code (babel.cfg); English is written by
# hand in bot/locale/en, and `messages-update` brings every other language in line with
# the template (new keys empty, removed keys obsolete, no fuzzy guesses). The .mo files
# are build output (git-ignored): without them circlebot compiles the .po in memory.
LOCALES := bot/locale
CATALOGS = $(wildcard $(LOCALES)/*/LC_MESSAGES/circlebot.po)
TRANSLATIONS = $(filter-out en,$(patsubst $(LOCALES)/%/LC_MESSAGES/circlebot.po,%,$(CATALOGS)))

messages-extract: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg --no-default-keywords -k t -k n:1,2 \
		--no-location --sort-output -w 100 --project circlebot --version 1 \
		--copyright-holder "the circlebot authors" \
		--msgid-bugs-address https://github.com/circlebot/circlebot/issues \
		-o $(LOCALES)/circlebot.pot .

messages-update: messages-extract
	for lang in $(TRANSLATIONS); do \
		$(BIN)/pybabel update -i $(LOCALES)/circlebot.pot -d $(LOCALES) -D circlebot \
			-l $$lang --no-fuzzy-matching --ignore-pot-creation-date -w 100 || exit 1; \
	done

messages-compile: $(VENV)/.installed
	$(BIN)/pybabel compile -d $(LOCALES) -D circlebot --statistics

messages: messages-compile

bench: $(VENV)/.installed-dev
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) circlebot.db circlebot.db-wal circlebot.db-shm
