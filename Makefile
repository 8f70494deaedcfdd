# The course's commands. `make demo` is the instructor round trip; `make test` is the test suite.
# Every target installs what it needs through `setup`, which is idempotent.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
# nbgrader shells out to alembic, jupyter and the kernel: the venv's bin/ must come first.
export PATH := $(BIN):$(PATH)
STAMP := $(VENV)/.installed
# Headless runs (tests, grading) draw widgets as static figures; tests run in fast mode.
HEADLESS := LABUTILS_HEADLESS=1
FAST := LABUTILS_FAST=1
PYTEST_ARGS ?=

.PHONY: setup data lint test test-unit test-notebooks test-hub test-book book editions release demo grade hostile mutants lab bench clean help

help:
	@echo "make setup    venv + pinned packages + browser + data (idempotent)"
	@echo "make demo     instructor round trip on the sample submissions, prints scores"
	@echo "make test     lint, unit tests, notebooks (nbval, fast mode), nbgrader round trip, browser"
	@echo "make test-hub the course on a real JupyterHub: Unix users, Chromium, exchange (as root)"
	@echo "make grade    grade every submission of a course (COURSE=folder, GRADE_ARGS='-a 01_perceptron -j 2 --force')"
	@echo "make hostile  grade the hostile submissions (autograder/hostile/) and print what they got"
	@echo "make mutants  grade the mistake bank, alternatives and mutants (autograder/mistakes/)"
	@echo "make lab      JupyterLab for a student"
	@echo "make book     the executed course as a static site in build/book/ (BOOK_ARGS=--fast)"
	@echo "make editions write the editions of the bilingual notebooks, then check them"
	@echo "make release  regenerate release/ from source/"
	@echo "make bench    benchmark tables (bench/)"

setup: $(STAMP) data

$(STAMP): pyproject.toml scripts/install_browser.sh scripts/install_sandbox.sh scripts/install_hub.sh
	bash scripts/install_sandbox.sh
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[course,dev,book]'
	bash scripts/install_browser.sh $(VENV)
	bash scripts/install_hub.sh $(VENV)
	@touch $@

data: $(STAMP)
	$(BIN)/python -m labutils.data stage

test: setup lint
	$(HEADLESS) $(FAST) $(BIN)/python -m pytest tests course source -m "not book" \
	    --nbval-lax --nbval-current-env -p no:cacheprovider $(PYTEST_ARGS)

lint: setup
	$(BIN)/ruff check .
	# notebooks: no dead imports or undefined names (their prose-length lines are free)
	$(BIN)/ruff check course source --select F

test-unit: setup
	$(HEADLESS) $(BIN)/python -m pytest tests -m "not slow and not browser and not hub and not book" $(PYTEST_ARGS)

# The course on a real JupyterHub (tests/test_hub.py): needs root for the Unix users.
test-hub: setup
	$(HEADLESS) $(BIN)/python -m pytest tests/test_hub.py -m hub $(PYTEST_ARGS)

test-notebooks: setup
	$(HEADLESS) $(FAST) $(BIN)/python -m pytest course source --nbval-lax --nbval-current-env

release: setup
	$(HEADLESS) $(BIN)/python autograder/roundtrip.py release --root build/release

demo: release
	$(HEADLESS) $(BIN)/python autograder/roundtrip.py demo --root build/demo

# The course folder to grade: nbgrader's CourseDirectory.root (gradebook.db, source/, submitted/).
COURSE ?= $(CURDIR)
GRADE_ARGS ?=
grade: setup
	$(HEADLESS) $(BIN)/python autograder/grade.py --root $(COURSE) $(GRADE_ARGS)

hostile: setup
	$(HEADLESS) $(BIN)/python autograder/hostile/grade_hostile.py

# The graders graded: the mistake bank, correct alternatives, 30 mutants per assignment.
mutants: setup
	$(HEADLESS) $(BIN)/python autograder/mistakes/grade_mistakes.py

lab: setup
	$(BIN)/jupyter lab course

# The executed site: every lecture (full mode; BOOK_ARGS=--fast for a quick one) and the editions.
BOOK_ARGS ?=
book: setup
	$(BIN)/python scripts/build_book.py $(BOOK_ARGS)

# Builds the site in fast mode into build/book-test/ and reads it in Chromium.
test-book: setup
	$(BIN)/python -m pytest tests/test_book.py -m book $(PYTEST_ARGS)

# The Japanese (and any other) editions of the notebooks that declare one (labutils.edition).
editions: setup
	$(BIN)/python -m labutils.edition sync
	$(BIN)/python -m labutils.edition check
	$(BIN)/python -m labutils.glossary --check

bench: setup
	$(BIN)/python bench/conv.py
	$(BIN)/python bench/simpleconvnet_mnist.py
	$(BIN)/python bench/mnist.py
	$(HEADLESS) $(BIN)/python bench/autograde.py

clean:
	rm -rf build .pytest_cache
