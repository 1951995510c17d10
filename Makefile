# xitu — every entry point a researcher needs. `make` alone runs the main job.
#   make          set up .venv, ingest data/raw, execute every notebook, write figures/
#   make test     the test suite (what CI runs through .ci/run)
#   make bench    benchmarks; results appended to benchmarks/RESULTS.md
#   make lab      JupyterLab on notebooks/ (edit a notebook, save, then `make` reruns it)
#   make strip    remove outputs from notebooks/*.ipynb (`make` does this too)
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip --disable-pip-version-check
export PYTHONHASHSEED := 0
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export MPLBACKEND := Agg

.PHONY: all setup setup-dev run ingest test bench lab strip clean
all: setup run

# Runtime environment: the exact pins of requirements/runtime.lock, no dependency resolution
# (keeps sentence-transformers/PyTorch out, see pyproject.toml).
$(VENV)/.runtime: requirements/runtime.lock pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "xitu needs Python 3.11, found " + sys.version' 
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --no-deps -r requirements/runtime.lock
	$(PIP) install --quiet --no-deps -e .
	touch $@

# Test/lab environment: test tools and JupyterLab; the optional sentence-transformers backend
# (CPU PyTorch) so its local-model loading code is tested; Debian's chromium for the browser test.
$(VENV)/.dev: $(VENV)/.runtime requirements/dev.lock $(wildcard requirements/embeddings.lock)
	$(PIP) install --quiet --no-deps -r requirements/dev.lock
	if [ -f requirements/embeddings.lock ]; then $(PIP) install --quiet --no-deps -r requirements/embeddings.lock; fi
	command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null); } \
	  || echo "warning: Debian's chromium is not installed (needs root: apt-get install chromium); the JupyterLab browser test will be skipped"
	touch $@

setup: $(VENV)/.runtime
setup-dev: $(VENV)/.dev

ingest: setup
	$(VENV)/bin/xitu ingest

run: setup
	$(VENV)/bin/xitu run

test: setup-dev
	$(PY) -m pytest -q -p no:cacheprovider

bench: setup-dev
	$(PY) -m benchmarks

# JupyterLab on the notebooks themselves: they are the source. Outputs that JupyterLab saves
# are stripped by `make`/`xitu run` and `make strip` before anything is committed; cell
# sources are never touched. --allow-root only when run as root (e.g. in a container).
lab: setup-dev
	$(VENV)/bin/jupyter lab --notebook-dir=notebooks $$( [ "$$(id -u)" = 0 ] && echo --allow-root )

strip: setup
	$(VENV)/bin/xitu notebooks strip

clean:
	rm -rf build .cache data/processed/*.csv
