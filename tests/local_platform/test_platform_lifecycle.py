"""Starting and stopping: the templates are the only wiring (a route or event source removed
from a template is gone locally), every region of the map gets every stack, and stopping leaves
no thread, process or port behind."""

from __future__ import annotations

import json
import os
import shutil
import socket
import threading
from pathlib import Path

import pytest
import yaml

from saas_local.testing import start_platform

from .conftest import FIXTURES, ROOT

pytestmark = pytest.mark.slow


def _children() -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == os.getpid():
                found.add(int(entry.name))
    return found


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _without(template: Path, function: str, event: str) -> None:
    """Remove one event of one function from a template (rewritten as plain YAML)."""
    text = template.read_text()
    # The short-form tags are only in values we keep; rewrite with the long forms.
    from saas_local.templates import load_template

    loaded = load_template(template)
    del loaded["Resources"][function]["Properties"]["Events"][event]
    template.write_text(yaml.safe_dump(loaded, sort_keys=False))
    assert text != template.read_text()


def test_start_on_free_ports_then_stop_leaves_nothing_and_removed_wiring_is_gone(tmp_path):
    # Given the shop fixture without its /broken route and without its poison-queue consumer
    shop = tmp_path / "shop"
    shutil.copytree(FIXTURES / "shop", shop)
    _without(shop / "template.yaml", "EchoFunction", "Broken")
    _without(shop / "template.yaml", "PoisonFunction", "Poison")
    threads_before = set(threading.enumerate())
    children_before = _children()
    templates = [FIXTURES / "gatekeeper/template.yaml", shop / "template.yaml"]
    regions = {"us": "us-east-1", "eu": "eu-west-1"}

    # When the platform starts in two regions on free ports
    state = tmp_path / "platform.json"
    with start_platform(
        ROOT, templates, region_map=regions, write_state=True, state_file=state
    ) as platform:
        # Then what to call is written down
        written = json.loads(state.read_text())
        assert written["api_url"] == platform.api_url
        assert written["aws_endpoint_url"] == platform.aws_endpoint_url
        assert written["region"] == "us-east-1"
        assert written["event_bus_name"] == "saas"
        assert written["user_pool_id"]
        assert written["user_pool_client_id"]
        assert set(written["system_admin"]) == {"username", "password"}
        ports = [
            int(platform.api_url.rsplit(":", 1)[1]),
            int(platform.aws_endpoint_url.rsplit(":", 1)[1]),
        ]
        # Then the removed route is unknown, the others are served
        assert platform.api("GET", "/broken").status == 404
        assert platform.api("GET", "/public").status == 200
        # And nothing polls the queue whose event source was removed
        polled = {getattr(p, "queue_arn", None) for p in platform.platform.pumps}
        assert not any(arn and arn.endswith(("PoisonQueue",)) for arn in polled)
        poison_arn = platform.platform.stacks[-1].deployed.get_att("PoisonQueue", "Arn")
        assert poison_arn not in polled
        assert any(arn and arn.endswith(":saas-order-events") for arn in polled)
        # And every stack is deployed in both regions
        for region in regions.values():
            cfn = platform.client("cloudformation", region)
            names = {s["StackName"] for s in cfn.describe_stacks()["Stacks"]}
            assert names == {"saas-platform", "saas-gatekeeper", "saas-shop"}
        assert _children() - children_before  # the handler ran in a worker process

    # Then nothing is left running or listening, and the state file is gone
    assert not state.exists()
    assert set(threading.enumerate()) - threads_before == set()
    assert _children() - children_before == set()
    assert not any(_listening(port) for port in ports)
