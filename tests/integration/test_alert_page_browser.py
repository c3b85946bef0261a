"""The alert page in a real headless Chromium (Debian's chromium + chromium-driver, selenium):
the open alert is listed with its time left, hostile post text shows as text, an ack from the
CLI shows on the page, and the page's own Acknowledge button records an ack that the metrics
and the acks topic see."""

from __future__ import annotations

import os
import shutil
import time

import orjson
import pytest

from buzzwatch.timeutil import format_timestamp

from .harness import (
    buzzwatch, free_port, latest_by_key, metric, produce, read_topic, running_worker, scrape, unique, wait_for,
    worker_env,
)
from .oncall_helpers import lifecycle
from .test_delivery_outage import oncall_config

pytestmark = [pytest.mark.kafka, pytest.mark.browser]

HOSTILE = "<script>document.title='pwned'</script> Acme <b>stole</b> my money & <!channel>"


@pytest.fixture
def browser(tmp_path):
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    driver_path = shutil.which("chromedriver")
    if not binary or not driver_path:
        pytest.fail("chromium and chromium-driver are not installed (`make system-deps` installs them)", pytrace=False)
    options = Options()
    options.binary_location = binary
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,1500",
                f"--user-data-dir={tmp_path / 'chromium'}"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


def screenshot(driver, tmp_path, name: str) -> None:
    path = tmp_path / f"{name}.png"
    driver.save_screenshot(str(path))
    keep = os.environ.get("BUZZWATCH_SCREENSHOT_DIR")
    if keep:
        os.makedirs(keep, exist_ok=True)
        shutil.copy(path, os.path.join(keep, f"{name}.png"))


def test_alert_page_in_headless_chromium_shows_the_alert_and_acknowledges_it(tmp_path, kafka_bootstrap, browser):
    from selenium.webdriver.common.by import By

    prefix = unique("page") + "."
    port = free_port()
    env = worker_env(oncall_config(tmp_path), kafka_bootstrap, unique("page-app"), prefix, port, tmp_path / "data")
    buzzwatch("topics", "create", env=env)
    now = int(time.time() * 1000)
    onset = now - now % 60_000 - 2 * 3_600_000
    acme = lifecycle("opened", onset=format_timestamp(onset), detected=format_timestamp(onset + 5 * 60_000), text=HOSTILE)
    acme_up = lifecycle("escalated", onset=format_timestamp(onset), detected=format_timestamp(onset + 20 * 60_000),
                        severity="critical", text=HOSTILE)
    acme_up["evidence"]["observed_per_min"] = 140.0
    laveria = lifecycle("opened", brand="Lavéria", onset=format_timestamp(onset + 30 * 60_000),
                        detected=format_timestamp(onset + 33 * 60_000))
    produce(kafka_bootstrap, prefix + "buzz.alerts",
            [(0, e["brand"].encode(), orjson.dumps(e)) for e in (acme, acme_up, laveria)])
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "worker.log"
    with running_worker(env, log) as proc:
        wait_for(lambda: metric(scrape(port), "buzzwatch_alerts_open", brand="Lavéria") == 1, timeout=60,
                 what="alerts read", proc=proc, log_path=log)
        buzzwatch("alerts", "ack", laveria["alert_id"], "--by", "cli-carla", env=env)

        browser.get(base + "/alerts")
        rows = browser.find_elements(By.CSS_SELECTOR, "tr[data-alert-id]")
        assert [r.get_attribute("data-alert-id") for r in rows] == [acme["alert_id"], laveria["alert_id"]]
        assert "21h" in rows[0].text and "left" in rows[0].text  # 24 h deadline, 2 h after onset
        screenshot(browser, tmp_path, "alerts-index")

        browser.get(base + "/alerts/" + laveria["alert_id"].replace(":", "%3A"))
        assert "cli-carla" in browser.find_element(By.ID, "acked-by").text  # the CLI's ack shows on the page

        browser.get(base + "/alerts")
        browser.find_element(By.CSS_SELECTOR, f"tr[data-alert-id='{acme['alert_id']}'] a").click()
        assert browser.title != "pwned" and HOSTILE in browser.find_element(By.TAG_NAME, "blockquote").text
        assert browser.find_element(By.ID, "status").text.lower() == "open"
        assert browser.find_elements(By.CSS_SELECTOR, "svg polyline")
        screenshot(browser, tmp_path, "alert-open")

        browser.find_element(By.ID, "by").send_keys("dana")
        browser.find_element(By.ID, "note").send_keys("Statement drafted, CEO to post at 18:00")
        browser.find_element(By.ID, "ack").click()
        wait_for(lambda: "dana" in browser.find_element(By.ID, "acked-by").text, timeout=15, what="ack on the page")
        assert browser.find_element(By.ID, "status").text.lower() == "acknowledged"
        assert "Statement drafted" in browser.find_element(By.ID, "notes").text
        screenshot(browser, tmp_path, "alert-acknowledged")

        def both_acked():
            s = scrape(port)
            return s if (metric(s, "buzzwatch_alert_acknowledged", brand="Acme"),
                         metric(s, "buzzwatch_alert_acknowledged", brand="Lavéria")) == (1, 1) else None

        wait_for(both_acked, timeout=20, what="acks in metrics", proc=proc, log_path=log)
    acks = {k.decode(): orjson.loads(v) for k, v in latest_by_key(read_topic(kafka_bootstrap, prefix + "buzz.acks")).items()}
    assert acks[acme["alert_id"]]["acked_by"] == "dana" and acks[laveria["alert_id"]]["acked_by"] == "cli-carla"
