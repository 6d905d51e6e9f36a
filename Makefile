# Two commands do all the set-up on a fresh machine: `make drill` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha256sum | cut -c1-12)

.PHONY: drill test lint services clean mutation

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test,lint]'
	@rm -f $(VENV)/.installed-*
	@touch $@

# `make drill` needs only what drctl itself needs; `make test` adds the test and lint tools.
RUNTIME_STAMP := $(VENV)/.runtime-$(shell cat pyproject.toml | sha256sum | cut -c1-12)

$(RUNTIME_STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e .
	@rm -f $(VENV)/.runtime-*
	@touch $@

venv: $(STAMP)

drill: $(RUNTIME_STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/drctl drill run --sandbox

services:
	bash scripts/provision-test-services.sh

# pytest exits 5 when no test ran; that is a failure here, as every non-zero exit is.
# One pytest-xdist worker per core; a file's tests stay on one worker (--dist loadfile), so
# its module fixtures (a drill run once, read by many tests) are set up once. Each worker
# starts the real services it needs on free ports of its own (docs/testing.md).
test: $(STAMP) services
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m pytest -q -n auto --dist loadfile

# Mutation testing (docs/testing.md): not part of `make test`. The modules are listed once, in
# pyproject.toml [tool.mutmut]; the run starts afresh (mutmut reuses stale copies otherwise) and
# ends with the kill ratio per module; it exits 1 below the 90 % goal.
MUTATION_STAMP := $(VENV)/.mutation-$(shell cat pyproject.toml | sha256sum | cut -c1-12)

$(MUTATION_STAMP): $(STAMP)
	$(BIN)/python -m pip install -q -e '.[test,lint,mutation]'
	@rm -f $(VENV)/.mutation-*
	@touch $@

# DRCTL_HYPOTHESIS_PROFILE=mutation: property tests skip shrinking (tests/conftest.py,
# docs/testing.md): the first failing example kills a mutant.
mutation: $(MUTATION_STAMP) services
	rm -rf mutants
	DRCTL_HYPOTHESIS_PROFILE=mutation PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/mutmut run
	$(BIN)/python scripts/mutation_report.py > mutants/report.txt; status=$$?; \
	cat mutants/report.txt; exit $$status

lint: $(STAMP)
	$(BIN)/ruff check orchestrator exporters tests benchmarks scripts playbooks/collections
	$(BIN)/ruff format --check orchestrator exporters
	$(BIN)/mypy
	# playbooks/.ansible-lint: production profile, module arguments checked (args), offline.
	cd playbooks && PATH="$(CURDIR)/$(BIN):$$PATH" ../$(BIN)/ansible-lint
	promtool check rules exporters/prometheus/rules.yml
	cd exporters/prometheus && promtool test rules rules_test.yml rules_test_long_windows.yml \
		rules_test_deadlines.yml rules_test_replication.yml
	amtool check-config exporters/prometheus/alertmanager.example.yml
	# promtool check metrics on a live scrape of `drctl metrics` (a catalog with every family)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m pytest -q -p no:cacheprovider \
		tests/integration/test_prometheus_rules.py -k live_scrape_of_drctl_metrics

clean:
	rm -rf $(VENV) .dr
