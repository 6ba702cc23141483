"""Headless Chromium for the dashboard's browser tests: Debian's chromium and chromedriver,
found on PATH (or CHROMIUM / CHROMEDRIVER), driven by selenium. Nothing is downloaded."""

from __future__ import annotations

import os
import shutil

import pytest


def chromium_paths() -> tuple[str | None, str | None]:
    """(browser, driver) executables, or None where missing."""
    browser = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    driver = os.environ.get("CHROMEDRIVER") or shutil.which("chromedriver")
    return browser, driver


def require_chromium() -> tuple[str, str]:
    """The paths, or skip with the reason (fail under CI, where .ci/run installs them)."""
    browser, driver = chromium_paths()
    missing = [name for name, path in (("chromium", browser), ("chromedriver", driver)) if not path]
    try:
        import selenium  # noqa: F401
    except ImportError:
        missing.append("the selenium Python package (pip install -e '.[dev]')")
    if missing:
        reason = ("browser tests need " + " and ".join(missing)
                  + " (Debian: apt-get install -y chromium chromium-driver)")
        if os.environ.get("CI"):
            pytest.fail(reason + "; under CI they must run, not skip")
        pytest.skip(reason)
    assert browser and driver
    return browser, driver


def make_driver(browser: str, driver: str, width: int = 1440, height: int = 1000):
    """A headless Chromium session with the given window size."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                f"--window-size={width},{height}", "--hide-scrollbars", "--force-device-scale-factor=1"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(executable_path=driver), options=options)
