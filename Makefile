# Two commands do everything on a fresh machine:
#   make grade   set up what grading needs (light), then grade the bundled example class
#   make test    set up everything (grading, tests, nbgrader and otter-grader), then run the kit's own tests
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# One stamp per level of set-up: grading only, then everything.
GRADE_STAMP := $(VENV)/.installed-grade
STAMP       := $(VENV)/.installed

.PHONY: setup setup-grade grade test build bench bench-scale bench-quick bench-diagnosis clean browser

# What grading needs, and nothing else: the kit and its runtime dependencies.
setup-grade: $(GRADE_STAMP)

# Everything: grading, plus the test tools and the ecosystem the exports are tested against.
setup: $(STAMP)

# Re-install only when the project's metadata changes; an editable install
# picks up code changes by itself.
# --no-compile: Python compiles each module when first imported; compiling all of
# them at install time would double the time of a light set-up.
$(GRADE_STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-compile -e .
	@# bubblewrap gives the grader's sandbox its strongest form (see README).
	@command -v bwrap >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	  (apt-get install -y -qq bubblewrap >/dev/null 2>&1 || (apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq bubblewrap >/dev/null 2>&1)) ; } || \
	  echo "note: bubblewrap is not installed; the grader will use its weaker sandbox (see README)"
	touch $@

$(STAMP): $(GRADE_STAMP)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test,ecosystem]'
	@# Byte-compile everything once (the light set-up skips it), so that no command or zygote
	@# compiles its imports again where PYTHONDONTWRITEBYTECODE is set.
	$(BIN)/python -m compileall -q -j 0 -x 'example_class' $(VENV)/lib autograder/rnnkit >/dev/null || true
	touch $@

grade: setup-grade
	$(BIN)/rnnkit grade

test: setup browser
	$(BIN)/python -m pytest -q

# Headless Chromium renders the class report in the tests (tests/browser.py);
# installed once, as root on Debian/Ubuntu, skipped when already there.
browser:
	@{ command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1 ; } || \
	  { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	  (apt-get install -y -qq chromium chromium-driver >/dev/null 2>&1 || (apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq chromium chromium-driver >/dev/null 2>&1)) ; } || \
	  echo "note: chromium is not installed; the browser test of the class report will be skipped (see README)"

build: setup-grade
	$(BIN)/rnnkit build

clean:
	rm -rf $(VENV) grades demo .pytest_cache .hypothesis

# Benchmarks (bench/results.md), not part of `make test`. bench: rnnkit against nbgrader and otter-grader
# on one class of 100 students (about 20 minutes); bench-scale: rnnkit from 10 to 1000 students.
bench: setup
	$(BIN)/python bench/grading.py

bench-scale: setup
	$(BIN)/python bench/grading.py --scale 10,100,1000

# bench-diagnosis: what diagnosis costs, the same class graded with every function correct and with a third failing
# (bench/diagnosis_cost.md; about a minute).
bench-diagnosis: setup
	$(BIN)/python bench/diagnosis_cost.py

# bench-quick: every part of the benchmark on 6 students (1 for otter), written to /tmp, never to bench/results.md:
# a check that it runs (a few minutes), not a measurement.
bench-quick: setup
	$(BIN)/python bench/grading.py --students 6 --otter-students 1 --results /tmp/rnnkit-bench-quick.md
