# Buzzwatch: two set-up commands on a fresh machine, `make demo` and `make test`; each installs
# what it needs (venv, Kafka jars from Maven Central, Java/Maven/Prometheus from apt if missing).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DEMO_SECONDS ?=
PYTEST_ARGS ?=
# Hook: make targets that `make test` runs after pytest (e.g. promtool checks). Add with
#   CHECK_TARGETS += promtool-check
# next to the target's own rule; empty by default.
CHECK_TARGETS ?=

.PHONY: venv jdk _apt kafka-jars system-deps test test-unit test-kafka bench demo kafka-up kafka-down clean

venv: $(STAMP)

# redone when pyproject.toml changes; the stamp is written only after a successful install
$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "python3.11 not found (apt-get install python3 python3-venv)"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); \
		echo "could not create $(VENV): on Debian, apt-get install python3-venv"; exit 1; }
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[dev]"
	touch $(STAMP)

# Java 17+ runs the broker, Maven resolves its jars (Debian 12: default-jre-headless is 17)
jdk:
	@command -v java >/dev/null 2>&1 && command -v mvn >/dev/null 2>&1 || \
		$(MAKE) --no-print-directory _apt PKGS="default-jre-headless maven"

kafka-jars: venv jdk
	$(PY) -m streams.kafka_local resolve

# Prometheus (promtool) and Alertmanager binaries for the rules and delivery tests; headless
# chromium and its driver for the alert page's browser tests
system-deps:
	@command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1 && \
		{ command -v prometheus-alertmanager >/dev/null 2>&1 || command -v alertmanager >/dev/null 2>&1; } || \
		$(MAKE) --no-print-directory _apt PKGS="prometheus prometheus-alertmanager"
	@command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1 || \
		$(MAKE) --no-print-directory _apt PKGS="chromium chromium-driver"

# apt-get install $(PKGS), non-interactively, as root or through sudo (called only when missing)
_apt:
	@echo "installing $(PKGS) (apt-get)"
	@SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	$$SUDO apt-get update -q && \
	DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q --no-install-recommends $(PKGS)

test: venv kafka-jars system-deps
	$(PY) -m pytest -q $(PYTEST_ARGS)
	$(if $(strip $(CHECK_TARGETS)),$(MAKE) --no-print-directory $(CHECK_TARGETS))

test-unit: venv
	$(PY) -m pytest -q -m "not kafka and not prometheus" $(PYTEST_ARGS)

test-kafka: venv kafka-jars
	$(PY) -m pytest -q -m kafka $(PYTEST_ARGS)

# Speed, size and memory figures on a real local broker (bench/run_bench.py; never part of
# `make test`): writes bench/results/latest.json. BENCH_ARGS="--quick" for a smaller run,
# "--only throughput,hot_brand" for some sections.
BENCH_ARGS ?=
bench: venv kafka-jars
	nice $(PY) bench/run_bench.py $(BENCH_ARGS)

demo: venv kafka-jars
	$(VENV)/bin/buzzwatch demo $(if $(DEMO_SECONDS),--seconds $(DEMO_SECONDS),)

# a local broker that outlives make (`buzzwatch kafka up|down` does the same)
kafka-up: venv kafka-jars
	$(PY) -m streams.kafka_local up

kafka-down:
	@test -x $(PY) && $(PY) -m streams.kafka_local down || true

clean:
	rm -rf .cache/buzzwatch/worker replays rejects.jsonl
