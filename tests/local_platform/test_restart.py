"""The local platform keeps its data across a stop and a start (PlatformConfig.state_dir): the
real templates, a tenant onboarded, a user, a product and an order; stopped and started again on
the same state, all of it is there and the saga still runs. A stop in the middle of a stream of
orders loses none that got a 202; a fresh start is empty.

The starts share one state folder, in the order of the tests (each test picks up what the one
before left).
"""

from __future__ import annotations

import json
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))

from tenant_e2e_kit import active_tenant, tenant_status

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "Restart-Passw0rd-1"
TIMEOUT = 120.0  # a bound on a loaded 2-core machine, not a timing
REGIONS = {"us": "us-east-1"}

pytestmark = pytest.mark.slow


@dataclass
class Kept:
    """What the first run made, for the runs after it to find."""

    admin: tuple[str, str] = ("", "")
    user_pool_id: str = ""
    tenant_id: str = ""
    username: str = ""
    user_token: str = ""
    product_id: str = ""
    order_id: str = ""
    events: int = 0


@pytest.fixture(scope="module")
def state_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("state")


@pytest.fixture(scope="module")
def kept() -> Kept:
    return Kept()


def _start(state_dir: Path, **options: Any) -> Any:
    from saas_local.testing import start_platform

    return start_platform(ROOT, region_map=REGIONS, console=False, state_dir=state_dir, **options)


def _tenant_events(platform: Any, tenant_id: str) -> list[dict[str, Any]]:
    table = platform.client("dynamodb")
    items: list[dict[str, Any]] = []
    pages = table.get_paginator("scan").paginate(TableName="saas-event-log")
    for page in pages:
        items += [item for item in page["Items"] if tenant_id in json.dumps(item)]
    return items


def _place(platform: Any, token: str, product_id: str) -> Any:
    return platform.api(
        "POST",
        "/orders",
        token=token,
        json={"lines": [{"product_id": product_id, "quantity": 1}]},
    )


def _status(platform: Any, token: str, order_id: str) -> str:
    answer = platform.api("GET", f"/orders/{order_id}", token=token)
    assert answer.status == 200, answer.text
    return str(answer.json()["status"])


def _settled(platform: Any, token: str, order_id: str) -> str:
    return str(
        platform.wait_until(
            lambda: (s := _status(platform, token, order_id)) != "PENDING" and s,
            timeout=TIMEOUT,
            interval=0.2,
        )
    )


def _all_orders(platform: Any, token: str) -> list[dict[str, Any]]:
    orders: list[dict[str, Any]] = []
    next_token = None
    while True:
        path = "/orders?limit=100" + (f"&next_token={next_token}" if next_token else "")
        page = platform.api("GET", path, token=token)
        assert page.status == 200, page.text
        orders += page.json()["items"]
        next_token = page.json()["next_token"]
        if not next_token:
            return orders


def _stock(platform: Any, token: str, product_id: str) -> int:
    answer = platform.api("GET", f"/products/{product_id}", token=token)
    assert answer.status == 200, answer.text
    return int(answer.json()["stock"])


def test_first_start_with_state_is_fresh_and_saves_at_stop(state_dir: Path, kept: Kept) -> None:
    with _start(state_dir) as platform:
        assert platform.info["state"] == {"kept": True, "dir": str(state_dir), "restored": False}
        root = platform.login(*platform.system_admin)
        kept.admin, kept.user_pool_id = platform.system_admin, platform.user_pool_id
        kept.tenant_id = active_tenant(platform, root, timeout=TIMEOUT)
        suffix = uuid.uuid4().hex[:8]
        platform.create_user(f"admin-{suffix}", PASSWORD, "TenantAdmin", kept.tenant_id)
        kept.username = f"user-{suffix}"
        platform.create_user(kept.username, PASSWORD, "TenantUser", kept.tenant_id)
        admin = platform.login(f"admin-{suffix}", PASSWORD)
        kept.user_token = platform.login(kept.username, PASSWORD)
        answer = platform.api(
            "POST",
            "/products",
            token=admin,
            json={"name": "Mug", "sku": f"MUG-{suffix}", "price": "12.50", "stock": 500},
        )
        assert answer.status == 201, answer.text
        kept.product_id = str(answer.json()["id"])
        answer = _place(platform, kept.user_token, kept.product_id)
        assert answer.status == 202, answer.text
        kept.order_id = str(answer.json()["id"])
        assert _settled(platform, kept.user_token, kept.order_id) == "CONFIRMED"
        kept.events = len(
            platform.wait_until(lambda: _tenant_events(platform, kept.tenant_id), timeout=TIMEOUT)
        )
    assert (state_dir / "aws.pickle").stat().st_size > 0
    assert (state_dir / "platform.pickle").stat().st_size > 0


def test_a_start_on_the_state_finds_everything_and_the_saga_runs(
    state_dir: Path, kept: Kept
) -> None:
    assert kept.order_id, "runs after test_first_start_with_state_is_fresh_and_saves_at_stop"
    with _start(state_dir) as platform:
        state = platform.info["state"]
        assert state["restored"] is True
        assert state["updated"] == []  # no template changed: nothing redeployed
        assert platform.system_admin == kept.admin
        assert platform.user_pool_id == kept.user_pool_id
        root = platform.login(*platform.system_admin)
        assert tenant_status(platform, root, kept.tenant_id) == "ACTIVE"
        stacks = platform.client("cloudformation").describe_stacks(
            StackName=f"tenant-{kept.tenant_id}"
        )["Stacks"]
        assert stacks[0]["StackStatus"].endswith("_COMPLETE")
        # A token issued before the stop still verifies (the pool's keys persist) ...
        assert _status(platform, kept.user_token, kept.order_id) == "CONFIRMED"
        # ... and the user logs in with the password set before it.
        token = platform.login(kept.username, PASSWORD)
        assert _stock(platform, token, kept.product_id) == 499
        assert len(_tenant_events(platform, kept.tenant_id)) >= kept.events
        answer = _place(platform, token, kept.product_id)
        assert answer.status == 202, answer.text
        assert _settled(platform, token, str(answer.json()["id"])) == "CONFIRMED"
        assert _stock(platform, token, kept.product_id) == 498
        platform.wait_until(
            lambda: len(_tenant_events(platform, kept.tenant_id)) > kept.events, timeout=TIMEOUT
        )


def test_a_stop_in_a_stream_of_orders_loses_no_accepted_order(state_dir: Path, kept: Kept) -> None:
    assert kept.order_id, "runs after test_first_start_with_state_is_fresh_and_saves_at_stop"
    accepted: list[str] = []
    refused: list[int] = []
    done = threading.Event()

    def client(platform: Any) -> None:
        while not done.is_set():
            try:
                answer = _place(platform, kept.user_token, kept.product_id)
            except OSError:  # the gateway is gone
                return
            if answer.status == 202:
                accepted.append(str(answer.json()["id"]))
            else:
                refused.append(answer.status)

    with _start(state_dir) as platform:
        assert platform.info["state"]["restored"] is True
        thread = threading.Thread(target=client, args=(platform,))
        thread.start()
        try:
            platform.wait_until(lambda: len(accepted) >= 15, timeout=TIMEOUT)
            platform.platform.stop()  # in the middle: orders in flight, the saga running
        finally:
            done.set()
            thread.join()
    assert len(accepted) >= 15
    with _start(state_dir) as platform:
        token = platform.login(kept.username, PASSWORD)
        deadline = time.monotonic() + TIMEOUT
        for order_id in accepted:  # each one is there and the saga decides it
            assert _settled(platform, token, order_id) == "CONFIRMED", order_id
        assert time.monotonic() < deadline
        # Every order the service holds (the accepted ones, and any written but not answered
        # before the stop) is decided, and each confirmed one took one unit, once.
        orders = platform.wait_until(
            lambda: (
                (o := _all_orders(platform, token))
                and all(order["status"] != "PENDING" for order in o)
                and o
            ),
            timeout=TIMEOUT,
        )
        assert {order["id"] for order in orders} >= set(accepted)
        confirmed = sum(order["status"] == "CONFIRMED" for order in orders)
        assert _stock(platform, token, kept.product_id) == 500 - confirmed


def test_a_fresh_start_is_empty(state_dir: Path, kept: Kept) -> None:
    assert kept.tenant_id, "runs after test_first_start_with_state_is_fresh_and_saves_at_stop"
    with _start(state_dir, fresh=True) as platform:
        assert platform.info["state"]["restored"] is False
        assert platform.system_admin != kept.admin  # a new SystemAdmin, a new password
        root = platform.login(*platform.system_admin)
        answer = platform.api("GET", f"/tenants/{kept.tenant_id}", token=root)
        assert answer.status == 404, answer.text
        stacks = platform.client("cloudformation").describe_stacks()["Stacks"]
        names = {stack["StackName"] for stack in stacks}
        assert "saas-order" in names  # deployed anew
        assert f"tenant-{kept.tenant_id}" not in names


@pytest.fixture(autouse=True)
def _no_leftover(state_dir: Path) -> Iterator[None]:
    yield
    assert not list(state_dir.glob("*.partial"))  # every save was written whole


def test_a_template_changed_while_stopped_is_updated_at_the_start(tmp_path: Path) -> None:
    import shutil
    import urllib.error
    import urllib.request

    from saas_local.testing import start_platform

    fixtures = Path(__file__).parent / "fixture_services"
    shop = tmp_path / "shop"
    shutil.copytree(fixtures / "shop", shop)
    templates = [fixtures / "gatekeeper/template.yaml", shop / "template.yaml"]
    options: dict[str, Any] = {"region_map": REGIONS, "console": False}
    options["state_dir"] = tmp_path / "state"

    def status(url: str) -> int:
        try:
            with urllib.request.urlopen(url, timeout=30) as answer:
                return int(answer.status)
        except urllib.error.HTTPError as error:
            with error:
                return int(error.code)

    with start_platform(ROOT, templates, **options) as platform:
        assert status(platform.api_url + "/broken") == 401  # declared, behind the authorizer
        queues = {u.rsplit("/", 1)[1] for u in platform.client("sqs").list_queues()["QueueUrls"]}
    template = shop / "template.yaml"
    source = template.read_text()
    removed = source.replace(
        "        Broken:\n          Type: Api\n"
        "          Properties: {RestApiId: !Ref ShopApi, Path: /broken, Method: GET}\n",
        "",
    )
    assert removed != source
    template.write_text(removed)
    with start_platform(ROOT, templates, **options) as platform:
        assert platform.info["state"]["restored"] is True
        assert platform.info["state"]["updated"] == ["saas-shop (us-east-1)"]
        assert status(platform.api_url + "/broken") == 404  # the route is gone
        assert status(platform.api_url + "/public") == 200
        urls = platform.client("sqs").list_queues()["QueueUrls"]
        assert {u.rsplit("/", 1)[1] for u in urls} == queues
    with start_platform(ROOT, templates, **options) as platform:  # saved as updated
        assert platform.info["state"]["updated"] == []
