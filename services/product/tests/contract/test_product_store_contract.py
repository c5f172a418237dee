"""One contract for every ProductStore: memory, DynamoDB (moto) and Fauna.

Fauna runs when FAUNA_ENDPOINT and FAUNA_SECRET name a reachable FaunaDB (an admin secret:
the test creates a child database per tenant), or when Docker is available (testcontainers
starts FAUNA_IMAGE). Otherwise it is skipped and says so."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest

from product_service.domain.errors import ConcurrentChange, InvalidPageRequest, ProductNotFound
from product_service.domain.model import (
    OrderLine,
    PageRequest,
    Product,
    Reservation,
    ReservationStatus,
    StockMovement,
)
from product_service.ports.product_store import OutboxMessage, ProductStore, StockCommit
from tenant_context import TenantContext

FAUNA_SKIP_REASON = (
    "no FaunaDB reachable: set FAUNA_ENDPOINT and FAUNA_SECRET (an admin secret), or run "
    "where Docker is available for testcontainers; no FaunaDB can run on this machine"
)

FAUNA_COLLECTIONS = """
Collection.create({ name: "Product",
  indexes: { byPid: { terms: [{ field: ".pid" }] }, sortedByPid: { values: [{ field: ".pid" }] } },
  constraints: [{ unique: [".pid"] }] })
Collection.create({ name: "Reservation",
  indexes: { byOrderId: { terms: [{ field: ".order_id" }] } },
  constraints: [{ unique: [".order_id"] }] })
Collection.create({ name: "ProcessedEvent",
  indexes: { byEventId: { terms: [{ field: ".event_id" }] } },
  constraints: [{ unique: [".event_id"] }] })
Collection.create({ name: "Outbox", constraints: [{ unique: [".event_id"] }] })
null
"""


def _docker_available() -> bool:
    if shutil.which("docker") is None and not os.path.exists("/var/run/docker.sock"):
        return False
    try:
        import docker

        docker.from_env().ping()
    except Exception:
        return False
    return True


@pytest.fixture(scope="session")
def fauna_server() -> Iterator[tuple[str, str]]:
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
        host, port = server.get_container_host_ip(), server.get_exposed_port(8443)
        yield f"http://{host}:{port}", "secret"


class FaunaTenants:
    """Creates a child database with the product collections for each tenant used."""

    def __init__(self, endpoint: str, secret: str) -> None:
        from product_service.adapters.fauna_product_store import FaunaProductStore

        self.endpoint, self.secret = endpoint, secret
        self.store = FaunaProductStore(secret=secret, endpoint=endpoint, role="admin")
        self.ready: set[str] = set()

    def prepare(self, tenant: TenantContext) -> None:
        from fauna import fql
        from fauna.client import Client

        if tenant.tenant_id in self.ready:
            return
        child = self.store.scoped_secret(tenant).split(":")[1]
        Client(endpoint=self.endpoint, secret=self.secret).query(
            fql("Database.create({ name: ${name} })", name=child)
        )
        Client(endpoint=self.endpoint, secret=f"{self.secret}:{child}:admin").query(
            fql(FAUNA_COLLECTIONS)
        )
        self.ready.add(tenant.tenant_id)


@pytest.fixture(params=["memory", "dynamodb", "fauna"])
def backend(request: pytest.FixtureRequest) -> tuple[ProductStore, Callable[[TenantContext], None]]:
    if request.param == "memory":
        return request.getfixturevalue("memory_store"), lambda tenant: None
    if request.param == "dynamodb":
        return request.getfixturevalue("dynamodb_store"), lambda tenant: None
    endpoint, secret = request.getfixturevalue("fauna_server")
    tenants = FaunaTenants(endpoint, secret)
    return tenants.store, tenants.prepare


@pytest.fixture
def store(backend: tuple[ProductStore, Any]) -> ProductStore:
    return backend[0]


@pytest.fixture
def tenant_a(
    backend: tuple[ProductStore, Any], make_tenant: Callable[..., TenantContext]
) -> TenantContext:
    who = make_tenant()
    backend[1](who)
    return who


@pytest.fixture
def tenant_b(
    backend: tuple[ProductStore, Any], make_tenant: Callable[..., TenantContext]
) -> TenantContext:
    who = make_tenant()
    backend[1](who)
    return who


_counter = iter(range(10**9))


def _outbox(kind: str = "ProductCreated") -> OutboxMessage:
    n = next(_counter)
    return OutboxMessage(
        event_id=f"evt-{n}", source="saas.product", detail_type=kind, detail={"n": n}
    )


def _product(stock: int = 5, name: str = "Mug") -> Product:
    return Product.new(name=name, sku="SKU-1", price=Decimal("9.99"), stock=stock)


def test_a_created_product_reads_back_for_its_tenant_only(
    store: ProductStore, tenant_a: TenantContext, tenant_b: TenantContext
) -> None:
    product = _product()

    store.create(tenant_a, product, _outbox())

    assert store.get(tenant_a, product.id) == product
    assert store.get(tenant_b, product.id) is None


def test_listing_pages_through_every_product_of_the_tenant_and_no_other(
    store: ProductStore, tenant_a: TenantContext, tenant_b: TenantContext
) -> None:
    mine = {_product(name=f"p{i}") for i in range(5)}
    for product in mine:
        store.create(tenant_a, product, _outbox())
    store.create(tenant_b, _product(name="theirs"), _outbox())

    seen: list[Product] = []
    token = None
    pages = 0
    while True:
        page = store.list_products(tenant_a, PageRequest(limit=2, next_token=token))
        seen.extend(page.items)
        pages += 1
        token = page.next_token
        if token is None:
            break

    assert pages == 3
    assert set(seen) == mine
    assert len(seen) == len(mine)


def test_a_page_token_of_one_tenant_is_refused_for_another(
    store: ProductStore, tenant_a: TenantContext, tenant_b: TenantContext
) -> None:
    for i in range(3):
        store.create(tenant_a, _product(name=f"p{i}"), _outbox())
    token = store.list_products(tenant_a, PageRequest(limit=1)).next_token
    assert token is not None

    with pytest.raises(InvalidPageRequest):
        store.list_products(tenant_b, PageRequest(limit=1, next_token=token))
    with pytest.raises(InvalidPageRequest):
        store.list_products(tenant_a, PageRequest(limit=1, next_token="not-a-token!"))


def test_replacing_or_deleting_a_missing_product_is_not_found_and_writes_nothing(
    store: ProductStore, tenant_a: TenantContext, tenant_b: TenantContext
) -> None:
    theirs = _product()
    store.create(tenant_b, theirs, _outbox())

    with pytest.raises(ProductNotFound):
        store.replace(tenant_a, theirs, _outbox("ProductUpdated"))
    with pytest.raises(ProductNotFound):
        store.delete(tenant_a, theirs.id, _outbox("ProductDeleted"))

    assert store.get(tenant_a, theirs.id) is None
    assert store.get(tenant_b, theirs.id) == theirs


def test_replace_and_delete_change_the_product(
    store: ProductStore, tenant_a: TenantContext
) -> None:
    product = _product()
    store.create(tenant_a, product, _outbox())
    renamed = product.replaced(name="Cup", sku="SKU-2", price=Decimal("1.50"), stock=7)

    store.replace(tenant_a, renamed, _outbox("ProductUpdated"))
    assert store.get(tenant_a, product.id) == renamed

    store.delete(tenant_a, product.id, _outbox("ProductDeleted"))
    assert store.get(tenant_a, product.id) is None


def test_stock_of_names_unknown_products_none(store: ProductStore, tenant_a: TenantContext) -> None:
    product = _product(stock=4)
    store.create(tenant_a, product, _outbox())

    assert store.stock_of(tenant_a, [product.id, "ghost"]) == {product.id: 4, "ghost": None}


def _reserve(order_id: str, event_id: str, *moves: tuple[str, int]) -> StockCommit:
    lines = tuple(OrderLine(pid, qty) for pid, qty in moves)
    return StockCommit(
        processed_event_id=event_id,
        expected=None,
        reservation=Reservation(order_id, ReservationStatus.RESERVED, lines),
        movements=tuple(StockMovement(pid, -qty) for pid, qty in moves),
        outbox=(_outbox("StockReserved"),),
    )


def test_a_stock_commit_applies_every_movement_the_reservation_and_the_marker(
    store: ProductStore, tenant_a: TenantContext
) -> None:
    a, b = _product(stock=5), _product(stock=2)
    store.create(tenant_a, a, _outbox())
    store.create(tenant_a, b, _outbox())

    store.commit_stock(tenant_a, _reserve("o-1", "e-1", (a.id, 2), (b.id, 2)))

    assert store.stock_of(tenant_a, [a.id, b.id]) == {a.id: 3, b.id: 0}
    assert store.reservation(tenant_a, "o-1") == Reservation(
        "o-1", ReservationStatus.RESERVED, (OrderLine(a.id, 2), OrderLine(b.id, 2))
    )
    assert store.is_processed(tenant_a, "e-1")


def test_a_movement_below_zero_cancels_the_whole_commit(
    store: ProductStore, tenant_a: TenantContext
) -> None:
    a, b = _product(stock=5), _product(stock=1)
    store.create(tenant_a, a, _outbox())
    store.create(tenant_a, b, _outbox())

    with pytest.raises(ConcurrentChange):
        store.commit_stock(tenant_a, _reserve("o-1", "e-1", (a.id, 2), (b.id, 2)))

    assert store.stock_of(tenant_a, [a.id, b.id]) == {a.id: 5, b.id: 1}
    assert store.reservation(tenant_a, "o-1") is None
    assert not store.is_processed(tenant_a, "e-1")


def test_a_processed_event_or_a_changed_reservation_cancels_the_commit(
    store: ProductStore, tenant_a: TenantContext
) -> None:
    a = _product(stock=5)
    store.create(tenant_a, a, _outbox())
    store.commit_stock(tenant_a, _reserve("o-1", "e-1", (a.id, 1)))

    with pytest.raises(ConcurrentChange):  # same event again
        store.commit_stock(tenant_a, _reserve("o-2", "e-1", (a.id, 1)))
    with pytest.raises(ConcurrentChange):  # o-1 already has a reservation
        store.commit_stock(tenant_a, _reserve("o-1", "e-2", (a.id, 1)))

    assert store.stock_of(tenant_a, [a.id]) == {a.id: 4}


def test_a_release_moves_the_reservation_on_from_what_it_expected(
    store: ProductStore, tenant_a: TenantContext
) -> None:
    a = _product(stock=5)
    store.create(tenant_a, a, _outbox())
    store.commit_stock(tenant_a, _reserve("o-1", "e-1", (a.id, 2)))
    reserved = store.reservation(tenant_a, "o-1")
    assert reserved is not None
    release = StockCommit(
        processed_event_id="e-2",
        expected=reserved,
        reservation=Reservation("o-1", ReservationStatus.RELEASED, reserved.lines),
        movements=(StockMovement(a.id, 2),),
        outbox=(_outbox("StockReleased"),),
    )

    store.commit_stock(tenant_a, release)
    with pytest.raises(ConcurrentChange):  # the same release with another event id
        store.commit_stock(tenant_a, replace(release, processed_event_id="e-3"))

    assert store.stock_of(tenant_a, [a.id]) == {a.id: 5}


def test_purge_deletes_the_tenant_and_leaves_the_others(
    store: ProductStore, tenant_a: TenantContext, tenant_b: TenantContext
) -> None:
    gone, stays = _product(), _product()
    store.create(tenant_a, gone, _outbox())
    store.create(tenant_b, stays, _outbox())

    assert store.purge(tenant_a) >= 1

    assert store.get(tenant_a, gone.id) is None
    assert store.get(tenant_b, stays.id) == stays
