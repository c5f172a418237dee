"""The FQL each Fauna adapter method sends, and how it decodes realistic responses.

No FaunaDB can run here, so the real driver is exercised down to its HTTP-client interface: a
fake `fauna.http.HTTPClient`, given to `fauna.client.Client(http_client=...)`, records each
request and answers with the tagged JSON a Fauna v10 endpoint returns."""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

import pytest
from fauna.http import HTTPClient, HTTPResponse
from order_testkit import tenant

from order_service.adapters import fauna_order_repository as repo_fql
from order_service.adapters import fauna_outbox_source as outbox_fql
from order_service.adapters import fauna_product_catalogue as catalogue_fql
from order_service.adapters import page_token
from order_service.adapters.fauna_databases import FaunaTenantDatabases
from order_service.adapters.fauna_order_repository import FaunaOrderRepository
from order_service.adapters.fauna_outbox_source import FaunaOutboxSource
from order_service.adapters.fauna_product_catalogue import FaunaProductCatalogue
from order_service.app.outbox_relay import OutboxRelay, RelayReport
from order_service.domain.errors import ConcurrentUpdate, EventAlreadyProcessed, InvalidPageToken
from order_service.domain.order import Order, OrderLine, OrderStatus
from order_service.ports.outbox import OutboxMessage
from order_service.ports.outbox_source import PendingMessage

STATS = {
    "compute_ops": 1,
    "read_ops": 2,
    "write_ops": 0,
    "query_time_ms": 3,
    "contention_retries": 0,
    "storage_bytes_read": 180,
    "storage_bytes_write": 0,
    "rate_limits_hit": [],
}


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
            "txn_ts": 1795460000000000,
            "stats": STATS,
            "schema_version": 1795400000000000,
        },
    )


def aborted(reason: str) -> FakeResponse:
    return FakeResponse(
        400,
        {
            "error": {"code": "abort", "message": "Query aborted.", "abort": reason},
            "summary": f'error: Query aborted.\nat *query*:1:80\n  |\n1 | abort("{reason}")',
            "txn_ts": 1795460000000000,
            "stats": STATS,
            "schema_version": 1795400000000000,
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
        raise AssertionError("the order adapters never stream")
        yield  # pragma: no cover

    def close(self) -> None:
        pass


def sent(http: FakeFaunaHTTP, index: int = -1) -> tuple[str, list[Any]]:
    """The FQL text (each argument as ${}) and the tagged argument values of one request."""
    text, values = "", []
    for fragment in http.requests[index]["data"]["query"]["fql"]:
        if isinstance(fragment, str):
            text += fragment
        else:
            text += "${}"
            values.append(fragment["value"])
    return text, values


def shape(template: str) -> str:
    return re.sub(r"\$\{\w+\}", "${}", template)


def adapters(*responses):
    http = FakeFaunaHTTP(*responses)
    databases = FaunaTenantDatabases(
        secret="fnParentKey", endpoint="http://127.0.0.1:8443", http_client=http
    )
    return http, FaunaOrderRepository(databases), FaunaProductCatalogue(databases)


ACME = tenant("t-acme")
ORDER_DOC = {
    "order_id": "o-1",
    "status": "CONFIRMED",
    "lines": [{"product_id": "p-1", "quantity": {"@int": "2"}}],
    "reason": None,
    "version": {"@int": "2"},
}


def test_queries_go_to_the_tenants_child_database_through_a_scoped_key():
    http, repository, _ = adapters(ok(None), ok(None))

    repository.get(ACME, "o-1")
    repository.get(tenant("t-globex"), "o-1")

    assert http.requests[0]["url"] == "http://127.0.0.1:8443/query/1"
    auth = [r["headers"]["Authorization"] for r in http.requests]
    assert auth == [
        "Bearer fnParentKey:tenant_t-acme:server",
        "Bearer fnParentKey:tenant_t-globex:server",
    ]


def test_get_sends_the_pinned_fql_and_decodes_the_order():
    http, repository, _ = adapters(ok(ORDER_DOC))

    order = repository.get(ACME, "o-1")

    text, values = sent(http)
    assert text == shape(repo_fql.GET)
    assert values == ["o-1"]
    assert order == Order(
        id="o-1",
        lines=(OrderLine(product_id="p-1", quantity=2),),
        status=OrderStatus.CONFIRMED,
        version=2,
    )


def test_get_of_a_missing_order_is_none():
    _, repository, _ = adapters(ok(None))

    assert repository.get(ACME, "o-404") is None


def test_list_asks_one_more_than_the_limit_newest_first_and_pages_after_the_last_placed():
    placed = ["2026-12-01T10:00:00.000000Z#o-0", "2026-12-01T09:00:00.000000Z#o-1", "#o-2"]
    rows = [{**ORDER_DOC, "order_id": f"o-{i}", "placed": placed[i]} for i in range(3)]
    http, repository, _ = adapters(ok(rows), ok(rows[2:]))

    first = repository.list(ACME, limit=2, next_token=None)
    second = repository.list(ACME, limit=2, next_token=first.next_token)

    assert [o.id for o in first.orders] == ["o-0", "o-1"]
    assert first.orders[0].placed_at == datetime(2026, 12, 1, 10, tzinfo=UTC)
    assert [(o.id, o.placed_at) for o in second.orders] == [("o-2", None)]
    assert second.next_token is None
    assert sent(http, 0) == (shape(repo_fql.LIST_FIRST), [{"@int": "3"}])
    assert sent(http, 1) == (shape(repo_fql.LIST_AFTER), [placed[1], placed[1], {"@int": "3"}])


def test_list_refuses_another_tenants_token_without_a_query():
    http, repository, _ = adapters()
    token = page_token.encode({"pk": "TENANT#t-globex", "sk": "ORDER#o-1", "placed": "#o-1"})

    with pytest.raises(InvalidPageToken):
        repository.list(ACME, limit=2, next_token=token)
    assert http.requests == []


def message(event_id="e-1"):
    return OutboxMessage(
        event_id,
        "saas.order",
        "OrderConfirmed",
        {"metadata": {"event_id": event_id}, "data": {"order_id": "o-1"}},
    )


def test_add_writes_the_order_and_its_outbox_in_one_query():
    http, repository, _ = adapters(ok(None))
    at = datetime(2026, 12, 1, 9, 30, 0, 250, tzinfo=UTC)
    order = Order.place([OrderLine(product_id="p-1", quantity=2)], order_id="o-1", placed_at=at)

    repository.add(ACME, order, [message()])

    text, values = sent(http)
    assert text == shape(repo_fql.ADD)
    assert values[0] == "o-1"
    assert values[1] == {
        "order_id": "o-1",
        "status": "PENDING",
        "lines": [{"product_id": "p-1", "quantity": {"@int": "2"}}],
        "reason": None,
        "version": {"@int": "1"},
        "placed": "2026-12-01T09:30:00.000250Z#o-1",
    }
    assert values[2] == [
        {
            "event_id": "e-1",
            "source": "saas.order",
            "detail_type": "OrderConfirmed",
            "detail": {"metadata": {"event_id": "e-1"}, "data": {"order_id": "o-1"}},
        }
    ]


def test_save_checks_the_version_and_the_marker_in_the_same_transaction():
    http, repository, _ = adapters(ok(None))
    order = Order(id="o-1", lines=(OrderLine(product_id="p-1", quantity=2),), version=3)
    order.reject("short")

    repository.save(ACME, order, [message()], processed_event_id="cause-1")

    text, values = sent(http)
    assert text == shape(repo_fql.SAVE)
    assert values[:3] == ["cause-1", "o-1", {"@int": "3"}]
    assert values[3]["status"] == "REJECTED"
    assert values[3]["reason"] == "short"
    assert values[3]["version"] == {"@int": "4"}
    assert values[4] == "saas.order"


@pytest.mark.parametrize(
    ("reason", "error"), [("duplicate", EventAlreadyProcessed), ("changed", ConcurrentUpdate)]
)
def test_an_aborted_save_is_the_domain_error(reason, error):
    _, repository, _ = adapters(aborted(reason))
    order = Order(id="o-1", lines=(OrderLine(product_id="p-1", quantity=2),), version=1)

    with pytest.raises(error):
        repository.save(ACME, order, [], processed_event_id="cause-1")


def test_adding_an_existing_order_is_a_concurrent_update():
    _, repository, _ = adapters(aborted("exists"))

    with pytest.raises(ConcurrentUpdate):
        repository.add(ACME, Order.place([OrderLine(product_id="p-1", quantity=1)]), [])


def test_mark_processed_and_is_processed():
    http, repository, _ = adapters(ok(None), ok(True), aborted("duplicate"))

    repository.mark_processed(ACME, "cause-1", [message()])
    assert repository.is_processed(ACME, "cause-1") is True
    with pytest.raises(EventAlreadyProcessed):
        repository.mark_processed(ACME, "cause-1")

    assert sent(http, 0)[0] == shape(repo_fql.MARK)
    assert sent(http, 0)[1][:2] == ["cause-1", "cause-1"]
    assert sent(http, 1) == (shape(repo_fql.IS_PROCESSED), ["cause-1"])


def test_purge_returns_how_many_documents_went():
    http, repository, _ = adapters(ok({"@int": "7"}))

    assert repository.purge(ACME) == 7
    assert sent(http) == (
        shape(repo_fql.PURGE),
        [
            "saas.order",
        ],
    )


def test_the_catalogue_pins_its_fql_and_decodes_the_unknown_ids():
    http, _, catalogue = adapters(ok(None), ok(None), ok(["p-9"]))

    catalogue.record_created(ACME, "p-1")
    catalogue.record_deleted(ACME, "p-2")
    unknown = catalogue.unknown(ACME, ["p-9", "p-1", "p-1"])

    assert unknown == {"p-9"}
    assert sent(http, 0) == (shape(catalogue_fql.RECORD_CREATED), ["p-1", "p-1"])
    assert sent(http, 1) == (shape(catalogue_fql.RECORD_DELETED), ["p-2", "p-2"])
    assert sent(http, 2) == (shape(catalogue_fql.UNKNOWN), [["p-1", "p-9"]])


# -- the outbox the poller relays (Fauna has no stream) ---------------------------------------


def outbox_source(*responses):
    http = FakeFaunaHTTP(*responses)
    databases = FaunaTenantDatabases(
        secret="fnParentKey", endpoint="http://127.0.0.1:8443", http_client=http
    )
    return http, FaunaOutboxSource(databases)


def outbox_row(document_id, event_id, detail_type="OrderPlaced"):
    """An outbox document as FaunaOrderRepository wrote it, as the endpoint returns it."""
    return {
        "id": document_id,
        "event_id": event_id,
        "source": "saas.order",
        "detail_type": detail_type,
        "detail": {
            "metadata": {"event_id": event_id, "tenant_id": "t-acme", "event_version": "1.0"},
            "data": {
                "order_id": "o-1",
                "lines": [{"product_id": "p-1", "quantity": {"@int": "2"}}],
            },
        },
    }


def outbox_row_message(event_id):
    return OutboxMessage(
        event_id,
        "saas.order",
        "OrderPlaced",
        {
            "metadata": {"event_id": event_id, "tenant_id": "t-acme", "event_version": "1.0"},
            "data": {"order_id": "o-1", "lines": [{"product_id": "p-1", "quantity": 2}]},
        },
    )


DATABASES = [{"name": "tenant_t-globex"}, {"name": "audit"}, {"name": "tenant_t-acme"}]


def test_pending_lists_the_tenant_databases_with_the_parent_key_then_reads_each_outbox():
    http, source = outbox_source(
        ok(DATABASES), ok([outbox_row("4101", "e-1")]), ok([outbox_row("4202", "e-2")])
    )

    pending = source.pending(50)

    assert sent(http, 0) == (outbox_fql.CHILD_DATABASES, [])
    assert sent(http, 1) == (shape(outbox_fql.PENDING), ["saas.order", {"@int": "50"}])
    assert sent(http, 2) == (shape(outbox_fql.PENDING), ["saas.order", {"@int": "50"}])
    auth = [r["headers"]["Authorization"] for r in http.requests]
    assert auth == [
        "Bearer fnParentKey",  # the parent database: it sees the child databases
        "Bearer fnParentKey:tenant_t-acme:server",  # not "audit": not a tenant's database
        "Bearer fnParentKey:tenant_t-globex:server",
    ]
    assert pending == [
        PendingMessage("tenant_t-acme/4101", outbox_row_message("e-1")),
        PendingMessage("tenant_t-globex/4202", outbox_row_message("e-2")),
    ]


def test_the_pending_query_reads_only_this_services_outbox_documents_oldest_first():
    assert ".where(.source == ${source})" in outbox_fql.PENDING
    assert ".order(.ts).take(${take})" in outbox_fql.PENDING


def test_done_deletes_the_document_in_its_tenants_database():
    http, source = outbox_source(ok(None))

    source.done("tenant_t-acme/4101")

    assert sent(http) == (shape(outbox_fql.DONE), ["4101"])
    assert http.requests[0]["headers"]["Authorization"] == "Bearer fnParentKey:tenant_t-acme:server"


class Bus:
    def __init__(self, down=()):
        self.down = set(down)
        self.published = []

    def publish(self, messages):
        self.published.extend(m.event_id for m in messages if m.event_id not in self.down)
        return [m.event_id for m in messages if m.event_id in self.down]


def test_the_relay_deletes_what_was_published_and_leaves_a_failure_for_the_next_run():
    http, source = outbox_source(
        ok([{"name": "tenant_t-acme"}]),
        ok([outbox_row("4101", "e-1"), outbox_row("4102", "e-2")]),
        ok(None),  # e-1 done
        ok([{"name": "tenant_t-acme"}]),  # next run: e-2 still pending
        ok([outbox_row("4102", "e-2")]),
        ok(None),  # e-2 done
    )
    bus = Bus(down=["e-2"])
    relay = OutboxRelay(source, bus)

    assert relay.relay() == RelayReport(published=1, failed=("e-2",))
    assert sent(http, 2) == (shape(outbox_fql.DONE), ["4101"])
    assert len(http.requests) == 3  # no delete for e-2

    bus.down.clear()
    assert relay.relay() == RelayReport(published=1)
    assert sent(http, 5) == (shape(outbox_fql.DONE), ["4102"])
    assert bus.published == ["e-1", "e-2"]
    assert http.responses == []
