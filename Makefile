# annserve — the two fresh-machine commands are `make run` and `make test`.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-dev
RSTAMP := $(VENV)/.installed

.PHONY: run test lint typecheck pytest browser-deps bench-deps bench grpc-code migrate clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(RSTAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@ $(RSTAMP)

run: $(RSTAMP)
	$(BIN)/annserve migrate
	$(BIN)/annserve serve --host 0.0.0.0 --port 8000

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy core app

# The playground's browser test drives Debian's chromium (never a downloaded browser build).
CHROMIUM ?= /usr/bin/chromium
SUDO     := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
browser-deps:
	@test -x $(CHROMIUM) || { $(SUDO) apt-get update && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y chromium; }

# The serving benchmark's load generator (bench/predict_throughput.py) is Debian's wrk.
bench-deps:
	@command -v wrk >/dev/null || { $(SUDO) apt-get update && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y wrk; }

pytest: $(STAMP) browser-deps
	$(BIN)/pytest

test: lint typecheck pytest

bench: $(STAMP) bench-deps
	$(BIN)/python bench/train_vs_sklearn.py

# The gRPC messages (app/grpc/open_inference_pb2.py and .pyi) are committed; this regenerates them.
grpc-code: $(STAMP)
	cd app/grpc && ../../$(BIN)/python -m grpc_tools.protoc -I. --python_out=. --pyi_out=. \
		open_inference.proto

clean:
	rm -rf $(VENV) build *.egg-info .mypy_cache .ruff_cache .pytest_cache
