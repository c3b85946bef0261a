"""The command line as a user meets it: help everywhere, clear errors, the sentiment command."""

import orjson
import pytest
from typer.testing import CliRunner

from streams.cli import app

runner = CliRunner()

COMMANDS = [
    [], ["worker"], ["kafka"], ["kafka", "up"], ["kafka", "down"], ["kafka", "status"], ["topics"],
    ["topics", "create"], ["topics", "describe"], ["simulate"], ["ingest"], ["sentiment"], ["backtest"],
    ["replay"], ["replay", "diff"], ["state"], ["state", "rebuild"], ["demo"],
    ["alerts"], ["alerts", "list"], ["alerts", "show"], ["alerts", "ack"], ["alerts", "note"], ["alerts", "resolve"],
]


@pytest.mark.parametrize("cmd", COMMANDS, ids=lambda c: " ".join(c) or "buzzwatch")
def test_every_command_has_help(cmd):
    result = runner.invoke(app, [*cmd, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output


def write_config(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('[[brands]]\nname = "United"\nhandles = ["@united"]\n[[brands]]\nname = "Lavéria"\n', encoding="utf-8")
    return path


def test_sentiment_writes_one_line_per_input_with_label_and_masks_brand_names(tmp_path):
    src = tmp_path / "in.jsonl"
    rows = [
        {"id": "1", "text": "@united thanks, great crew and smooth flight", "created_at": 1795428900},
        {"id": "2", "text": "@united lost my bag, worst airline ever", "created_at": 1795428900, "lang": "en"},
        {"id": "3", "text": "Service client de Lavéria nul, je suis furieux", "created_at": 1795428900},
        {"id": "4", "text": "Das ist ein ganz normaler deutscher Satz ohne Bedeutung", "created_at": 1795428900},
    ]
    src.write_bytes(b"\n".join(orjson.dumps(r) for r in rows) + b"\n{broken\n")
    out = tmp_path / "out.jsonl"
    result = runner.invoke(app, ["sentiment", str(src), "--out", str(out), "--config", str(write_config(tmp_path))])
    assert result.exit_code == 0, result.output
    lines = [orjson.loads(x) for x in out.read_bytes().splitlines()]
    assert len(lines) == 5  # aligned with the input, the broken line reported in place
    by_id = {x["id"]: x for x in lines if "id" in x}
    assert by_id["1"]["label"] == "positive" and by_id["2"]["label"] == "negative"
    assert by_id["3"]["lang"] == "fr" and by_id["3"]["label"] == "negative"
    assert by_id["4"]["label"] == "unscored"
    assert set(by_id["1"]) >= {"id", "lang", "compound", "label"}
    assert lines[-1]["error"] == "not_json" and lines[-1]["line"] == 5


def test_bad_config_is_a_one_line_error(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[pipeline]\nallowed_lateness = 3\n")
    result = runner.invoke(app, ["sentiment", "x.jsonl", "--out", "-", "--config", str(bad)])
    assert result.exit_code == 2
    assert "unknown key" in result.output and "allowed_lateness" in result.output


def test_backtest_counts_requires_a_brand(tmp_path):
    result = runner.invoke(app, ["backtest", "x.csv", "--out", str(tmp_path / "o"), "--format", "counts",
                                 "--config", str(write_config(tmp_path))])
    assert result.exit_code == 2
    assert "--brand" in result.output


def test_a_typo_in_the_detector_section_fails_every_command_at_start(tmp_path):
    from typer.testing import CliRunner

    from streams.cli import app

    cfg = tmp_path / "b.toml"
    cfg.write_text('[detector]\nwatch_scroe = 6\n\n[[brands]]\nname = "Acme"\n')
    src = tmp_path / "in.jsonl"
    src.write_text('{"id": "1", "text": "Acme", "created_at": 1795000000}\n')
    result = CliRunner().invoke(app, ["sentiment", str(src), "--out", str(tmp_path / "o.jsonl"), "--config", str(cfg)])
    assert result.exit_code == 2
    assert "watch_scroe" in result.output


def test_the_grafana_url_of_the_environment_is_the_one_in_alert_links(tmp_path):
    from buzzwatch.offline.simulate import generate_mentions
    from streams.batch import run_backtest
    from streams.settings import load_settings

    cfg = tmp_path / "b.toml"
    cfg.write_text('[detector]\nwarmup_minutes = 60\n\n[[brands]]\nname = "Acme"\nhandles = ["@acme"]\n')
    settings = load_settings(cfg, env={"BUZZWATCH_GRAFANA_URL": "https://grafana.example.org/"})
    assert settings.grafana_url == "https://grafana.example.org/"
    rows = generate_mentions(["Acme"], 1_795_000_000_000, 240, seed=1, rate_per_min=20,
                             bad_buzz={"brand": "Acme", "start_minute": 150, "ramp_minutes": 5,
                                       "peak_factor": 15, "negative_share": 0.9})
    src = tmp_path / "in.jsonl"
    src.write_bytes(b"\n".join(orjson.dumps(r) for r in rows) + b"\n")
    events = run_backtest(settings.core, str(src), tmp_path / "alerts.jsonl", "mentions", None)
    assert events, "the injected bad buzz raises an alert"
    assert all(e["evidence"]["grafana_url"].startswith("https://grafana.example.org/d/") for e in events)
