"""The FQL each Fauna adapter method sends (store, unit of work, schema), and how it decodes
realistic responses.

No FaunaDB can run here, so the driver itself is exercised down to its HTTP-client interface:
a fake `fauna.http.HTTPClient` records each request and answers with the tagged JSON a Fauna
v10 endpoint returns."""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Callable, Iterator, Mapping
from decimal import Decimal
from typing import Any

import pytest
from fauna.http import HTTPClient, HTTPResponse

from product_service.adapters import fauna_product_store as fauna_store
from product_service.adapters import fauna_schema
from product_service.adapters import fauna_unit_of_work as fauna_uow
from product_service.adapters.fauna_databases import FaunaDatabases
from product_service.adapters.fauna_product_store import FaunaProductStore
from product_service.adapters.fauna_unit_of_work import FaunaUnitOfWorkFactory
from product_service.domain.errors import (
    ConcurrentChange,
    EventAlreadyProcessed,
    InvalidPageRequest,
    ProductNotFound,
)
from product_service.domain.events import ProductCreated, StockReserved
from product_service.domain.model import (
    OrderLine,
    PageRequest,
    Product,
    Reservation,
    ReservationStatus,
    StockMovement,
)
from tenant_context import Cause, TenantContext


class FakeResponse(HTTPResponse):
    def __init__(self, status: int, body: dict[str, Any]) -> None:
        self._status, self._body = status, body

    def headers(self) -> Mapping[str, str]:
        return {"content-type": "application/json;charset=utf-8"}

    def status_code(self) -> int:
        return self._status

    def json(self) -> Any:
        return self._body

    def text(self) -> str:
        return json.dumps(self._body)

    def read(self) -> bytes:
        return self.text().encode()

    def iter_bytes(self) -> Iterator[bytes]:
        yield self.read()

    def close(self) -> None:
        pass


def ok(data: Any) -> FakeResponse:
    return FakeResponse(
        200,
        {
            "data": data,
            "static_type": "Any",
            "summary": "",
            "txn_ts": 1732400000000000,
            "stats": {
                "compute_ops": 1,
                "read_ops": 1,
                "write_ops": 0,
                "query_time_ms": 3,
                "contention_retries": 0,
                "storage_bytes_read": 120,
                "storage_bytes_write": 0,
                "rate_limits_hit": [],
            },
            "schema_version": 1732300000000000,
        },
    )


def failed(code: str, status: int, **extra: Any) -> FakeResponse:
    return FakeResponse(
        status,
        {
            "error": {"code": code, "message": f"{code} (fake)", **extra},
            "summary": "error: query aborted.",
            "txn_ts": 1732400000000000,
            "stats": {"compute_ops": 1, "read_ops": 0, "write_ops": 0},
            "schema_version": 1732300000000000,
        },
    )


class FakeFaunaHTTP(HTTPClient):
    """Answers queued responses in order; keeps every request the driver sent."""

    def __init__(self, *responses: FakeResponse) -> None:
        self.responses = list(responses)
        self.requests: list[dict[str, Any]] = []

    def request(
        self, method: str, url: str, headers: Mapping[str, str], data: Mapping[str, Any]
    ) -> HTTPResponse:
        self.requests.append({"method": method, "url": url, "headers": dict(headers), "data": data})
        return self.responses.pop(0)

    @contextlib.contextmanager
    def stream(
        self, url: str, headers: Mapping[str, str], data: Mapping[str, Any]
    ) -> Iterator[Any]:
        raise AssertionError("the product store never streams")
        yield  # pragma: no cover

    def close(self) -> None:
        pass


def sent(http: FakeFaunaHTTP, index: int = -1) -> tuple[str, dict[str, Any]]:
    """The FQL text (arguments as ${argN}) and the tagged argument values of one request."""
    fragments = http.requests[index]["data"]["query"]["fql"]
    text, values = "", {}
    for fragment in fragments:
        if isinstance(fragment, str):
            text += fragment
        else:
            name = f"arg{len(values)}"
            text += "${" + name + "}"
            values[name] = fragment["value"]
    return text, values


def placeholders(template: str) -> str:
    """The template with each ${name} numbered in order, as `sent` renders it."""
    count = iter(range(100))
    return re.sub(r"\$\{\w+\}", lambda _: "${arg" + str(next(count)) + "}", template)


def named(http: FakeFaunaHTTP, template: str, index: int = -1) -> dict[str, Any]:
    """The tagged argument values of one request, by their names in `template`."""
    text, values = sent(http, index)
    assert text == placeholders(template)
    names = re.findall(r"\$\{(\w+)\}", template)
    return {name: values[f"arg{n}"] for n, name in enumerate(names)}


@pytest.fixture
def who(make_tenant: Callable[..., TenantContext]) -> TenantContext:
    return make_tenant("acme-1")


def store_with(
    *responses: FakeResponse, ready: tuple[str, ...] = ("tenant_acme-1", "tenant_acme_1")
) -> tuple[FaunaProductStore, FakeFaunaHTTP]:
    """The store on the fake HTTP client; the `ready` child databases carry the schema already
    (no schema query first: see the tests of the schema below)."""
    http = FakeFaunaHTTP(*responses)
    databases = FaunaDatabases(
        secret="fnParentKey", endpoint="http://fauna.invalid", http_client=http, ready=ready
    )
    return FaunaProductStore(databases), http


def uow_with(*responses: FakeResponse) -> tuple[FaunaUnitOfWorkFactory, FakeFaunaHTTP]:
    store, http = store_with(*responses)
    return FaunaUnitOfWorkFactory(store), http


PRODUCT_ROW = {
    "pid": "p-1",
    "name": "Mug",
    "sku": "MUG-1",
    "price": "12.50",
    "stock": {"@int": "5"},
}


def test_each_tenant_is_reached_through_its_own_scoped_key(who: TenantContext) -> None:
    store, http = store_with(ok(None))

    store.get(who, "p-1")

    request = http.requests[0]
    assert request["headers"]["Authorization"] == "Bearer fnParentKey:tenant_acme-1:server"
    assert request["url"] == "http://fauna.invalid/query/1"
    assert request["headers"]["X-Format"] == "tagged"


def test_get_sends_the_indexed_lookup_and_decodes_the_projection(who: TenantContext) -> None:
    store, http = store_with(ok(PRODUCT_ROW))

    product = store.get(who, "p-1")

    assert sent(http) == (placeholders(fauna_store.GET), {"arg0": "p-1"})
    assert sent(http)[0] == (
        "product_products.byPid(${arg0}).first() { pid, name, sku, price, stock }"
    )
    assert product == Product("p-1", "Mug", "MUG-1", Decimal("12.50"), 5)


def test_get_of_a_missing_product_is_none(who: TenantContext) -> None:
    store, _ = store_with(ok(None))

    assert store.get(who, "nope") is None


def test_list_asks_for_one_more_than_the_page_and_hands_out_a_token(who: TenantContext) -> None:
    rows = [dict(PRODUCT_ROW, pid=f"p-{i}") for i in range(3)]
    store, http = store_with(ok(rows), ok(rows[2:]))

    first = store.list_products(who, PageRequest(limit=2))
    second = store.list_products(who, PageRequest(limit=2, next_token=first.next_token))

    text, values = sent(http, 0)
    assert text == (
        "product_products.sortedByPid({ from: ${arg0} }).where(.pid != ${arg1})"
        ".take(${arg2}).toArray() { pid, name, sku, price, stock }"
    )
    assert values == {"arg0": "", "arg1": "", "arg2": {"@int": "3"}}
    assert [p.id for p in first.items] == ["p-0", "p-1"]
    assert sent(http, 1)[1]["arg0"] == "p-1"
    assert [p.id for p in second.items] == ["p-2"]
    assert second.next_token is None


def test_list_refuses_another_tenants_token_without_querying(
    who: TenantContext, make_tenant: Callable[..., TenantContext]
) -> None:
    rows = [dict(PRODUCT_ROW, pid=f"p-{i}") for i in range(2)]
    store, http = store_with(ok(rows), ready=("tenant_other",))
    token = store.list_products(make_tenant("other"), PageRequest(limit=1)).next_token

    with pytest.raises(InvalidPageRequest):
        store.list_products(who, PageRequest(limit=1, next_token=token))
    assert len(http.requests) == 1


def test_stock_of_maps_missing_products_to_none(who: TenantContext) -> None:
    store, http = store_with(ok([{"@int": "4"}, None]))

    stock = store.stock_of(who, ["p-1", "ghost"])

    assert sent(http)[0] == "${arg0}.map(pid => product_products.byPid(pid).first()?.stock)"
    assert stock == {"p-1": 4, "ghost": None}


def test_create_writes_the_product_and_its_outbox_document_in_one_query(
    who: TenantContext,
) -> None:
    uow, http = uow_with(ok(None))
    product = Product("p-1", "Mug", "MUG-1", Decimal("12.5"), 5)

    with uow(who, Cause(correlation_id="c-1")) as work:
        work.products.add(product)
        work.emit(ProductCreated.of(product))
        work.commit()

    assert len(http.requests) == 1
    arguments = named(http, fauna_uow.COMMIT)
    assert arguments["added"] == [
        {"pid": "p-1", "name": "Mug", "sku": "MUG-1", "price": "12.50", "stock": {"@int": "5"}}
    ]
    (outbox,) = arguments["outbox"]
    assert outbox["source"] == "saas.product"
    assert outbox["detail_type"] == "ProductCreated"
    assert outbox["detail"]["data"]["stock"] == {"@int": "5"}
    assert outbox["detail"]["metadata"]["correlation_id"] == "c-1"
    assert arguments["marker"] is None  # not a reaction: no processed marker
    assert arguments["replaced"] == arguments["deleted"] == arguments["movements"] == []


def test_replace_of_a_missing_product_is_not_found(who: TenantContext) -> None:
    uow, http = uow_with(failed("abort", 400, abort="not found: p-1"))
    product = Product("p-1", "Mug", "MUG-1", Decimal("1.00"), 1)

    with uow(who, Cause()) as work:
        work.products.replace(product)
        with pytest.raises(ProductNotFound, match="p-1"):
            work.commit()
    assert sent(http)[0] == placeholders(fauna_uow.COMMIT)
    assert 'abort("not found: " + p.pid)' in sent(http)[0]
    assert 'abort("not found: " + pid)' in sent(http)[0]


def test_reservation_decodes_status_and_lines(who: TenantContext) -> None:
    store, http = store_with(
        ok({"status": "RESERVED", "lines": [{"product_id": "p-1", "quantity": {"@int": "2"}}]})
    )

    reservation = store.reservation(who, "o-1")

    assert sent(http)[0] == "product_reservations.byOrderId(${arg0}).first() { status, lines }"
    assert reservation == Reservation("o-1", ReservationStatus.RESERVED, (OrderLine("p-1", 2),))


def test_commit_stock_is_one_query_with_a_guard_per_line_marker_and_outbox(
    who: TenantContext,
) -> None:
    uow, http = uow_with(ok(None))

    with uow(who, Cause(correlation_id="c-1", event_id="e-1")) as work:
        work.products.move_stock(StockMovement("p-1", -2))
        work.reservations.save(
            Reservation("o-1", ReservationStatus.RESERVED, (OrderLine("p-1", 2),))
        )
        work.emit(StockReserved(order_id="o-1", lines=[]))
        work.commit()

    assert len(http.requests) == 1
    text, values = sent(http)
    assert text == placeholders(fauna_uow.COMMIT)
    assert 'if (product!.stock + m.delta < 0) abort("stock changed")' in text
    assert "product_processed_events.create({" in text
    assert "product_outbox.create(o)" in text
    assert values["arg0"] == "e-1"  # the marker guard comes first
    arguments = named(http, fauna_uow.COMMIT)
    assert {"product_id": "p-1", "delta": {"@int": "-2"}} in arguments["movements"]
    assert arguments["reservations"] == [
        {
            "order_id": "o-1",
            "expected": None,  # a save without a get: the order has no reservation yet
            "status": "RESERVED",
            "lines": [{"product_id": "p-1", "quantity": {"@int": "2"}}],
        }
    ]
    assert arguments["marker_ttl_days"] == {"@int": "15"}
    assert [o["detail_type"] for o in arguments["outbox"]] == ["StockReserved"]
    assert arguments["outbox"][0]["detail"]["metadata"]["causation_id"] == "e-1"


def test_a_reservation_read_and_left_alone_is_only_checked(who: TenantContext) -> None:
    reserved = {"status": "RELEASED", "lines": []}
    uow, http = uow_with(ok(reserved), ok(None))

    with uow(who, Cause(event_id="e-9")) as work:
        work.reservations.get("o-1")
        work.commit()  # the marker alone, the reservation held as read

    arguments = named(http, fauna_uow.COMMIT)
    assert arguments["reservations"] == [
        {"order_id": "o-1", "expected": "RELEASED", "status": None, "lines": []}
    ]
    assert arguments["marker"] == "e-9"
    assert arguments["outbox"] == []


@pytest.mark.parametrize(
    "response",
    [
        failed("abort", 400, abort="stock changed"),
        failed("abort", 400, abort="reservation changed"),
        failed("abort", 400, abort="duplicate"),
        failed("conflict", 409),
    ],
)
def test_a_refused_stock_commit_is_a_concurrent_change(
    who: TenantContext, response: FakeResponse
) -> None:
    uow, _ = uow_with(response)

    with uow(who, Cause(event_id="e-1")) as work:
        work.reservations.save(Reservation("o-1", ReservationStatus.REJECTED))
        with pytest.raises(ConcurrentChange):
            work.commit()


def test_a_duplicate_is_named_as_an_event_processed_before(who: TenantContext) -> None:
    uow, _ = uow_with(failed("abort", 400, abort="duplicate"))

    with uow(who, Cause(event_id="e-1")) as work, pytest.raises(EventAlreadyProcessed):
        work.commit()


def test_purge_counts_what_it_deleted(who: TenantContext) -> None:
    store, http = store_with(ok({"@int": "7"}))

    assert store.purge(who) == 7
    assert sent(http)[0] == fauna_store.PURGE


def test_the_purge_deletes_only_the_product_collections_never_another_services(
    who: TenantContext,
) -> None:
    # Regression: the product purge (TenantDeprovisioned) deleted the order service's
    # processed-event markers from the collection both services shared; a redelivered event
    # was then processed twice by the order service.
    store, http = store_with(ok({"@int": "0"}))

    store.purge(who)

    text = sent(http)[0]
    listed = re.search(r"let collections = \[(.*?)\]", text, flags=re.S)
    assert listed is not None
    named_collections = {name.strip() for name in listed.group(1).split(",")}
    assert named_collections == set(fauna_schema.NAMES)
    assert all(name.startswith("product_") for name in named_collections)
    # The query touches the collections it names and nothing else: no enumeration of the
    # database's collections, no shared or other service's collection.
    assert "Collection" not in text
    for foreign in ("ProcessedEvent", "Outbox", "order_processed_events", "order_outbox"):
        assert foreign not in text
    identifiers = set(re.findall(r"\b([a-z]+_[a-z_]+)\b", text))
    assert identifiers <= set(fauna_schema.NAMES)


def test_the_poller_lists_child_databases_with_the_parent_key_then_reads_each_outbox() -> None:
    outbox_row = {
        "id": "412483941908005376",
        "event_id": "e-1",
        "source": "saas.product",
        "detail_type": "ProductCreated",
        "detail": {"metadata": {"tenant_id": "acme_1"}, "data": {"stock": {"@int": "5"}}},
    }
    store, http = store_with(
        ok([{"name": "tenant_acme_1"}, {"name": "unrelated"}]),
        ok([outbox_row]),
        ok(None),
    )

    (pending,) = store.pending(limit=50)
    store.done(pending.key)

    assert http.requests[0]["headers"]["Authorization"] == "Bearer fnParentKey"
    assert sent(http, 0)[0] == "Database.all().toArray() { name }"
    assert http.requests[1]["headers"]["Authorization"] == "Bearer fnParentKey:tenant_acme_1:server"
    assert sent(http, 1) == (
        "product_outbox.all().order(.ts).take(${arg0}).toArray() "
        "{ id, event_id, source, detail_type, detail }",
        {"arg0": {"@int": "50"}},
    )
    assert pending.message.detail == {"metadata": {"tenant_id": "acme_1"}, "data": {"stock": 5}}
    assert pending.key == "tenant_acme_1/412483941908005376"
    assert sent(http, 2) == (
        "product_outbox.byId(${arg0})?.delete()\nnull",
        {"arg0": "412483941908005376"},
    )
    assert len(http.requests) == 3  # "unrelated" is not a tenant's database


# -- the service's own schema, applied on first use of a child database -----------------------


def test_the_first_query_to_a_child_database_applies_the_schema_once(who: TenantContext) -> None:
    store, http = store_with(
        ok(["product_products", "product_reservations"]), ok(None), ok(None), ready=()
    )

    store.get(who, "p-1")
    store.get(who, "p-2")

    assert len(http.requests) == 3  # the schema once, then the two reads
    assert http.requests[0]["headers"]["Authorization"] == (
        "Bearer fnParentKey:tenant_acme-1:server"
    )
    text, values = sent(http, 0)
    assert text == placeholders(fauna_schema.APPLY)
    assert "if (Collection.byName(c.name) == null)" in text
    definitions = values["arg0"]
    assert [d["name"] for d in definitions] == [
        "product_products",
        "product_reservations",
        "product_processed_events",
        "product_outbox",
    ]
    assert sent(http, 1)[0].startswith("product_products.byPid(")
    assert sent(http, 2)[1] == {"arg0": "p-2"}


def test_each_child_database_gets_the_schema_on_its_own_first_use(
    who: TenantContext, make_tenant: Callable[..., TenantContext]
) -> None:
    store, http = store_with(ok([]), ok(None), ok([]), ok(None), ready=())

    store.get(who, "p-1")
    store.get(make_tenant("acme-2"), "p-1")

    assert [sent(http, i)[0] == placeholders(fauna_schema.APPLY) for i in range(4)] == [
        True,
        False,
        True,
        False,
    ]
    assert http.requests[2]["headers"]["Authorization"].endswith(":tenant_acme-2:server")


def test_a_failed_schema_query_is_tried_again_at_the_next_use(who: TenantContext) -> None:
    store, http = store_with(failed("conflict", 409), ok([]), ok(None), ready=())

    with pytest.raises(ConcurrentChange):
        store.get(who, "p-1")
    store.get(who, "p-1")

    assert [sent(http, i)[0] == placeholders(fauna_schema.APPLY) for i in range(3)] == [
        True,
        True,
        False,
    ]


def test_the_processed_marker_is_unique_per_event_within_the_product_collection_only() -> None:
    (markers,) = [c for c in fauna_schema.COLLECTIONS if c["name"] == "product_processed_events"]

    assert markers["constraints"] == [{"unique": [".event_id"]}]
    assert markers["indexes"] == {"byEventId": {"terms": [{"field": ".event_id"}]}}
    assert all(name.startswith("product_") for name in fauna_schema.NAMES)


def test_every_collection_the_adapters_query_is_declared_in_the_schema() -> None:
    texts = [
        value
        for module in (fauna_store, fauna_uow)
        for name, value in vars(module).items()
        if name.isupper() and isinstance(value, str)
    ]
    used = {c for text in texts for c in re.findall(r"(?<![.\w])(product_[a-z_]+)\b", text)}

    assert used == set(fauna_schema.NAMES)
    for text in texts:  # nothing of the old shared collections is left
        assert not re.search(r"\b(Product|Reservation|ProcessedEvent|Outbox)\.", text)


class EveryAnswerEmpty(FakeFaunaHTTP):
    """Answers every request with an empty result, however many come."""

    def request(
        self, method: str, url: str, headers: Mapping[str, str], data: Mapping[str, Any]
    ) -> HTTPResponse:
        self.requests.append({"method": method, "url": url, "headers": dict(headers), "data": data})
        return ok(None)


def test_no_tenant_path_uses_the_parent_key(who: TenantContext) -> None:
    """Every read, write and purge of a tenant's request or event goes with the key scoped to its
    child database; only the outbox poller (every tenant by nature) lists with the parent."""
    http = EveryAnswerEmpty()
    databases = FaunaDatabases(
        secret="fnParentKey", endpoint="http://fauna.invalid", http_client=http
    )
    store = FaunaProductStore(databases)
    uow = FaunaUnitOfWorkFactory(store)
    product = Product(id="p-1", name="Mug", sku="MUG-1", price=Decimal("1.00"), stock=1)
    tenant_paths: list[Callable[[], object]] = [
        lambda: store.get(who, "p-1"),
        lambda: store.list_products(who, PageRequest(limit=10)),
        lambda: store.stock_of(who, ["p-1"]),
        lambda: store.reservation(who, "o-1"),
        lambda: store.is_processed(who, "e-1"),
        lambda: store.purge(who),
    ]

    def commit() -> None:
        with uow(who, Cause(event_id="e-1")) as work:
            work.products.add(product)
            work.commit()

    tenant_paths.append(commit)
    for path in tenant_paths:
        with contextlib.suppress(Exception):  # empty answers may not decode: the keys are the point
            path()

    keys = {r["headers"]["Authorization"] for r in http.requests}
    assert len(http.requests) >= len(tenant_paths)
    assert keys == {"Bearer fnParentKey:tenant_acme-1:server"}

    with contextlib.suppress(Exception):
        store.pending(10)
    assert http.requests[-1]["headers"]["Authorization"] == "Bearer fnParentKey"
