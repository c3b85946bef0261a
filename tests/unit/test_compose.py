"""docker-compose.yml cannot run here, so it is checked for consistency instead."""

from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]


def test_required_services_exist():
    assert {"kafka", "topics", "worker", "prometheus", "alertmanager", "grafana"} <= set(SERVICES)
    assert SERVICES["kafka"]["image"].startswith("apache/kafka:4.")


def test_images_are_pinned():
    for name, svc in SERVICES.items():
        if "image" in svc:
            assert ":" in svc["image"] and not svc["image"].endswith(":latest"), name


def test_bind_mounts_point_at_files_in_the_repo():
    for name, svc in SERVICES.items():
        for vol in svc.get("volumes", []):
            src = vol.split(":")[0]
            if src.startswith("./"):
                assert (ROOT / src).exists(), f"{name}: {src} does not exist"


def test_published_ports_are_unique_and_worker_has_none():
    ports = [p.split(":")[0] for svc in SERVICES.values() for p in svc.get("ports", [])]
    assert len(ports) == len(set(ports))
    assert "ports" not in SERVICES["worker"]  # scalable: --scale worker=N


# A value for each variable the deployment sets, to show that the worker honours it.
EXAMPLE_VALUES = {
    "BUZZWATCH_KAFKA": "kafka.example:9092",
    "BUZZWATCH_APP_ID": "other-app",
    "BUZZWATCH_CONFIG": str(ROOT / "config" / "buzzwatch.toml"),
    "BUZZWATCH_WEB_HOST": "0.0.0.0",
    "BUZZWATCH_WEB_PORT": "7001",
    "BUZZWATCH_PARTITIONS": "12",
    "BUZZWATCH_ALERTMANAGER_URL": "http://am.example:9093",
    "BUZZWATCH_WEBHOOK_URL": "https://hooks.example/T000",
    "BUZZWATCH_GRAFANA_URL": "https://grafana.example",
    "BUZZWATCH_DATA_DIR": "/var/lib/buzzwatch",
    "BUZZWATCH_TOPIC_PREFIX": "prod.",
    "BUZZWATCH_ALERTS_TOPIC": "alerts.custom",
    "BUZZWATCH_INSTANCE_ID": "worker-7",
}


def deployment_variables() -> set[str]:
    names = set()
    for name in ("worker", "topics"):
        names |= set(SERVICES[name].get("environment", {}))
    names |= {line.split("=")[0] for line in (ROOT / ".env.example").read_text().splitlines()
              if "=" in line and not line.startswith("#")}
    return names


@pytest.mark.parametrize("name", sorted(deployment_variables()))
def test_every_variable_the_deployment_sets_changes_the_settings(name, tmp_path):
    from streams.settings import load_settings

    config = tmp_path / "b.toml"
    config.write_text('[[brands]]\nname = "Acme"\n')
    assert name in EXAMPLE_VALUES, f"{name}: add an example value (and make sure the worker reads it)"
    base = load_settings(config, env={})
    changed = load_settings(config, env={name: EXAMPLE_VALUES[name]})
    if name == "BUZZWATCH_CONFIG":  # the file given wins over the env var: compare the path itself
        changed = load_settings(None, env={name: EXAMPLE_VALUES[name]})
        assert changed.config_path == Path(EXAMPLE_VALUES[name])
    else:
        assert changed != base, f"{name} is set by the deployment but changes nothing"


def test_prometheus_scrapes_the_worker_service_and_mounts_rules():
    prom = yaml.safe_load((ROOT / "deploy" / "prometheus" / "prometheus.yml").read_text())
    job = next(j for j in prom["scrape_configs"] if j["job_name"] == "buzzwatch-worker")
    assert job["dns_sd_configs"][0]["names"] == ["worker"]
    assert job["dns_sd_configs"][0]["port"] == 6066
    mounts = SERVICES["prometheus"]["volumes"]
    assert any(m.endswith(":/etc/prometheus/prometheus.yml:ro") for m in mounts)
    assert any(m.startswith("./deploy/prometheus/rules:") for m in mounts)


def test_grafana_gets_the_provisioning_and_the_dashboards():
    mounts = SERVICES["grafana"]["volumes"]
    assert "./dashboards/provisioning/datasources:/etc/grafana/provisioning/datasources:ro" in mounts
    provider = yaml.safe_load((ROOT / "dashboards/provisioning/dashboards/buzzwatch.yml").read_text())
    path = provider["providers"][0]["options"]["path"]
    assert any(m.startswith("./dashboards:") and m.split(":")[1] == path for m in mounts)


def test_dockerfile_builds_the_packages_the_worker_needs():
    docker = (ROOT / "Dockerfile").read_text()
    for part in ("buzzwatch", "streams", "agents", "config"):
        assert f"COPY {part}" in docker
    assert 'ENTRYPOINT ["buzzwatch"]' in docker
