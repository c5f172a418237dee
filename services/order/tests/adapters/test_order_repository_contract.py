"""One contract for every OrderRepository / ProductCatalogue adapter: the memory fakes,
DynamoDB (moto) and Fauna.

Fauna runs when FAUNA_ENDPOINT and FAUNA_SECRET name a reachable FaunaDB (an admin secret: the
suite creates a child database per tenant with the order schema), or when Docker is available
(testcontainers starts FAUNA_IMAGE). Otherwise it is skipped, and the skip says why."""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws
from order_testkit import POOLED_TABLE, REGION_MAP, create_orders_table, tenant

from order_service.adapters.dynamodb_order_repository import DynamoDBOrderRepository
from order_service.adapters.dynamodb_product_catalogue import DynamoDBProductCatalogue
from order_service.adapters.dynamodb_tables import RegionalTables
from order_service.adapters.memory_order_repository import MemoryOrderRepository, MemoryStore
from order_service.adapters.memory_product_catalogue import MemoryProductCatalogue
from order_service.domain.errors import ConcurrentUpdate, EventAlreadyProcessed, InvalidPageToken
from order_service.domain.order import Order, OrderLine, OrderStatus
from order_service.ports.order_repository import OrderRepository
from order_service.ports.outbox import OutboxMessage
from order_service.ports.product_catalogue import ProductCatalogue
from tenant_context import Tier

PREMIUM = tenant("t-premium", tier=Tier.PREMIUM)


@dataclass
class Adapters:
    repository: OrderRepository
    catalogue: ProductCatalogue
    outbox: Any  # () -> list of event ids committed to the outbox


def _memory() -> Iterator[Adapters]:
    store = MemoryStore()
    yield Adapters(
        MemoryOrderRepository(store),
        MemoryProductCatalogue(store),
        lambda: [m.event_id for m in store.outbox],
    )


def _dynamodb() -> Iterator[Adapters]:
    with mock_aws():
        for region in set(REGION_MAP.values()):
            client = boto3.client("dynamodb", region_name=region)
            create_orders_table(client)
            create_orders_table(client, f"tenant-{PREMIUM.tenant_id}-orders")
        tables = RegionalTables(
            pooled_table=POOLED_TABLE,
            region_map=REGION_MAP,
            client_factory=lambda region: boto3.client("dynamodb", region_name=region),
        )

        def outbox() -> list[str]:
            client = boto3.client("dynamodb", region_name="us-east-1")
            items = client.scan(TableName=POOLED_TABLE)["Items"]
            return sorted(
                i["sk"]["S"].removeprefix("OUTBOX#")
                for i in items
                if i["sk"]["S"].startswith("OUTBOX#")
            )

        yield Adapters(DynamoDBOrderRepository(tables), DynamoDBProductCatalogue(tables), outbox)


FAUNA_SKIP_REASON = (
    "no FaunaDB reachable: set FAUNA_ENDPOINT and FAUNA_SECRET (an admin secret), or run where "
    "Docker is available for testcontainers; no FaunaDB can run on this machine"
)
FAUNA_TENANTS = ("t-acme", "t-premium", "t-other")


def _docker_available() -> bool:
    if shutil.which("docker") is None and not os.path.exists("/var/run/docker.sock"):
        return False
    try:
        import docker

        docker.from_env().ping()
    except Exception:
        return False
    return True


@contextlib.contextmanager
def _fauna_server() -> Iterator[tuple[str, str]]:
    endpoint, secret = os.environ.get("FAUNA_ENDPOINT"), os.environ.get("FAUNA_SECRET")
    if endpoint and secret:
        yield endpoint, secret
        return
    if not _docker_available():
        pytest.skip(FAUNA_SKIP_REASON)
    from testcontainers.core.container import DockerContainer
    from testcontainers.core.waiting_utils import wait_for_logs

    image = os.environ.get("FAUNA_IMAGE", "fauna/faunadb")
    with DockerContainer(image).with_exposed_ports(8443) as server:
        wait_for_logs(server, "FaunaDB is ready", timeout=120)
        yield f"http://127.0.0.1:{server.get_exposed_port(8443)}", "secret"


def _fauna() -> Iterator[Adapters]:
    with _fauna_server() as (endpoint, secret):
        from fauna import fql
        from fauna.client import Client

        from order_service.adapters.fauna_databases import FaunaTenantDatabases
        from order_service.adapters.fauna_order_repository import (
            COLLECTIONS,
            FaunaOrderRepository,
        )
        from order_service.adapters.fauna_product_catalogue import FaunaProductCatalogue

        admin = Client(endpoint=endpoint, secret=secret)
        databases = FaunaTenantDatabases(secret=secret, endpoint=endpoint, role="admin")
        names = [databases.database_name(tenant(t)) for t in FAUNA_TENANTS]
        for name in names:
            admin.query(
                fql("Database.byName(${n})?.delete()\nDatabase.create({ name: ${n} })", n=name)
            )
            child = Client(endpoint=endpoint, secret=f"{secret}:{name}:admin")
            for definition in COLLECTIONS:
                child.query(fql("Collection.create(${d})\nnull", d=definition))

        def outbox() -> list[str]:
            ids: list[str] = []
            for t in FAUNA_TENANTS:
                ids += databases.query(tenant(t), "Outbox.all().map(.event_id).toArray()")
            return sorted(ids)

        try:
            yield Adapters(
                FaunaOrderRepository(databases), FaunaProductCatalogue(databases), outbox
            )
        finally:
            for name in names:
                admin.query(fql("Database.byName(${n})?.delete()\nnull", n=name))


BACKENDS = {"memory": _memory, "dynamodb": _dynamodb, "fauna": _fauna}


@pytest.fixture(params=sorted(BACKENDS))
def adapters(request) -> Iterator[Adapters]:
    yield from BACKENDS[request.param]()


def message(event_id: str) -> OutboxMessage:
    return OutboxMessage(event_id, "saas.order", "OrderPlaced", {"metadata": {}, "data": {}})


PLACED = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)


def new_order(order_id: str = "o-1", placed_at: datetime | None = PLACED) -> Order:
    return Order.place(
        [OrderLine(product_id="p-1", quantity=2)], order_id=order_id, placed_at=placed_at
    )


@pytest.fixture(params=["basic", "premium"])
def ctx(request):
    return tenant("t-acme") if request.param == "basic" else PREMIUM


def test_an_added_order_reads_back_with_its_outbox_message(adapters, ctx):
    adapters.repository.add(ctx, new_order(), [message("e-1")])

    stored = adapters.repository.get(ctx, "o-1")

    assert stored is not None
    assert (stored.id, stored.status, stored.version) == ("o-1", OrderStatus.PENDING, 1)
    assert stored.lines == (OrderLine(product_id="p-1", quantity=2),)
    assert adapters.outbox() == ["e-1"]


def test_a_saved_change_commits_the_state_the_outbox_and_the_marker(adapters, ctx):
    adapters.repository.add(ctx, new_order(), [])
    order = adapters.repository.get(ctx, "o-1")
    order.reject("p-1: requested 2, available 0")

    adapters.repository.save(ctx, order, [message("e-2")], processed_event_id="cause-1")

    stored = adapters.repository.get(ctx, "o-1")
    assert (stored.status, stored.reason, stored.version) == (
        OrderStatus.REJECTED,
        "p-1: requested 2, available 0",
        2,
    )
    assert adapters.repository.is_processed(ctx, "cause-1")
    assert adapters.outbox() == ["e-2"]


def test_a_duplicate_event_commits_nothing(adapters, ctx):
    adapters.repository.add(ctx, new_order(), [])
    order = adapters.repository.get(ctx, "o-1")
    order.confirm()
    adapters.repository.save(ctx, order, [message("e-2")], processed_event_id="cause-1")
    again = adapters.repository.get(ctx, "o-1")
    again.cancel()

    with pytest.raises(EventAlreadyProcessed):
        adapters.repository.save(ctx, again, [message("e-3")], processed_event_id="cause-1")
    with pytest.raises(EventAlreadyProcessed):
        adapters.repository.mark_processed(ctx, "cause-1", [message("e-4")])

    assert adapters.repository.get(ctx, "o-1").status is OrderStatus.CONFIRMED
    assert adapters.outbox() == ["e-2"]


def test_a_stale_version_is_refused_and_commits_nothing(adapters, ctx):
    adapters.repository.add(ctx, new_order(), [])
    first = adapters.repository.get(ctx, "o-1")
    second = adapters.repository.get(ctx, "o-1")
    first.confirm()
    adapters.repository.save(ctx, first, [])
    second.cancel()

    with pytest.raises(ConcurrentUpdate):
        adapters.repository.save(ctx, second, [message("e-9")], processed_event_id="cause-9")

    assert adapters.repository.get(ctx, "o-1").status is OrderStatus.CONFIRMED
    assert not adapters.repository.is_processed(ctx, "cause-9")
    assert adapters.outbox() == []


def test_adding_an_existing_order_id_is_refused(adapters, ctx):
    adapters.repository.add(ctx, new_order(), [])

    with pytest.raises(ConcurrentUpdate):
        adapters.repository.add(ctx, new_order(), [message("e-1")])
    assert adapters.outbox() == []


def test_orders_are_listed_in_pages_and_only_the_tenants_own(adapters, ctx):
    other = tenant("t-other")
    for i in range(5):
        adapters.repository.add(ctx, new_order(f"o-{i}"), [])
    adapters.repository.add(other, new_order("o-theirs"), [])

    seen, token = [], None
    for _ in range(5):
        page = adapters.repository.list(ctx, limit=2, next_token=token)
        seen += [o.id for o in page.orders]
        token = page.next_token
        if token is None:
            break

    assert sorted(seen) == [f"o-{i}" for i in range(5)]
    assert adapters.repository.get(ctx, "o-theirs") is None


def test_orders_are_listed_newest_first_across_pages(adapters, ctx):
    # Given orders placed at different times, ids deliberately out of time order, two at once,
    # and one stored before orders carried their time
    placed = {
        "o-b": PLACED,
        "o-a": PLACED + timedelta(minutes=5),
        "o-c": PLACED + timedelta(minutes=5),
        "o-0": PLACED + timedelta(days=1, microseconds=1),
    }
    for order_id, at in placed.items():
        adapters.repository.add(ctx, new_order(order_id, at), [])
    adapters.repository.add(ctx, new_order("o-z", None), [])

    seen, token = [], None
    for _ in range(5):
        page = adapters.repository.list(ctx, limit=2, next_token=token)
        seen += [(o.id, o.placed_at) for o in page.orders]
        token = page.next_token
        if token is None:
            break

    # Then newest first, the same time by id (descending), the one without a time last,
    # and each order reads back with the time it was placed
    assert seen == [
        ("o-0", placed["o-0"]),
        ("o-c", placed["o-c"]),
        ("o-a", placed["o-a"]),
        ("o-b", placed["o-b"]),
        ("o-z", None),
    ]


def test_a_saved_order_keeps_its_place_in_the_list(adapters, ctx):
    adapters.repository.add(ctx, new_order("o-old", PLACED), [])
    adapters.repository.add(ctx, new_order("o-new", PLACED + timedelta(hours=1)), [])
    old = adapters.repository.get(ctx, "o-old")
    old.confirm()
    adapters.repository.save(ctx, old, [])

    page = adapters.repository.list(ctx, limit=10, next_token=None)

    assert [o.id for o in page.orders] == ["o-new", "o-old"]
    assert page.orders[1].placed_at == PLACED


@pytest.mark.parametrize("token", ["not base64!", "eyJ4IjoxfQ", "W10"])
def test_a_token_this_api_did_not_issue_is_refused(adapters, ctx, token):
    with pytest.raises(InvalidPageToken):
        adapters.repository.list(ctx, limit=2, next_token=token)


def test_another_tenants_token_is_refused(adapters, ctx):
    other = tenant("t-other")
    for i in range(3):
        adapters.repository.add(other, new_order(f"o-{i}"), [])
    token = adapters.repository.list(other, limit=1, next_token=None).next_token

    with pytest.raises(InvalidPageToken):
        adapters.repository.list(ctx, limit=1, next_token=token)


def test_the_product_projection_knows_created_and_forgets_deleted(adapters, ctx):
    adapters.catalogue.record_created(ctx, "p-1")
    adapters.catalogue.record_created(ctx, "p-2")
    adapters.catalogue.record_created(ctx, "p-2")
    adapters.catalogue.record_deleted(ctx, "p-2")
    adapters.catalogue.record_deleted(ctx, "p-3")
    adapters.catalogue.record_created(ctx, "p-3")

    assert adapters.catalogue.unknown(ctx, ["p-1", "p-2", "p-3", "p-4"]) == {"p-2", "p-3", "p-4"}
    assert adapters.catalogue.unknown(tenant("t-other"), ["p-1"]) == {"p-1"}


def test_purge_removes_the_tenants_items_and_nothing_else(adapters, ctx):
    other = tenant("t-other")
    for who in (ctx, other):
        adapters.repository.add(who, new_order(), [])
        adapters.repository.mark_processed(who, "cause-1")
        adapters.catalogue.record_created(who, "p-1")

    assert adapters.repository.purge(ctx) >= 3

    assert adapters.repository.get(ctx, "o-1") is None
    assert not adapters.repository.is_processed(ctx, "cause-1")
    assert adapters.catalogue.unknown(ctx, ["p-1"]) == {"p-1"}
    assert adapters.repository.get(other, "o-1") is not None
    assert adapters.catalogue.unknown(other, ["p-1"]) == set()
