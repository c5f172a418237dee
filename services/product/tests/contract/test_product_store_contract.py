"""One contract for every ProductStore and its UnitOfWork: memory, DynamoDB (moto) and Fauna.

Fauna runs when FAUNA_ENDPOINT and FAUNA_SECRET name a reachable FaunaDB (an admin secret:
the test creates a child database per tenant, and the store applies the service's schema to it
on first use, as it does for a tenant in production), or when Docker is available
(testcontainers starts FAUNA_IMAGE). Otherwise it is skipped and says so; the FQL it sends is
pinned in tests/adapters/test_fauna_fql.py."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest

from product_service.domain.errors import (
    ConcurrentChange,
    EventAlreadyProcessed,
    InvalidPageRequest,
    ProductNotFound,
)
from product_service.domain.events import (
    ProductCreated,
    ProductDeleted,
    ProductUpdated,
    StockReserved,
)
from product_service.domain.model import (
    OrderLine,
    PageRequest,
    Product,
    Reservation,
    ReservationStatus,
    StockMovement,
)
from product_service.ports.product_store import ProductStore
from product_service.ports.unit_of_work import UnitOfWorkFactory
from tenant_context import Cause, TenantContext

from .. import conftest  # noqa: TID252

FAUNA_SKIP_REASON = (
    "no FaunaDB reachable: set FAUNA_ENDPOINT and FAUNA_SECRET (an admin secret), or run "
    "where Docker is available for testcontainers; no FaunaDB can run on this machine"
)


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
    """Creates a child database for each tenant used; the store applies the schema itself."""

    def __init__(self, endpoint: str, secret: str) -> None:
        from product_service.adapters.fauna_databases import FaunaDatabases
        from product_service.adapters.fauna_product_store import FaunaProductStore

        self.endpoint, self.secret = endpoint, secret
        self.store = FaunaProductStore(
            FaunaDatabases(secret=secret, endpoint=endpoint, role="admin")
        )
        self.ready: set[str] = set()

    def prepare(self, tenant: TenantContext) -> None:
        from fauna import fql
        from fauna.client import Client

        if tenant.tenant_id in self.ready:
            return
        child = self.store.databases.child_database(tenant)
        Client(endpoint=self.endpoint, secret=self.secret).query(
            fql("Database.create({ name: ${name} })", name=child)
        )
        self.ready.add(tenant.tenant_id)


@dataclass(frozen=True)
class Backend:
    store: Any  # ProductStore
    uow: UnitOfWorkFactory
    prepare: Callable[[TenantContext], None]


@pytest.fixture(params=["memory", "dynamodb", "fauna"])
def backend(request: pytest.FixtureRequest) -> Backend:
    if request.param == "memory":
        store = request.getfixturevalue("memory_store")
        return Backend(store, conftest.uow_for(store), lambda tenant: None)
    if request.param == "dynamodb":
        store = request.getfixturevalue("dynamodb_store")
        return Backend(store, conftest.uow_for(store), lambda tenant: None)
    endpoint, secret = request.getfixturevalue("fauna_server")
    tenants = FaunaTenants(endpoint, secret)
    return Backend(tenants.store, conftest.uow_for(tenants.store), tenants.prepare)


@pytest.fixture
def store(backend: Backend) -> ProductStore:
    found: ProductStore = backend.store
    return found


@pytest.fixture
def uow(backend: Backend) -> UnitOfWorkFactory:
    return backend.uow


@pytest.fixture
def tenant_a(backend: Backend, make_tenant: Callable[..., TenantContext]) -> TenantContext:
    who = make_tenant()
    backend.prepare(who)
    return who


@pytest.fixture
def tenant_b(backend: Backend, make_tenant: Callable[..., TenantContext]) -> TenantContext:
    who = make_tenant()
    backend.prepare(who)
    return who


_counter = iter(range(10**9))


def _cause(event_id: str | None = None) -> Cause:
    return Cause(correlation_id=f"corr-{next(_counter)}", event_id=event_id)


def _product(stock: int = 5, name: str = "Mug") -> Product:
    return Product.new(name=name, sku="SKU-1", price=Decimal("9.99"), stock=stock)


def _create(uow: UnitOfWorkFactory, tenant: TenantContext, product: Product) -> None:
    with uow(tenant, _cause()) as work:
        work.products.add(product)
        work.emit(ProductCreated.of(product))
        work.commit()


def _replace(uow: UnitOfWorkFactory, tenant: TenantContext, product: Product) -> None:
    with uow(tenant, _cause()) as work:
        work.products.replace(product)
        work.emit(ProductUpdated.of(product))
        work.commit()


def _delete(uow: UnitOfWorkFactory, tenant: TenantContext, product_id: str) -> None:
    with uow(tenant, _cause()) as work:
        work.products.delete(product_id)
        work.emit(ProductDeleted(product_id=product_id))
        work.commit()


def test_a_created_product_reads_back_for_its_tenant_only(
    store: ProductStore, uow: UnitOfWorkFactory, tenant_a: TenantContext, tenant_b: TenantContext
) -> None:
    product = _product()

    _create(uow, tenant_a, product)

    assert store.get(tenant_a, product.id) == product
    assert store.get(tenant_b, product.id) is None


def test_listing_pages_through_every_product_of_the_tenant_and_no_other(
    store: ProductStore, uow: UnitOfWorkFactory, tenant_a: TenantContext, tenant_b: TenantContext
) -> None:
    mine = {_product(name=f"p{i}") for i in range(5)}
    for product in mine:
        _create(uow, tenant_a, product)
    _create(uow, tenant_b, _product(name="theirs"))

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
    store: ProductStore, uow: UnitOfWorkFactory, tenant_a: TenantContext, tenant_b: TenantContext
) -> None:
    for i in range(3):
        _create(uow, tenant_a, _product(name=f"p{i}"))
    token = store.list_products(tenant_a, PageRequest(limit=1)).next_token
    assert token is not None

    with pytest.raises(InvalidPageRequest):
        store.list_products(tenant_b, PageRequest(limit=1, next_token=token))
    with pytest.raises(InvalidPageRequest):
        store.list_products(tenant_a, PageRequest(limit=1, next_token="not-a-token!"))


def test_replacing_or_deleting_a_missing_product_is_not_found_and_writes_nothing(
    store: ProductStore, uow: UnitOfWorkFactory, tenant_a: TenantContext, tenant_b: TenantContext
) -> None:
    theirs = _product()
    _create(uow, tenant_b, theirs)

    with pytest.raises(ProductNotFound):
        _replace(uow, tenant_a, theirs)
    with pytest.raises(ProductNotFound):
        _delete(uow, tenant_a, theirs.id)

    assert store.get(tenant_a, theirs.id) is None
    assert store.get(tenant_b, theirs.id) == theirs


def test_replace_and_delete_change_the_product(
    store: ProductStore, uow: UnitOfWorkFactory, tenant_a: TenantContext
) -> None:
    product = _product()
    _create(uow, tenant_a, product)
    renamed = product.replaced(name="Cup", sku="SKU-2", price=Decimal("1.50"), stock=7)

    _replace(uow, tenant_a, renamed)
    assert store.get(tenant_a, product.id) == renamed

    _delete(uow, tenant_a, product.id)
    assert store.get(tenant_a, product.id) is None


def test_stock_of_names_unknown_products_none(
    store: ProductStore, uow: UnitOfWorkFactory, tenant_a: TenantContext
) -> None:
    product = _product(stock=4)
    _create(uow, tenant_a, product)

    assert store.stock_of(tenant_a, [product.id, "ghost"]) == {product.id: 4, "ghost": None}


def _reserve(
    uow: UnitOfWorkFactory,
    tenant: TenantContext,
    order_id: str,
    event_id: str,
    *moves: tuple[str, int],
) -> None:
    """The reservation of `moves` for the order, as reacting to event `event_id`: one commit,
    expecting the order to have no reservation yet (a save without a get)."""
    lines = tuple(OrderLine(pid, qty) for pid, qty in moves)
    with uow(tenant, _cause(event_id)) as work:
        for pid, qty in moves:
            work.products.move_stock(StockMovement(pid, -qty))
        work.reservations.save(Reservation(order_id, ReservationStatus.RESERVED, lines))
        work.emit(StockReserved(order_id=order_id, lines=[]))
        work.commit()


def test_a_stock_commit_applies_every_movement_the_reservation_and_the_marker(
    store: ProductStore, uow: UnitOfWorkFactory, tenant_a: TenantContext
) -> None:
    a, b = _product(stock=5), _product(stock=2)
    _create(uow, tenant_a, a)
    _create(uow, tenant_a, b)

    _reserve(uow, tenant_a, "o-1", "e-1", (a.id, 2), (b.id, 2))

    assert store.stock_of(tenant_a, [a.id, b.id]) == {a.id: 3, b.id: 0}
    assert store.reservation(tenant_a, "o-1") == Reservation(
        "o-1", ReservationStatus.RESERVED, (OrderLine(a.id, 2), OrderLine(b.id, 2))
    )
    assert store.is_processed(tenant_a, "e-1")


def test_a_movement_below_zero_cancels_the_whole_commit(
    store: ProductStore, uow: UnitOfWorkFactory, tenant_a: TenantContext
) -> None:
    a, b = _product(stock=5), _product(stock=1)
    _create(uow, tenant_a, a)
    _create(uow, tenant_a, b)

    with pytest.raises(ConcurrentChange):
        _reserve(uow, tenant_a, "o-1", "e-1", (a.id, 2), (b.id, 2))

    assert store.stock_of(tenant_a, [a.id, b.id]) == {a.id: 5, b.id: 1}
    assert store.reservation(tenant_a, "o-1") is None
    assert not store.is_processed(tenant_a, "e-1")


def test_a_movement_of_a_missing_product_cancels_the_whole_commit(
    store: ProductStore, uow: UnitOfWorkFactory, tenant_a: TenantContext
) -> None:
    a = _product(stock=5)
    _create(uow, tenant_a, a)

    with pytest.raises(ConcurrentChange):
        _reserve(uow, tenant_a, "o-1", "e-1", (a.id, 1), ("ghost", 1))

    assert store.stock_of(tenant_a, [a.id, "ghost"]) == {a.id: 5, "ghost": None}
    assert not store.is_processed(tenant_a, "e-1")


def test_a_processed_event_or_a_changed_reservation_cancels_the_commit(
    store: ProductStore, uow: UnitOfWorkFactory, tenant_a: TenantContext
) -> None:
    a = _product(stock=5)
    _create(uow, tenant_a, a)
    _reserve(uow, tenant_a, "o-1", "e-1", (a.id, 1))

    with pytest.raises(ConcurrentChange):  # same event again
        _reserve(uow, tenant_a, "o-2", "e-1", (a.id, 1))
    with pytest.raises(ConcurrentChange):  # o-1 already has a reservation
        _reserve(uow, tenant_a, "o-1", "e-2", (a.id, 1))

    assert store.stock_of(tenant_a, [a.id]) == {a.id: 4}


def test_an_event_processed_before_is_named_as_such(
    store: ProductStore, uow: UnitOfWorkFactory, tenant_a: TenantContext
) -> None:
    a = _product(stock=5)
    _create(uow, tenant_a, a)
    _reserve(uow, tenant_a, "o-1", "e-1", (a.id, 1))

    with pytest.raises(EventAlreadyProcessed):
        _reserve(uow, tenant_a, "o-2", "e-1", (a.id, 1))
    with uow(tenant_a, _cause("e-1")) as work, pytest.raises(EventAlreadyProcessed):
        work.commit()  # the marker alone

    assert store.reservation(tenant_a, "o-2") is None
    assert store.stock_of(tenant_a, [a.id]) == {a.id: 4}


def test_a_release_moves_the_reservation_on_from_what_it_expected(
    store: ProductStore, uow: UnitOfWorkFactory, tenant_a: TenantContext
) -> None:
    a = _product(stock=5)
    _create(uow, tenant_a, a)
    _reserve(uow, tenant_a, "o-1", "e-1", (a.id, 2))

    def release(event_id: str, expected: Reservation) -> None:
        with uow(tenant_a, _cause(event_id)) as work:
            work.reservations.get("o-1")
            work.products.move_stock(StockMovement(a.id, 2))
            work.reservations.save(Reservation("o-1", ReservationStatus.RELEASED, expected.lines))
            work.commit()

    reserved = store.reservation(tenant_a, "o-1")
    assert reserved is not None
    with uow(tenant_a, _cause("e-3")) as late:  # read while still RESERVED
        assert late.reservations.get("o-1") == reserved
        late.products.move_stock(StockMovement(a.id, 2))
        late.reservations.save(Reservation("o-1", ReservationStatus.RELEASED, reserved.lines))

        release("e-2", reserved)
        with pytest.raises(ConcurrentChange):  # the same release with another event id
            late.commit()

    assert store.stock_of(tenant_a, [a.id]) == {a.id: 5}
    assert not store.is_processed(tenant_a, "e-3")


def test_a_reservation_read_and_left_alone_is_still_held_to_what_was_read(
    store: ProductStore, uow: UnitOfWorkFactory, tenant_a: TenantContext
) -> None:
    a = _product(stock=5)
    _create(uow, tenant_a, a)
    _reserve(uow, tenant_a, "o-1", "e-1", (a.id, 2))

    with uow(tenant_a, _cause("e-2")) as stale:
        assert stale.reservations.get("o-1") is not None
        with uow(tenant_a, _cause("e-3")) as other:
            other.reservations.get("o-1")
            other.reservations.save(Reservation("o-1", ReservationStatus.RELEASED))
            other.commit()
        with pytest.raises(ConcurrentChange):
            stale.commit()

    assert not store.is_processed(tenant_a, "e-2")
    assert store.is_processed(tenant_a, "e-3")


def test_leaving_the_block_without_commit_writes_nothing(
    store: ProductStore, uow: UnitOfWorkFactory, tenant_a: TenantContext
) -> None:
    product = _product()

    with uow(tenant_a, _cause("e-1")) as work:
        work.products.add(product)
        work.emit(ProductCreated.of(product))

    assert store.get(tenant_a, product.id) is None
    assert not store.is_processed(tenant_a, "e-1")


def test_purge_deletes_the_tenant_and_leaves_the_others(
    store: ProductStore, uow: UnitOfWorkFactory, tenant_a: TenantContext, tenant_b: TenantContext
) -> None:
    gone, stays = _product(), _product()
    _create(uow, tenant_a, gone)
    _create(uow, tenant_b, stays)

    assert store.purge(tenant_a) >= 1

    assert store.get(tenant_a, gone.id) is None
    assert store.get(tenant_b, stays.id) == stays
