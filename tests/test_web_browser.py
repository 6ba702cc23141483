"""End-to-end tests of the web dashboard in a real headless browser (Debian's chromium and
chromedriver, driven by selenium; nothing is downloaded). Skipped with the reason when chromium
is missing, except under CI (CI=true), where .ci/run installs it and a skip would hide a gap.

Screenshots of three states go to a temporary directory, or to docs/images/ with
AUTOPILOT_SIM_SCREENSHOTS=1 (`make screenshots`). Responsiveness with 50 servers at 10x is
measured and printed (frame times from requestAnimationFrame, update latency of each poll);
only a very generous bound is asserted, so a loaded machine cannot make the test flake.
"""

from __future__ import annotations

import json
import os
import statistics
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from api_support import ADMIN, Raw, scenario, served, token
from webdriver_util import make_driver, require_chromium

from autopilot_sim.sim.runner import Simulation

ROOT = Path(__file__).resolve().parent.parent
WAIT = 20.0  # bound on every wait in the browser (seconds); never a timing assertion


@pytest.fixture(scope="module")
def browser() -> Any:
    paths = require_chromium()
    driver = make_driver(*paths, width=1440, height=1900)  # tall: the screenshots show the whole page
    driver.set_script_timeout(10)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if os.environ.get("AUTOPILOT_SIM_SCREENSHOTS") == "1":
        out = ROOT / "docs" / "images"
        out.mkdir(parents=True, exist_ok=True)
        return out
    return tmp_path_factory.mktemp("screenshots")


def wait(driver: Any, condition: Any, what: str) -> Any:
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, WAIT, poll_frequency=0.05).until(condition, f"waited {WAIT}s for {what}")


def by_id(driver: Any, element_id: str) -> Any:
    return driver.find_element("id", element_id)


def js(driver: Any, script: str, *args: Any) -> Any:
    return driver.execute_script(script, *args)


def ft_value(driver: Any) -> str:
    return by_id(driver, "ft-value").get_attribute("data-value") or ""


def events_of(driver: Any, kind: str) -> list[Any]:
    return driver.find_elements("css selector", f'#event-log li[data-kind="{kind}"]')


def test_live_crash_partition_heal_and_config_form(browser: Any, shots: Path) -> None:
    sc = scenario(servers=5, extra="autopilot: {update_interval: 1s}")
    with served(sc, speed=8.0, start_at="6s") as server:
        browser.get(server.url + "/")  # redirected to /ui/
        assert browser.current_url.endswith("/ui/")
        wait(browser, lambda d: ft_value(d) == "2", "failure tolerance 2 (5 healthy voters)")
        wait(browser, lambda d: len(d.find_elements("css selector", "#logs rect")) > 20, "the logs")
        # Raft messages in flight become moving dots between servers.
        wait(browser, lambda d: js(d, "return window.__dashboard.dots.length") > 0, "message dots")
        browser.save_screenshot(str(shots / "dashboard-live.png"))

        # Crash a follower with its button: the tolerance drops in the chart, the event is logged.
        leader = server.live.snapshot.leader
        victim = next(n for n in ("node1", "node2", "node3") if n != leader)
        by_id(browser, f"btn-crash-{victim}").click()
        wait(browser, lambda d: events_of(d, "crash"), "the crash in the event log")
        assert victim in events_of(browser, "crash")[0].text
        wait(browser, lambda d: ft_value(d) == "1", "failure tolerance 1 after the crash")
        points = js(browser, "return window.__dashboard.timeline.map(p => p[2])")
        assert 2 in points and points[-1] == 1
        assert browser.find_elements("css selector", "#ft-chart path.ft-line")
        row = browser.find_element("css selector", f'#servers tr[data-server="{victim}"] td[data-col="role"]')
        assert row.text.startswith("down")

        # Partition with the accessible group selectors (dragging sets the same state).
        from selenium.webdriver.support.ui import Select

        others = [n for n in ("node4", "node5") if n != leader]
        for name in others:
            Select(by_id(browser, f"group-{name}")).select_by_value("B")
        chips = [c.text for c in browser.find_elements("css selector", '.group[data-group="B"] .chip')]
        assert sorted(chips) == sorted(others)
        by_id(browser, "btn-partition").click()
        wait(browser, lambda d: events_of(d, "partition"), "the partition in the event log")
        wait(browser, lambda d: d.find_elements("css selector", "#diagram line.cut"), "cut links in the diagram")
        browser.save_screenshot(str(shots / "dashboard-partition.png"))
        by_id(browser, "btn-heal").click()
        wait(browser, lambda d: events_of(d, "heal"), "the heal in the event log")
        wait(browser, lambda d: not d.find_elements("css selector", "#diagram line.cut"), "no cut link after heal")

        # ServerStabilizationTime through the form (PUT with ?cas=), read back through the API.
        wait(browser, lambda d: by_id(d, "cfg-ServerStabilizationTime").get_attribute("value") == "10s",
             "the configuration form")
        field = by_id(browser, "cfg-ServerStabilizationTime")
        field.clear()
        field.send_keys("25s")
        stale_cas = by_id(browser, "cfg-cas").get_attribute("value")
        by_id(browser, "btn-config-save").click()
        wait(browser, lambda d: by_id(d, "config-result").text.startswith("200 true"), "the write's answer")
        raw = Raw(server)
        status, config = raw.json("GET", "/v1/operator/autopilot/configuration")
        assert status == 200 and config["ServerStabilizationTime"] == "25s"
        # A lost check-and-set race: the page shows Nomad's `false`.
        wait(browser, lambda d: by_id(d, "cfg-cas").get_attribute("value") != stale_cas, "the new ModifyIndex")
        js(browser, "document.getElementById('cfg-cas').value = arguments[0]", stale_cas)
        by_id(browser, "btn-config-save").click()
        wait(browser, lambda d: by_id(d, "config-result").text.startswith("200 false"), "the lost CAS answer")
        raw.close()


def test_acl_token_prompt(browser: Any) -> None:
    with served(scenario(acl=True), start_at="4s", paused=True) as server:
        browser.get(server.url + "/ui/")
        browser.execute_script("sessionStorage.clear()")
        browser.refresh()
        wait(browser, lambda d: by_id(d, "token-dialog").get_attribute("open") is not None, "the token prompt")
        by_id(browser, "token-input").send_keys(ADMIN)
        by_id(browser, "token-ok").click()
        wait(browser, lambda d: d.find_elements("css selector", "#servers tbody tr"), "the page with the token")
        assert js(browser, "return window.__dashboard.token") == ADMIN
        # Keyboard: the controls are reachable with Tab and carry names.
        assert by_id(browser, "btn-crash-node1").get_attribute("aria-label") == "Crash node1"
        from selenium.webdriver.common.action_chains import ActionChains
        from selenium.webdriver.common.keys import Keys

        wait(browser, lambda d: by_id(d, "btn-resume").is_enabled(), "Resume enabled (paused)")
        js(browser, "document.getElementById('btn-resume').focus()")
        ActionChains(browser).send_keys(Keys.TAB).perform()
        assert browser.switch_to.active_element.get_attribute("id") == "btn-step"
        ActionChains(browser).send_keys(Keys.ENTER).perform()  # Enter on Step advances the paused clock
        wait(browser, lambda d: server.live.snapshot.t_ns > 4 * 10**9, "a step from the keyboard")
        # Partition groups by dragging a chip (HTML5 drag and drop, dispatched as the browser would).
        js(browser, """
            const chip = document.querySelector('.chip[data-server="node3"]');
            const target = document.querySelector('.group[data-group="C"]');
            const dt = new DataTransfer();
            chip.dispatchEvent(new DragEvent('dragstart', {dataTransfer: dt, bubbles: true}));
            target.dispatchEvent(new DragEvent('dragover', {dataTransfer: dt, bubbles: true, cancelable: true}));
            target.dispatchEvent(new DragEvent('drop', {dataTransfer: dt, bubbles: true, cancelable: true}));
        """)
        assert by_id(browser, "group-node3").get_attribute("value") == "C"
        assert [c.text for c in browser.find_elements("css selector", '.group[data-group="C"] .chip')] == ["node3"]
        # Large text for a projector.
        by_id(browser, "btn-large").click()
        assert "large" in by_id(browser, "btn-large").find_element("xpath", "/html/body").get_attribute("class")
        assert by_id(browser, "btn-large").get_attribute("aria-pressed") == "true"
        by_id(browser, "btn-large").click()
        status = Raw(server).json("GET", "/v1/sim/time", headers=token(ADMIN))[0]
        assert status == 200
        browser.execute_script("sessionStorage.clear()")


def test_replay_scrub_shows_the_health_report_of_that_time(browser: Any, shots: Path, tmp_path: Path) -> None:
    from autopilot_sim.api.server import http_server
    from autopilot_sim.web.replay import ReplayApi, ReplayModel

    out = tmp_path / "run"
    Simulation(scenario(servers=5, duration="60s", events="- {at: 12s, crash: node1}\n- {at: 35s, restart: node1}")
               ).run().write(out)
    model = ReplayModel(out)
    model.simulate()
    httpd = http_server("127.0.0.1", 0, ReplayApi(model))
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        browser.get(f"http://127.0.0.1:{httpd.server_address[1]}/ui/")
        wait(browser, lambda d: by_id(d, "mode").text == "replay", "replay mode")
        wait(browser, lambda d: d.find_elements("css selector", "#servers tbody tr"), "the first frame")
        timeline = [json.loads(line) for line in (out / "timeline.jsonl").read_text().splitlines()]
        for seconds in (25, 5, 25):  # back and forth: the same report at the same time
            at = seconds * 10**9
            slider = by_id(browser, "scrub")
            js(browser, "arguments[0].value = arguments[1]; arguments[0].dispatchEvent(new Event('input'))",
               slider, str(at // 10**6))
            label = f"{seconds}s"
            wait(browser, lambda d, label=label: by_id(d, "scrub-out").text == label, f"the slider at {label}")
            expected = [line for line in timeline if line["t_ns"] <= at][-1]
            wait(browser, lambda d, health=expected["health"]: json.loads(
                by_id(d, "health-raw").get_attribute("textContent") or "null") == health,
                f"the health report of {expected['t']}")
            assert ft_value(browser) == str(expected["health"]["FailureTolerance"])
            down = browser.find_element("css selector", '#servers tr[data-server="node1"] td[data-col="role"]').text
            assert down.startswith("down") == (12 <= seconds < 35)
        browser.save_screenshot(str(shots / "dashboard-replay.png"))
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_fifty_servers_at_ten_times_speed_stay_responsive(browser: Any) -> None:
    sc = scenario(servers=50, extra="autopilot: {update_interval: 2s}")
    with served(sc, speed=10.0, start_at="5s") as server:
        browser.get(server.url + "/ui/")
        wait(browser, lambda d: len(d.find_elements("css selector", "#servers tbody tr")) == 50, "50 servers")
        js(browser, "window.__dashboard.perf.frameTimes = []; window.__dashboard.perf.updateLatencies = []")
        time.sleep(5.0)  # measure for five wall seconds (a measurement window, not an assertion)
        perf = js(browser, "return window.__dashboard.perf")
        lag = server.live.max_lag_ns
    frames, updates = perf["frameTimes"], perf["updateLatencies"]
    assert frames and updates

    def pct(xs: list[float], p: float) -> float:
        xs = sorted(xs)
        return xs[min(len(xs) - 1, int(p * len(xs)))]

    print(f"\n50 servers at 10x for 5 s: {len(frames)} frames, frame time median {statistics.median(frames):.1f} ms, "
          f"p95 {pct(frames, 0.95):.1f} ms, max {max(frames):.1f} ms; {len(updates)} view updates, latency median "
          f"{statistics.median(updates):.1f} ms, p95 {pct(updates, 0.95):.1f} ms; simulation at most "
          f"{lag / 1e6:.1f} ms behind the wall clock")
    assert statistics.median(frames) < 2000 and len(updates) >= 3  # very generous: the page did not freeze
