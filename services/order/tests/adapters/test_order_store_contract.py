"""One contract for every order store: the OrderRepository (reads, purge) and the unit of work
(writes) of the memory fakes, DynamoDB (moto) and Fauna.

Fauna runs when FAUNA_ENDPOINT and FAUNA_SECRET name a reachable FaunaDB (an admin secret: the
suite creates an empty child database per tenant, and the adapters apply the order schema to it
on first use), or when Docker is available (testcontainers starts FAUNA_IMAGE). Otherwise it is
skipped, and the skip says why."""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from moto import mock_aws
from order_testkit import POOLED_TABLE, REGION_MAP, create_orders_table, scoped_tables, tenant

from order_service.adapters.dynamodb_order_repository import DynamoDBOrderRepository
from order_service.adapters.dynamodb_unit_of_work import DynamoDBUnitOfWorkFactory
from order_service.adapters.memory_order_repository import MemoryOrderRepository, MemoryStore
from order_service.adapters.memory_unit_of_work import MemoryUnitOfWorkFactory
from order_service.domain.errors import ConcurrentUpdate, EventAlreadyProcessed, InvalidPageToken
from order_service.domain.events import OrderConfirmed
from order_service.domain.order import Order, OrderLine, OrderStatus
from order_service.ports.order_repository import OrderRepository
from order_service.ports.unit_of_work import UnitOfWorkFactory
from tenant_context import Cause, TenantContext, Tier

PREMIUM = tenant("t-premium", tier=Tier.PREMIUM)


@dataclass
class Adapters:
    repository: OrderRepository
    unit_of_work: UnitOfWorkFactory
    outbox: Callable[[], list[str]]  # the detail-types committed to the outbox, sorted

    def place(self, ctx: TenantContext, order: Order) -> None:
        with self.unit_of_work(ctx, Cause(correlation_id="c-1")) as uow:
            uow.orders.add(order)
            uow.commit()

    def change(
        self, ctx: TenantContext, order_id: str, how: Callable[[Order], None], cause: Cause
    ) -> None:
        with self.unit_of_work(ctx, cause) as uow:
            order = uow.orders.get(order_id)
            assert order is not None
            how(order)
            uow.commit()


def _memory() -> Iterator[Adapters]:
    store = MemoryStore()
    yield Adapters(
        MemoryOrderRepository(store),
        MemoryUnitOfWorkFactory(store),
        lambda: sorted(m.detail_type for m in store.outbox),
    )


def _dynamodb() -> Iterator[Adapters]:
    with mock_aws():
        for region in set(REGION_MAP.values()):
            client = boto3.client("dynamodb", region_name=region)
            create_orders_table(client)
            create_orders_table(client, f"tenant-{PREMIUM.tenant_id}-orders")
        tables = scoped_tables()

        def outbox() -> list[str]:
            client = boto3.client("dynamodb", region_name="us-east-1")
            items = client.scan(TableName=POOLED_TABLE)["Items"]
            return sorted(
                i["detail_type"]["S"] for i in items if i["sk"]["S"].startswith("OUTBOX#")
            )

        yield Adapters(DynamoDBOrderRepository(tables), DynamoDBUnitOfWorkFactory(tables), outbox)


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
        from order_service.adapters.fauna_order_repository import FaunaOrderRepository
        from order_service.adapters.fauna_unit_of_work import FaunaUnitOfWorkFactory

        admin = Client(endpoint=endpoint, secret=secret)
        databases = FaunaTenantDatabases(secret=secret, endpoint=endpoint, role="admin")
        names = [databases.database_name(tenant(t)) for t in FAUNA_TENANTS]
        # Empty child databases: the adapters apply the order service's schema on first use.
        for name in names:
            admin.query(
                fql("Database.byName(${n})?.delete()\nDatabase.create({ name: ${n} })", n=name)
            )

        def outbox() -> list[str]:
            kinds: list[str] = []
            for t in FAUNA_TENANTS:
                kinds += databases.query(
                    tenant(t), "order_outbox.all().map(.detail_type).toArray()"
                )
            return sorted(kinds)

        try:
            yield Adapters(
                FaunaOrderRepository(databases), FaunaUnitOfWorkFactory(databases), outbox
            )
        finally:
            for name in names:
                admin.query(fql("Database.byName(${n})?.delete()\nnull", n=name))


BACKENDS = {"memory": _memory, "dynamodb": _dynamodb, "fauna": _fauna}


@pytest.fixture(params=sorted(BACKENDS))
def adapters(request) -> Iterator[Adapters]:
    yield from BACKENDS[request.param]()


PLACED = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)


def new_order(order_id: str = "o-1", placed_at: datetime | None = PLACED) -> Order:
    return Order.place(
        [OrderLine(product_id="p-1", quantity=2)], order_id=order_id, placed_at=placed_at
    )


@pytest.fixture(params=["basic", "premium"])
def ctx(request):
    return tenant("t-acme") if request.param == "basic" else PREMIUM


def test_an_added_order_reads_back_with_its_outbox_message(adapters, ctx):
    adapters.place(ctx, new_order())

    stored = adapters.repository.get(ctx, "o-1")

    assert stored is not None
    assert (stored.id, stored.status, stored.version) == ("o-1", OrderStatus.PENDING, 1)
    assert stored.lines == (OrderLine(product_id="p-1", quantity=2),)
    assert adapters.outbox() == ["OrderPlaced"]


def test_a_committed_change_writes_the_state_the_outbox_and_the_marker(adapters, ctx):
    adapters.place(ctx, new_order())

    adapters.change(
        ctx, "o-1", lambda o: o.reject("p-1: requested 2, available 0"), Cause(event_id="cause-1")
    )

    stored = adapters.repository.get(ctx, "o-1")
    assert (stored.status, stored.reason, stored.version) == (
        OrderStatus.REJECTED,
        "p-1: requested 2, available 0",
        2,
    )
    assert adapters.repository.is_processed(ctx, "cause-1")
    assert adapters.outbox() == ["OrderPlaced", "OrderRejected"]


def test_a_duplicate_event_commits_nothing(adapters, ctx):
    adapters.place(ctx, new_order())
    adapters.change(ctx, "o-1", lambda o: o.confirm(), Cause(event_id="cause-1"))

    with pytest.raises(EventAlreadyProcessed):
        adapters.change(ctx, "o-1", lambda o: o.cancel(), Cause(event_id="cause-1"))
    with adapters.unit_of_work(ctx, Cause(event_id="cause-1")) as uow:
        uow.emit(OrderConfirmed(order_id="o-1"))
        with pytest.raises(EventAlreadyProcessed):
            uow.commit()  # the marker alone, with an event: refused all the same

    assert adapters.repository.get(ctx, "o-1").status is OrderStatus.CONFIRMED
    assert adapters.outbox() == ["OrderConfirmed", "OrderPlaced"]


def test_a_stale_version_is_refused_and_commits_nothing(adapters, ctx):
    adapters.place(ctx, new_order())
    with adapters.unit_of_work(ctx, Cause(event_id="cause-9")) as second:
        stale = second.orders.get("o-1")
        adapters.change(ctx, "o-1", lambda o: o.confirm(), Cause())
        stale.cancel()

        with pytest.raises(ConcurrentUpdate):
            second.commit()

    assert adapters.repository.get(ctx, "o-1").status is OrderStatus.CONFIRMED
    assert not adapters.repository.is_processed(ctx, "cause-9")
    assert adapters.outbox() == ["OrderConfirmed", "OrderPlaced"]


def test_adding_an_existing_order_id_is_refused(adapters, ctx):
    adapters.place(ctx, new_order())

    with pytest.raises(ConcurrentUpdate):
        adapters.place(ctx, new_order())
    assert adapters.outbox() == ["OrderPlaced"]


def test_leaving_without_commit_writes_nothing(adapters, ctx):
    with adapters.unit_of_work(ctx, Cause(event_id="cause-1")) as uow:
        uow.orders.add(new_order())
        uow.emit(OrderConfirmed(order_id="o-1"))

    assert adapters.repository.get(ctx, "o-1") is None
    assert not adapters.repository.is_processed(ctx, "cause-1")
    assert adapters.outbox() == []


def test_a_reaction_that_changes_nothing_commits_its_marker_alone(adapters, ctx):
    adapters.place(ctx, new_order())

    adapters.change(ctx, "o-1", lambda o: o.reject("late"), Cause(event_id="cause-1"))
    adapters.change(ctx, "o-1", lambda o: o.confirm(), Cause(event_id="cause-2"))

    stored = adapters.repository.get(ctx, "o-1")
    assert (stored.status, stored.version) == (OrderStatus.REJECTED, 2)
    assert adapters.repository.is_processed(ctx, "cause-2")
    assert adapters.outbox() == ["OrderPlaced", "OrderRejected"]


def test_an_event_that_changes_no_state_is_published_without_rewriting_the_order(adapters, ctx):
    # StockReserved after the cancel: OrderCancelled again, so the stock is released
    adapters.place(ctx, new_order())
    adapters.change(ctx, "o-1", lambda o: o.cancel(), Cause())

    adapters.change(ctx, "o-1", lambda o: o.confirm(), Cause(event_id="cause-late"))

    stored = adapters.repository.get(ctx, "o-1")
    assert (stored.status, stored.version) == (OrderStatus.CANCELLED, 2)
    assert adapters.repository.is_processed(ctx, "cause-late")
    assert adapters.outbox() == ["OrderCancelled", "OrderCancelled", "OrderPlaced"]


def test_a_marker_is_the_tenants_own(adapters, ctx):
    other = tenant("t-other")
    adapters.place(ctx, new_order())
    adapters.place(other, new_order())
    adapters.change(ctx, "o-1", lambda o: o.confirm(), Cause(event_id="cause-1"))

    adapters.change(other, "o-1", lambda o: o.confirm(), Cause(event_id="cause-1"))

    assert adapters.repository.get(other, "o-1").status is OrderStatus.CONFIRMED
    assert adapters.repository.is_processed(other, "cause-1")


def test_orders_are_listed_in_pages_and_only_the_tenants_own(adapters, ctx):
    other = tenant("t-other")
    for i in range(5):
        adapters.place(ctx, new_order(f"o-{i}"))
    adapters.place(other, new_order("o-theirs"))

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
        adapters.place(ctx, new_order(order_id, at))
    adapters.place(ctx, new_order("o-z", None))

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
    adapters.place(ctx, new_order("o-old", PLACED))
    adapters.place(ctx, new_order("o-new", PLACED + timedelta(hours=1)))
    adapters.change(ctx, "o-old", lambda o: o.confirm(), Cause())

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
        adapters.place(other, new_order(f"o-{i}"))
    token = adapters.repository.list(other, limit=1, next_token=None).next_token

    with pytest.raises(InvalidPageToken):
        adapters.repository.list(ctx, limit=1, next_token=token)


def test_purge_removes_the_tenants_orders_and_markers_and_nothing_else(adapters, ctx):
    other = tenant("t-other")
    for who in (ctx, other):
        adapters.place(who, new_order())
        with adapters.unit_of_work(who, Cause(event_id="cause-1")) as uow:
            uow.commit()  # a marker alone

    assert adapters.repository.purge(ctx) >= 2

    assert adapters.repository.get(ctx, "o-1") is None
    assert not adapters.repository.is_processed(ctx, "cause-1")
    assert adapters.repository.get(other, "o-1") is not None
    assert adapters.repository.is_processed(other, "cause-1")


def test_a_premium_purge_after_its_stack_is_gone_purges_the_pooled_items():
    """Offboarding deletes a premium tenant's stack while the consumers purge: a table already
    deleted with the stack is nothing left to purge, not an event that fails until its DLQ."""
    with contextlib.contextmanager(_dynamodb)() as adapters:
        adapters.place(PREMIUM, new_order())
        with adapters.unit_of_work(PREMIUM, Cause(event_id="cause-1")) as uow:
            uow.commit()
        boto3.client("dynamodb", region_name="us-east-1").delete_table(
            TableName=f"tenant-{PREMIUM.tenant_id}-orders"
        )

        adapters.repository.purge(PREMIUM)

        assert adapters.outbox() == []  # its outbox items, in the pooled table, are purged


def test_an_order_read_twice_in_a_unit_of_work_is_one_order(adapters, ctx):
    adapters.place(ctx, new_order())

    with adapters.unit_of_work(ctx, Cause(event_id="cause-1")) as uow:
        first = uow.orders.get("o-1")
        first.confirm()
        assert uow.orders.get("o-1") is first
        uow.commit()

    assert adapters.repository.get(ctx, "o-1").version == 2
    assert adapters.outbox() == ["OrderConfirmed", "OrderPlaced"]
