# Two entry points for a new user: `make run` and `make test`. Everything else is for developers.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8501
CLUSTER_PORT ?= 8500
REPLICAS ?= 3

.PHONY: run test lint format venv chromium nginx cluster bench bench-smoke soak clean

$(BIN)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

venv: $(BIN)/.installed

# Debian's Chromium drives the browser tests; Playwright's own browser download does not work offline.
chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium missing: run 'sudo apt-get install -y chromium' (browser tests will be skipped)"; fi; \
	fi

# Debian's nginx and its brotli module front `make cluster`; tests/deploy runs `nginx -t` and routes
# through it. Only the binary is used, with our own config. (On a host with systemd, Debian also
# starts its stock site on port 80: `systemctl disable --now nginx` if that is not wanted.)
nginx:
	@if ! command -v nginx >/dev/null && [ ! -x /usr/sbin/nginx ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && \
	    apt-get install -y -qq nginx libnginx-mod-http-brotli-filter >/dev/null; \
	  else echo "nginx missing: run 'sudo apt-get install -y nginx libnginx-mod-http-brotli-filter' (its tests will be skipped)"; fi; \
	fi

# python -m playground = streamlit run playground/app.py, with PyTorch imported before the server
# takes visitors and plotly.js copied into playground/static/.
run: venv
	OMP_NUM_THREADS=1 $(BIN)/python -m playground --server.port $(PORT)

test: venv chromium nginx
	$(BIN)/ruff check .
	OMP_NUM_THREADS=1 $(BIN)/python -m pytest -q

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: venv
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# REPLICAS playground processes on loopback ports behind nginx on CLUSTER_PORT (docs/deploy.md).
cluster: venv nginx
	OMP_NUM_THREADS=1 $(BIN)/python -m deploy.cluster --replicas $(REPLICAS) --port $(CLUSTER_PORT)

bench: venv chromium nginx
	OMP_NUM_THREADS=1 $(BIN)/python -m bench.run

bench-smoke: venv
	OMP_NUM_THREADS=1 $(BIN)/python -m bench.run --smoke

soak: venv chromium
	OMP_NUM_THREADS=1 $(BIN)/python -m bench.soak

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache test-artifacts
