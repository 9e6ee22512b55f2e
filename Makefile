# losslab: two commands on a fresh machine.
#   make lab    set up .venv and open JupyterLab on the notebooks
#   make test   set up .venv and run every test (unit, property, notebook structure, nbval)

PYTHON ?= python3
VENV := .venv
VPY := $(VENV)/bin/python
STAMP := $(VENV)/.requirements-installed
NOTEBOOKS := $(sort $(wildcard notebooks/[0-9][0-9]_*.ipynb))

.PHONY: lab test execute figs bench clean venv

venv: $(STAMP)

# (Re)create the environment when it is missing or older than requirements.txt.
$(STAMP): requirements.txt
	@if [ -d $(VENV) ]; then \
		echo "==> requirements.txt changed since $(VENV) was built: recreating it"; rm -rf $(VENV); fi
	@echo "==> creating $(VENV) with $$($(PYTHON) --version)"
	$(PYTHON) -m venv $(VENV)
	@echo "==> installing pinned requirements (torch is the local CPU build)"
	$(VPY) -m pip install --quiet --disable-pip-version-check --root-user-action=ignore -r requirements.txt
	@touch $(STAMP)
	@echo "==> environment ready: $(VENV)"

lab: $(STAMP)
	@echo "==> starting JupyterLab on notebooks/ (Ctrl-C to stop)"
	JUPYTER_CONFIG_PATH=$(CURDIR)/jupyter-config $(VENV)/bin/jupyter lab --notebook-dir=notebooks --ServerApp.allow_root=True

test: $(STAMP)
	@echo "==> running unit, property and notebook-structure tests, then nbval on every notebook"
	$(VPY) -m pytest

execute: $(STAMP)
	@echo "==> re-running every notebook top to bottom in a fresh kernel, saving outputs in place"
	$(VPY) tests/execute_notebooks.py $(NOTEBOOKS)

figs: $(STAMP)
	@echo "==> regenerating figures in figs/"
	cd notebooks && ../$(VPY) -m losslab.figures ../figs

bench: $(STAMP)
	@echo "==> timing every widget update in the kernel"
	PYTHONPATH=notebooks $(VPY) tests/bench/bench_widgets.py
	@echo "==> timing every notebook top to bottom in a fresh kernel"
	$(VPY) tests/bench/bench_notebooks.py $(NOTEBOOKS)

clean:
	@echo "==> removing $(VENV) and caches"
	rm -rf $(VENV) .pytest_cache .hypothesis .ruff_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
