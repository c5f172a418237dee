"""The web console: its initial JavaScript (gzipped, what a first visit downloads before the
sign-in page shows) and the time from navigation to the tenants table shown, in Debian's
Chromium against the local platform (each sample a fresh browser context: nothing cached, the
SystemAdmin's session already in sessionStorage as after a sign-in)."""

from __future__ import annotations

import gzip
import json
import os
import re
import statistics
import time
from pathlib import Path
from typing import Any

from bench.report import Row, median_ms, p95_ms
from bench.templates import ROOT, fresh_function_log

DIST = ROOT / "web" / "dist"
CHROMIUM = Path("/usr/bin/chromium")
SAMPLES = int(os.environ.get("BENCH_CONSOLE_SAMPLES", "20"))
INITIAL_JS_GOAL_KB = 100.0
SESSION_KEY = "saas-console.session"  # web/src/session.ts
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def initial_scripts(dist: Path = DIST) -> list[Path]:
    """The scripts index.html loads before anything else: its module entry and the modules it
    preloads (the role pages are chunks loaded after sign-in, not counted)."""
    html = (dist / "index.html").read_text()
    sources = re.findall(r'<script[^>]+src="([^"]+\.js)"', html)
    sources += re.findall(r'<link[^>]+rel="modulepreload"[^>]+href="([^"]+\.js)"', html)
    return [dist / source.lstrip("/") for source in dict.fromkeys(sources)]


def gzipped_kb(paths: list[Path]) -> float:
    return sum(len(gzip.compress(p.read_bytes(), compresslevel=9)) for p in paths) / 1000


def _tokens(platform: Any) -> dict[str, str]:
    username, password = platform.system_admin
    answer = platform.client("cognito-idp").initiate_auth(
        ClientId=platform.user_pool_client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": username, "PASSWORD": password},
    )["AuthenticationResult"]
    return {
        "idToken": answer["IdToken"],
        "accessToken": answer["AccessToken"],
        "refreshToken": answer["RefreshToken"],
    }


def _time_to_tenants(browser: Any, url: str, session: str) -> float:
    context = browser.new_context()
    try:
        context.add_init_script(f"sessionStorage.setItem({SESSION_KEY!r}, {json.dumps(session)})")
        page = context.new_page()
        start = time.perf_counter()
        page.goto(url + "/tenants", wait_until="commit")
        page.locator('table[aria-label="Tenants"] tbody tr').first.wait_for(timeout=60_000)
        return time.perf_counter() - start
    finally:
        context.close()


def run() -> list[Row]:
    if not (DIST / "index.html").is_file():
        raise RuntimeError("web/dist is not built: make console")
    scripts = initial_scripts()
    size = gzipped_kb(scripts)
    rows = [
        Row(
            "console",
            "initial JS, gzipped (KB, not ms)",
            size,
            goal=f"<= {INITIAL_JS_GOAL_KB:.0f} KB",
            met=size <= INITIAL_JS_GOAL_KB,
            note=f"{', '.join(p.name for p in scripts)}; the role pages load after sign-in",
        )
    ]
    if not CHROMIUM.is_file():
        return [
            *rows,
            Row(
                "console", "navigation -> tenants table", float("nan"), note="no /usr/bin/chromium"
            ),
        ]
    from playwright.sync_api import sync_playwright

    from saas_local.testing import start_platform

    log = fresh_function_log()
    with (
        start_platform(
            ROOT, region_map={"us": "us-east-1"}, function_log=log, console=True
        ) as platform,
        sync_playwright() as playwright,
    ):
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        try:
            session = json.dumps(_tokens(platform))
            _time_to_tenants(browser, platform.console_url, session)  # functions warm
            samples = [
                _time_to_tenants(browser, platform.console_url, session) for _ in range(SAMPLES)
            ]
        finally:
            browser.close()
    return [
        *rows,
        Row(
            "console",
            f"navigation -> tenants table, median of {SAMPLES}",
            median_ms(samples),
            note=f"cold browser cache each time; stdev {statistics.stdev(samples) * 1000:.0f} ms",
        ),
        Row("console", f"navigation -> tenants table, p95 of {SAMPLES}", p95_ms(samples)),
    ]
