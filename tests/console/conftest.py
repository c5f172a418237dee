"""Fixtures of the console's browser journeys: the built console (web/dist), Debian's Chromium
driven by Playwright (never a downloaded browser), the local platform with the real templates,
and a page visitor that saves a screenshot of every page and runs axe-core on it.

Screenshots go to build/console-screenshots/<journey>/ (CONSOLE_SCREENSHOTS sets another
folder): NN-<page>.png in the order the journey visited them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))

from console_kit import SCREENSHOTS, Console, Visitor  # noqa: E402

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _ensure_chromium() -> Path:
    """Debian's chromium, installed with apt-get when missing (as root); else a skip says why."""
    if CHROMIUM.is_file():
        return CHROMIUM
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        pytest.skip("/usr/bin/chromium is missing and apt-get cannot install it (not root)")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "update", "-qq"], check=False, env=env)
    done = subprocess.run(
        ["apt-get", "install", "-y", "-qq", "chromium"], env=env, capture_output=True, text=True
    )
    if done.returncode != 0 or not CHROMIUM.is_file():
        pytest.skip(f"chromium could not be installed with apt-get: {done.stderr[-500:]}")
    return CHROMIUM


@pytest.fixture(scope="session")
def console_dist() -> Path:
    """web/dist, built (npm ci, npm run build) by `make console` when its sources changed."""
    subprocess.run(["make", "--no-print-directory", "console"], cwd=ROOT, check=True)
    dist = ROOT / "web" / "dist"
    assert (dist / "index.html").is_file(), "make console wrote no web/dist/index.html"
    return dist


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    executable = _ensure_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(executable), args=CHROMIUM_FLAGS, headless=True
        )
        yield launched
        launched.close()


@pytest.fixture(scope="session")
def console(console_dist: Path) -> Iterator[Console]:
    from saas_local.testing import start_platform

    # The platform serves web/dist on an origin of its own with the config.json it writes (and
    # the content security policy of the deployed console); the APIs answer that origin's CORS.
    with start_platform(ROOT, region_map={"us": "us-east-1"}, console=True) as platform:
        assert platform.console_url, "the platform serves no console"
        yield Console(platform.console_url, platform)


@pytest.fixture
def page(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    opened = context.new_page()
    opened.set_default_timeout(30_000)
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    yield opened
    context.close()
    assert not errors, f"uncaught errors in the page: {errors}"


@pytest.fixture
def visit(page: Any, request: pytest.FixtureRequest) -> Visitor:
    folder = SCREENSHOTS / request.node.name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return Visitor(page, folder)
