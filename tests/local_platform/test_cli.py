"""`saas-local` (what `make run` runs): it comes up, says what to call, and a signal stops it
with nothing left running."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from saas_local.cli import banner

from .conftest import FIXTURES, ROOT

INFO = {
    "api_url": "http://127.0.0.1:8080",
    "aws_endpoint_url": "http://127.0.0.1:5000",
    "region": "us-east-1",
    "event_bus_name": "saas",
    "user_pool_id": "us-east-1_pool",
    "user_pool_client_id": "client-1",
    "system_admin": {"username": "admin", "password": "secret-1"},
}


def test_the_banner_says_what_to_call_and_how():
    text = banner(INFO)

    for value in ("http://127.0.0.1:8080", "http://127.0.0.1:5000", "us-east-1_pool", "client-1"):
        assert value in text
    assert "admin / secret-1" in text
    assert 'curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:8080/tenants' in text


def test_the_banner_gives_the_consoles_url_or_says_why_there_is_none():
    served = banner({**INFO, "console_url": "http://127.0.0.1:8081"})
    missing = banner({**INFO, "console_url": None}, "not built (web/dist/index.html missing)")

    assert "console_url        http://127.0.0.1:8081" in served
    assert "(none: the console is not built (web/dist/index.html missing))" in missing


def test_build_console_reports_what_it_did(tmp_path, capsys):
    from saas_local.cli import main

    code = main(["--root", str(tmp_path), "build-console"])

    assert code == 0
    assert "nothing to build" in capsys.readouterr().err


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@pytest.mark.slow
def test_ctrl_c_stops_the_platform_and_everything_it_started(tmp_path):
    # Given saas-local running with one fixture service on free ports
    state = tmp_path / "platform.json"
    command = [
        sys.executable, "-m", "saas_local.cli", "--root", str(ROOT), "--port", "0",
        "--region-map", '{"us": "us-east-1"}', "--state-file", str(state),
        "--template", str(FIXTURES / "gatekeeper/template.yaml"),
        "--state-dir", str(tmp_path / "state"),
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 180
        while not state.exists() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        assert state.exists(), "the platform did not come up"
        info = json.loads(state.read_text())
        children = [
            int(p.name)
            for p in Path("/proc").iterdir()
            if p.name.isdigit() and _parent(p) == process.pid
        ]
        assert children  # at least moto's server
        # When it gets the signal
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=60) == 0
        printed = process.stdout.read()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stdout.close()
    # Then it had printed the banner, and nothing it started is left
    assert not any(_alive(pid) for pid in children)
    assert info["api_url"].startswith("http://127.0.0.1:")
    assert "SaaS platform running locally" in printed
    assert not state.exists()  # it no longer describes a running platform
    assert info["api_url"] in printed
    # and its data was saved on the way out, for the next start
    assert "started empty (fresh); kept in" in printed
    assert (tmp_path / "state" / "aws.pickle").stat().st_size > 0
    assert (tmp_path / "state" / "platform.pickle").stat().st_size > 0


def _parent(proc: Path) -> int:
    try:
        return int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError):
        return -1


def test_function_log_comes_from_the_flag_or_the_environment(monkeypatch, tmp_path):
    from saas_local.cli import _arguments

    monkeypatch.delenv("FUNCTION_LOG", raising=False)
    assert _arguments([]).function_log is None
    monkeypatch.setenv("FUNCTION_LOG", str(tmp_path / "env.log"))
    assert _arguments([]).function_log == tmp_path / "env.log"
    assert _arguments(["--function-log", "flag.log"]).function_log == Path("flag.log")
