# Quickstart: `make demo` then `make test`. Every target installs what it needs first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The demo always lives in ./data, whatever SOP_HOME says: `make demo` and `make clean` must never
# touch a real planning folder a user exported as SOP_HOME.
DEMO_HOME := data
DEMO_CYCLE := 2026-11
# The demo runs the cycle before first, so that plan-vs-actual, the plan bridge and the KPI trends of the
# demo cycle's pack have an earlier locked plan to work from.
DEMO_PREVIOUS_CYCLE := 2026-10
UI_HOST ?= 127.0.0.1
UI_PORT ?= 3000
STAMP := $(VENV)/.installed
MANIFEST := dbt_project/target/manifest.json

.PHONY: help install manifest demo test test-fast ui validate readme clean constraints bench-accuracy bench-speed

help:
	@echo "make demo   install, write the demo data, run the $(DEMO_PREVIOUS_CYCLE) and $(DEMO_CYCLE) cycles, print a summary and the pack's path"
	@echo "make test   install, then run the test suite"
	@echo "make test-fast  every test but the end-to-end cycles (the inner loop)"
	@echo "make ui     Dagster UI on http://$(UI_HOST):$(UI_PORT) (SOP_HOME, default ./data; history in SOP_HOME/dagster)"
	@echo "make bench-accuracy  forecast accuracy on car parts, hospital and Tourism vs published numbers, then on an earlier window"
	@echo "make bench-speed     the forecast stage on 10,000 SKUs x 48 months vs AutoETS alone, then the demo's two cycles vs one (~25 min)"
	@echo "make clean  remove the virtualenv, dbt build files and the demo's $(DEMO_HOME)/"

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -c 'import sys; sys.exit("Python 3.11+ is required") if sys.version_info < (3, 11) else None'
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

# dbt parse needs no database; the manifest lets Dagster load the dbt assets.
manifest: $(STAMP)
	$(BIN)/sop prepare

demo: manifest
	rm -rf $(DEMO_HOME)/landing
	$(BIN)/sop demo-data --out $(DEMO_HOME)/landing --cycle $(DEMO_CYCLE)
	$(BIN)/sop run --cycle $(DEMO_PREVIOUS_CYCLE) --home $(DEMO_HOME) --data $(DEMO_HOME)/landing --brief
	$(BIN)/sop run --cycle $(DEMO_CYCLE) --home $(DEMO_HOME) --data $(DEMO_HOME)/landing

# The whole suite, on every core (pytest-xdist; pyproject.toml and docs/development.md, "How the suite runs").
test: manifest
	$(BIN)/pip check
	$(BIN)/python -m pytest

# The inner loop: every test but the end-to-end cycles (which `make test` runs too).
test-fast: manifest
	$(BIN)/python -m pytest -m "not e2e" -q

ui: manifest
	$(eval UI_HOME := $(or $(SOP_HOME),data))
	mkdir -p $(UI_HOME)/dagster
	test -f $(UI_HOME)/dagster/dagster.yaml || $(BIN)/python -c 'import sys; from sop_pipeline.cli import DAGSTER_YAML; open(sys.argv[1], "w").write(DAGSTER_YAML)' $(UI_HOME)/dagster/dagster.yaml
	PATH=$(abspath $(BIN)):$$PATH SOP_HOME=$(abspath $(UI_HOME)) DAGSTER_HOME=$(abspath $(UI_HOME))/dagster $(BIN)/dg dev -w workspace.yaml -h $(UI_HOST) -p $(UI_PORT)

validate: $(STAMP)
	$(BIN)/sop validate

# The reference tables in docs/ (inputs, outputs, KPI formulas, bridge causes) are generated from the code.
readme: $(STAMP)
	$(BIN)/python tools/readme_tables.py

# Benchmarks stay out of `make test`: they take minutes and report numbers rather than pass or fail.
# Results are appended to bench/results/<what>_<date>_<host>.md; keep the ones quoted in the README.
BENCH_RESULTS = bench/results/$(1)_$(shell date +%F)_$(shell hostname).md
BENCH_STAMP := $(VENV)/.bench-installed

$(BENCH_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -c constraints.txt -e ".[dev,bench]"
	touch $(BENCH_STAMP)

# Each set on its published holdout, then on the h months before it (--earlier): a window never looked at
# while the models were developed, so the second table is the clean out-of-sample check.
bench-accuracy: $(BENCH_STAMP)
	printf '# make bench-accuracy, %s, %s\n\n' "$$(date +%F)" "$$($(BIN)/python -c 'from bench.accuracy import machine; print(machine())')" >> $(call BENCH_RESULTS,accuracy)
	for set in carparts hospital tourism; do $(BIN)/python -m bench.accuracy $$set --results $(call BENCH_RESULTS,accuracy) || exit 1; done
	for set in carparts:12 hospital:12 tourism:24; do $(BIN)/python -m bench.accuracy $${set%%:*} --earlier $${set##*:} --results $(call BENCH_RESULTS,accuracy) || exit 1; done

bench-speed: manifest
	$(BIN)/python -m bench.speed --results $(call BENCH_RESULTS,speed)
	$(BIN)/python -m bench.cli_speed --results $(call BENCH_RESULTS,speed)
	$(BIN)/python -m bench.demo_speed --results $(call BENCH_RESULTS,speed)

# Regenerate the exact pins after changing pyproject.toml (name==version only, no addresses).
constraints:
	rm -rf /tmp/sop-constraints-venv && $(PYTHON) -m venv /tmp/sop-constraints-venv
	/tmp/sop-constraints-venv/bin/pip install --quiet ".[dev,bench]"
	{ head -4 constraints.txt; /tmp/sop-constraints-venv/bin/pip freeze --exclude sop-pipeline; } > constraints.new && mv constraints.new constraints.txt

clean:
	rm -rf $(VENV) dbt_project/target dbt_project/logs $(DEMO_HOME)
