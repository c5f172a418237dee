"""The FQL each Fauna adapter method sends, and how it decodes realistic responses.

No FaunaDB can run here, so the driver itself is exercised down to its HTTP-client interface:
a fake `fauna.http.HTTPClient` records each request and answers with the tagged JSON a Fauna
v10 endpoint returns."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator, Mapping
from decimal import Decimal
from typing import Any

import pytest
from fauna.http import HTTPClient, HTTPResponse

from product_service.adapters import fauna_product_store as fauna_store
from product_service.adapters.fauna_product_store import FaunaProductStore
from product_service.domain.errors import ConcurrentChange, InvalidPageRequest, ProductNotFound
from product_service.domain.model import (
    OrderLine,
    PageRequest,
    Product,
    Reservation,
    ReservationStatus,
    StockMovement,
)
from product_service.ports.product_store import OutboxMessage, StockCommit
from tenant_context import TenantContext


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
    import re

    count = iter(range(100))
    return re.sub(r"\$\{\w+\}", lambda _: "${arg" + str(next(count)) + "}", template)


@pytest.fixture
def who(make_tenant: Callable[..., TenantContext]) -> TenantContext:
    return make_tenant("acme-1")


def store_with(*responses: FakeResponse) -> tuple[FaunaProductStore, FakeFaunaHTTP]:
    http = FakeFaunaHTTP(*responses)
    store = FaunaProductStore(
        secret="fnParentKey", endpoint="http://fauna.invalid", http_client=http
    )
    return store, http


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
    assert sent(http)[0] == "Product.byPid(${arg0}).first() { pid, name, sku, price, stock }"
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
        "Product.sortedByPid({ from: ${arg0} }).where(.pid != ${arg1}).take(${arg2}).toArray() "
        "{ pid, name, sku, price, stock }"
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
    store, http = store_with(ok(rows))
    token = store.list_products(make_tenant("other"), PageRequest(limit=1)).next_token

    with pytest.raises(InvalidPageRequest):
        store.list_products(who, PageRequest(limit=1, next_token=token))
    assert len(http.requests) == 1


def test_stock_of_maps_missing_products_to_none(who: TenantContext) -> None:
    store, http = store_with(ok([{"@int": "4"}, None]))

    stock = store.stock_of(who, ["p-1", "ghost"])

    assert sent(http)[0] == "${arg0}.map(pid => Product.byPid(pid).first()?.stock)"
    assert stock == {"p-1": 4, "ghost": None}


def test_create_writes_the_product_and_its_outbox_document_in_one_query(
    who: TenantContext,
) -> None:
    store, http = store_with(ok(None))
    product = Product("p-1", "Mug", "MUG-1", Decimal("12.5"), 5)
    message = OutboxMessage("e-1", "saas.product", "ProductCreated", {"data": {"x": 1}})

    store.create(who, product, message)

    text, values = sent(http)
    assert text == "Product.create(${arg0})\nOutbox.create(${arg1})\nnull"
    assert values["arg0"] == {
        "pid": "p-1",
        "name": "Mug",
        "sku": "MUG-1",
        "price": "12.50",
        "stock": {"@int": "5"},
    }
    assert values["arg1"]["detail_type"] == "ProductCreated"
    assert values["arg1"]["detail"] == {"data": {"x": {"@int": "1"}}}


def test_replace_of_a_missing_product_is_not_found(who: TenantContext) -> None:
    store, http = store_with(failed("abort", 400, abort="not found"))
    product = Product("p-1", "Mug", "MUG-1", Decimal("1.00"), 1)

    with pytest.raises(ProductNotFound):
        store.replace(who, product, OutboxMessage("e", "saas.product", "ProductUpdated", {}))
    assert sent(http)[0] == placeholders(fauna_store.REPLACE)
    assert 'abort("not found")' in sent(http)[0]


def test_reservation_decodes_status_and_lines(who: TenantContext) -> None:
    store, http = store_with(
        ok({"status": "RESERVED", "lines": [{"product_id": "p-1", "quantity": {"@int": "2"}}]})
    )

    reservation = store.reservation(who, "o-1")

    assert sent(http)[0] == "Reservation.byOrderId(${arg0}).first() { status, lines }"
    assert reservation == Reservation("o-1", ReservationStatus.RESERVED, (OrderLine("p-1", 2),))


def test_commit_stock_is_one_query_with_a_guard_per_line_marker_and_outbox(
    who: TenantContext,
) -> None:
    store, http = store_with(ok(None))
    commit = StockCommit(
        processed_event_id="e-1",
        expected=None,
        reservation=Reservation("o-1", ReservationStatus.RESERVED, (OrderLine("p-1", 2),)),
        movements=(StockMovement("p-1", -2),),
        outbox=(OutboxMessage("e-2", "saas.product", "StockReserved", {"data": {}}),),
    )

    store.commit_stock(who, commit)

    assert len(http.requests) == 1
    text, values = sent(http)
    assert text == placeholders(fauna_store.COMMIT_STOCK)
    assert 'if (product!.stock + m.delta < 0) abort("stock changed")' in text
    assert "ProcessedEvent.create({ event_id: " in text
    assert "Outbox.create(o)" in text
    assert values["arg0"] == "e-1"  # the marker guard comes first
    assert {"product_id": "p-1", "delta": {"@int": "-2"}} in values["arg3"]


@pytest.mark.parametrize(
    "response",
    [
        failed("abort", 400, abort="stock changed"),
        failed("abort", 400, abort="duplicate"),
        failed("conflict", 409),
    ],
)
def test_a_refused_stock_commit_is_a_concurrent_change(
    who: TenantContext, response: FakeResponse
) -> None:
    store, _ = store_with(response)
    commit = StockCommit(
        processed_event_id="e-1",
        expected=None,
        reservation=Reservation("o-1", ReservationStatus.REJECTED),
    )

    with pytest.raises(ConcurrentChange):
        store.commit_stock(who, commit)


def test_purge_counts_what_it_deleted(who: TenantContext) -> None:
    store, http = store_with(ok({"@int": "7"}))

    assert store.purge(who) == 7
    assert sent(http)[0] == fauna_store.PURGE


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
        'Outbox.all().where(.source == "saas.product").order(.ts).take(${arg0}).toArray() '
        "{ id, event_id, source, detail_type, detail }",
        {"arg0": {"@int": "50"}},
    )
    assert pending.message.detail == {"metadata": {"tenant_id": "acme_1"}, "data": {"stock": 5}}
    assert pending.key == "tenant_acme_1/412483941908005376"
    assert sent(http, 2) == ("Outbox.byId(${arg0})?.delete()\nnull", {"arg0": "412483941908005376"})
    assert len(http.requests) == 3  # "unrelated" is not a tenant's database
