# losslab: two commands on a fresh machine.
#   make lab    set up .venv and open JupyterLab on the notebooks
#   make test   set up .venv and run every test (unit, property, notebook structure, slides, site, browser,
#               the simulated Binder environment, nbval); `make test SKIP_BINDER=1` leaves Binder's out locally

PYTHON ?= python3
VENV := .venv
VPY := $(VENV)/bin/python
STAMP := $(VENV)/.requirements-installed
NOTEBOOKS := $(sort $(wildcard notebooks/[0-9][0-9]_*.ipynb))
# The slide decks' JavaScript (reveal.js, MathJax, require.js, jQuery, the widget manager), pinned in
# slides/package-lock.json and installed from npm into the build folder, never committed.
NPM_DIR := build/npm
NPM_STAMP := $(NPM_DIR)/.installed
# JupyterHub's proxy (configurable-http-proxy), pinned in deploy/package-lock.json, installed into build/.
HUB_NPM_DIR := build/hub-npm
HUB_NPM_STAMP := $(HUB_NPM_DIR)/.installed
CHP := $(CURDIR)/$(HUB_NPM_DIR)/node_modules/.bin/configurable-http-proxy
# The version matrix: `make test-torch TORCH=2.14.1` verifies the course on another torch release, in an
# environment of its own with every other pin of requirements.txt. The course's .venv stays on 2.13.0 (CPU).
TORCH ?= 2.14.1
TORCH_VENV := .venv-torch-$(TORCH)
TORCH_STAMP := $(TORCH_VENV)/.requirements-installed

.PHONY: lab test test-torch execute figs bench bench-classroom slides site links hub assignments clean venv

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

# requirements.txt with torch==$(TORCH): the same pins otherwise, recreated when requirements.txt changes.
$(TORCH_STAMP): requirements.txt
	@if [ -d $(TORCH_VENV) ]; then \
		echo "==> requirements.txt changed since $(TORCH_VENV) was built: recreating it"; rm -rf $(TORCH_VENV); fi
	@echo "==> creating $(TORCH_VENV): requirements.txt with torch==$(TORCH) (the build pip finds for it)"
	$(PYTHON) -m venv $(TORCH_VENV)
	sed 's/^torch==.*/torch==$(TORCH)/' requirements.txt > $(TORCH_VENV)/requirements.txt
	$(TORCH_VENV)/bin/python -m pip install --quiet --disable-pip-version-check --root-user-action=ignore \
		-r $(TORCH_VENV)/requirements.txt
	@touch $@

$(NPM_STAMP): slides/package.json slides/package-lock.json
	@echo "==> installing the slide decks' JavaScript (slides/package-lock.json) into $(NPM_DIR)"
	rm -rf $(NPM_DIR) && mkdir -p $(NPM_DIR)
	cp slides/package.json slides/package-lock.json $(NPM_DIR)/
	cd $(NPM_DIR) && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
	@touch $@

$(HUB_NPM_STAMP): deploy/package.json deploy/package-lock.json
	@echo "==> installing JupyterHub's proxy (deploy/package-lock.json) into $(HUB_NPM_DIR)"
	rm -rf $(HUB_NPM_DIR) && mkdir -p $(HUB_NPM_DIR)
	cp deploy/package.json deploy/package-lock.json $(HUB_NPM_DIR)/
	cd $(HUB_NPM_DIR) && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
	@touch $@

lab: $(STAMP)
	@echo "==> starting JupyterLab on notebooks/ (Ctrl-C to stop)"
	JUPYTER_CONFIG_PATH=$(CURDIR)/jupyter-config $(VENV)/bin/jupyter lab --notebook-dir=notebooks --ServerApp.allow_root=True

test: $(STAMP) $(NPM_STAMP) $(HUB_NPM_STAMP)
	@echo "==> running unit, property, notebook-structure, slide, site, Binder, hub and browser tests, then nbval on every notebook"
	LOSSLAB_NODE_MODULES=$(CURDIR)/$(NPM_DIR)/node_modules LOSSLAB_CHP=$(CHP) $(VPY) -m pytest $(if $(SKIP_BINDER),--skip-binder-env)

test-torch: $(TORCH_STAMP)
	@echo "==> the version matrix: nbval, the property tests, the curriculum examples and the behaviour table under torch $(TORCH)"
	$(TORCH_VENV)/bin/python tools/torch_matrix.py $(TORCH)

slides: $(STAMP) $(NPM_STAMP)
	@echo "==> building one offline reveal.js deck per notebook (the lecture's core cells) in build/slides/"
	$(VPY) slides/build_decks.py $(NPM_DIR)/node_modules build/slides $(NOTEBOOKS)

site: $(STAMP) $(NPM_STAMP)
	@echo "==> building the course website (index + every notebook with its outputs, offline) in build/site/"
	$(VPY) website/build_site.py $(NPM_DIR)/node_modules build/site

links: $(STAMP)
	@echo "==> rewriting every Binder, Colab and class-hub link and each notebook's Colab bootstrap from course.toml"
	$(VPY) tools/sync_readme.py
	$(VPY) tools/sync_colab.py $(NOTEBOOKS)

hub: $(STAMP) $(HUB_NPM_STAMP)
	@echo "==> starting a JupyterHub for a demo class on localhost (deploy/jupyterhub_config.py; Ctrl-C to stop)"
	LOSSLAB_CHP=$(CHP) $(VPY) deploy/start_hub.py

assignments: $(STAMP)
	@echo "==> generating the nbgrader course from the notebooks into build/assignments/"
	$(VPY) deploy/make_assignments.py build/assignments $(NOTEBOOKS)

bench-classroom: $(STAMP) $(HUB_NPM_STAMP)
	@echo "==> a class on a real JupyterHub: 5, then 20 students dragging a slider at once"
	LOSSLAB_CHP=$(CHP) $(VPY) tests/bench/bench_classroom.py --students 5
	LOSSLAB_CHP=$(CHP) $(VPY) tests/bench/bench_classroom.py --students 20

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
	@echo "==> cross-entropy at vocabulary scale: peak memory and time of four ways (each in a fresh process)"
	$(VPY) tests/bench/bench_vocabulary.py
	@echo "==> sizing the simulated Binder environment (built in build/binder-env if missing)"
	$(VPY) tests/bench/bench_binder_env.py

clean:
	@echo "==> removing $(VENV), the version matrix's environments, build/ and caches"
	rm -rf $(VENV) .venv-torch-* build .pytest_cache .hypothesis .ruff_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
