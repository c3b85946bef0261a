# Buzzwatch: two set-up commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DEMO_SECONDS ?=
PYTEST_ARGS ?=

.PHONY: venv kafka-jars system-deps test test-unit test-kafka demo bench clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[dev]"
	touch $(STAMP)

kafka-jars: venv
	$(PY) -m streams.kafka_local resolve

# Prometheus and Alertmanager binaries for the dashboard/rules tests (Debian packages).
system-deps:
	@if ! command -v promtool >/dev/null 2>&1 || ! (command -v prometheus-alertmanager >/dev/null 2>&1 || command -v alertmanager >/dev/null 2>&1); then \
		echo "installing prometheus and prometheus-alertmanager (apt)"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q prometheus prometheus-alertmanager; \
	fi

test: venv kafka-jars system-deps
	$(PY) -m pytest -q $(PYTEST_ARGS)

test-unit: venv
	$(PY) -m pytest -q -m "not kafka and not prometheus" $(PYTEST_ARGS)

test-kafka: venv kafka-jars
	$(PY) -m pytest -q -m kafka $(PYTEST_ARGS)

demo: venv kafka-jars
	$(VENV)/bin/buzzwatch demo $(if $(DEMO_SECONDS),--seconds $(DEMO_SECONDS),)

clean:
	rm -rf .cache/buzzwatch/worker replays rejects.jsonl
