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
from order_service.adapters import fauna_schema, page_token
from order_service.adapters import fauna_unit_of_work as uow_fql
from order_service.adapters.fauna_databases import FaunaTenantDatabases
from order_service.adapters.fauna_order_repository import FaunaOrderRepository
from order_service.adapters.fauna_outbox_source import FaunaOutboxSource
from order_service.adapters.fauna_unit_of_work import FaunaUnitOfWorkFactory
from order_service.app.outbox_relay import OutboxRelay, RelayReport
from order_service.domain.errors import ConcurrentUpdate, EventAlreadyProcessed, InvalidPageToken
from order_service.domain.events import OrderConfirmed
from order_service.domain.order import Order, OrderLine, OrderStatus
from order_service.ports.outbox_source import PendingMessage
from tenant_context import Cause, OutboxMessage

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
    """Answers queued responses in order; keeps every request the driver sent. The schema query
    the adapters send on the first use of each child database is answered apart (unless
    `schema=False`) and kept in `schema_requests`, so the other tests read as before."""

    def __init__(self, *responses: FakeResponse, schema: bool = True) -> None:
        self.responses = list(responses)
        self.requests: list[dict[str, Any]] = []
        self.schema_requests: list[dict[str, Any]] = []
        self._answer_schema = schema

    def request(
        self, method: str, url: str, headers: Mapping[str, str], data: Mapping[str, Any]
    ) -> HTTPResponse:
        request = {"method": method, "url": url, "headers": dict(headers), "data": data}
        if self._answer_schema and _text(data) == shape(fauna_schema.ENSURE):
            self.schema_requests.append(request)
            return ok([])  # every collection there already
        self.requests.append(request)
        return self.responses.pop(0)

    @contextlib.contextmanager
    def stream(
        self, url: str, headers: Mapping[str, str], data: Mapping[str, Any]
    ) -> Iterator[Any]:
        raise AssertionError("the order adapters never stream")
        yield  # pragma: no cover

    def close(self) -> None:
        pass


def _text(data: Mapping[str, Any]) -> str:
    return "".join(f if isinstance(f, str) else "${}" for f in data["query"]["fql"])


def sent(http: FakeFaunaHTTP, index: int = -1) -> tuple[str, list[Any]]:
    """The FQL text (each argument as ${}) and the tagged argument values of one request."""
    data = http.requests[index]["data"]
    values = [f["value"] for f in data["query"]["fql"] if not isinstance(f, str)]
    return _text(data), values


def shape(template: str) -> str:
    return re.sub(r"\$\{\w+\}", "${}", template)


def adapters(*responses):
    http = FakeFaunaHTTP(*responses)
    databases = FaunaTenantDatabases(
        secret="fnParentKey", endpoint="http://127.0.0.1:8443", http_client=http
    )
    return http, FaunaOrderRepository(databases), FaunaUnitOfWorkFactory(databases)


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


def test_a_commit_adding_an_order_writes_it_and_its_outbox_in_one_query():
    http, _, unit_of_work = adapters(ok(None))
    at = datetime(2026, 12, 1, 9, 30, 0, 250, tzinfo=UTC)
    order = Order.place([OrderLine(product_id="p-1", quantity=2)], order_id="o-1", placed_at=at)

    with unit_of_work(ACME, Cause(correlation_id="c-1")) as uow:
        uow.orders.add(order)
        uow.commit()

    assert len(http.requests) == 1
    text, values = sent(http)
    assert text == shape(uow_fql.COMMIT)
    event_id, added, changed, added_again, changed_again, marker_days, outbox = values
    assert event_id is None
    assert (
        added
        == added_again
        == [
            {
                "order_id": "o-1",
                "status": "PENDING",
                "lines": [{"product_id": "p-1", "quantity": {"@int": "2"}}],
                "reason": None,
                "version": {"@int": "1"},
                "placed": "2026-12-01T09:30:00.000250Z#o-1",
            }
        ]
    )
    assert changed == changed_again == []
    assert marker_days == {"@int": "15"}
    [message] = outbox
    assert (message["source"], message["detail_type"]) == ("saas.order", "OrderPlaced")
    assert message["detail"]["metadata"]["event_id"] == message["event_id"]
    assert message["detail"]["metadata"]["correlation_id"] == "c-1"
    assert message["detail"]["data"]["order_id"] == "o-1"


def test_a_commit_of_a_reaction_checks_the_version_and_the_marker_in_the_same_transaction():
    stored = {**ORDER_DOC, "status": "PENDING", "version": {"@int": "3"}, "placed": "#o-1"}
    http, _, unit_of_work = adapters(ok(stored), ok(None))

    with unit_of_work(ACME, Cause(event_id="cause-1")) as uow:
        uow.orders.get("o-1").reject("short")
        uow.commit()

    assert sent(http, 0) == (shape(repo_fql.GET), ["o-1"])
    text, values = sent(http, 1)
    assert text == shape(uow_fql.COMMIT)
    assert values[0] == "cause-1"
    assert values[1] == []
    [change] = values[2]
    assert change["read"] == {"@int": "3"}
    assert change["order"]["status"] == "REJECTED"
    assert change["order"]["reason"] == "short"
    assert change["order"]["version"] == {"@int": "4"}
    assert [m["detail_type"] for m in values[6]] == ["OrderRejected"]


def test_the_commit_checks_the_marker_first_and_expires_it_as_a_fauna_ttl():
    commit = uow_fql.COMMIT.splitlines()
    assert commit[1].startswith("if (event_id != null && order_processed_events.byEventId(")
    assert 'ttl: Time.now().add(${marker_days}, "days")' in uow_fql.COMMIT
    assert uow_fql.MARKER_TTL_DAYS == 15


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        (lambda: aborted("duplicate"), EventAlreadyProcessed),
        (lambda: aborted("changed"), ConcurrentUpdate),
        (lambda: constraint_failure(), ConcurrentUpdate),
    ],
)
def test_a_refused_commit_is_the_domain_error(answer, error):
    _, _, unit_of_work = adapters(answer())

    with unit_of_work(ACME, Cause(event_id="cause-1")) as uow:
        uow.orders.add(Order.place([OrderLine(product_id="p-1", quantity=1)]))
        with pytest.raises(error):
            uow.commit()


def test_a_marker_alone_and_is_processed():
    http, repository, unit_of_work = adapters(ok(None), ok(True), aborted("duplicate"))

    with unit_of_work(ACME, Cause(event_id="cause-1")) as uow:
        uow.emit(OrderConfirmed(order_id="o-1"))
        uow.commit()
    assert repository.is_processed(ACME, "cause-1") is True
    with pytest.raises(EventAlreadyProcessed), unit_of_work(ACME, Cause(event_id="cause-1")) as uow:
        uow.commit()

    text, values = sent(http, 0)
    assert text == shape(uow_fql.COMMIT)
    assert values[:3] == ["cause-1", [], []]
    assert [m["detail_type"] for m in values[6]] == ["OrderConfirmed"]
    assert sent(http, 1) == (shape(repo_fql.IS_PROCESSED), ["cause-1"])


def test_a_commit_with_nothing_to_write_sends_nothing():
    http, _, unit_of_work = adapters()

    with unit_of_work(ACME, Cause()) as uow:
        uow.commit()

    assert http.requests == []


def test_purge_deletes_only_the_order_services_documents_and_says_how_many():
    http, repository, _ = adapters(ok({"@int": "7"}))

    assert repository.purge(ACME) == 7
    assert sent(http) == (shape(repo_fql.PURGE), [])
    named = set(re.findall(r"\b([A-Za-z_]+)\.all\(\)", repo_fql.PURGE))
    assert named == {"order_orders", "order_processed_events"}
    assert all(name.startswith("order_") for name in named)


# -- the schema the service applies to a tenant's database ------------------------------------


def test_the_schema_is_applied_once_per_database_before_its_first_query():
    http = FakeFaunaHTTP(
        ok(["order_orders", "order_outbox", "order_processed_events"]),  # a new tenant
        ok(None),
        ok(None),
        ok([]),  # another tenant's database: nothing missing
        ok(None),
        schema=False,
    )
    databases = FaunaTenantDatabases(
        secret="fnParentKey", endpoint="http://127.0.0.1:8443", http_client=http
    )
    repository = FaunaOrderRepository(databases)

    repository.get(ACME, "o-1")
    repository.get(ACME, "o-2")
    repository.get(tenant("t-globex"), "o-1")

    texts = [sent(http, i)[0] for i in range(len(http.requests))]
    assert texts == [
        shape(fauna_schema.ENSURE),
        shape(repo_fql.GET),
        shape(repo_fql.GET),
        shape(fauna_schema.ENSURE),
        shape(repo_fql.GET),
    ]
    assert sent(http, 0)[1] == [decoded_collections()]
    auth = [r["headers"]["Authorization"] for r in http.requests]
    assert auth[0] == auth[1] == "Bearer fnParentKey:tenant_t-acme:server"
    assert auth[3] == "Bearer fnParentKey:tenant_t-globex:server"
    assert http.responses == []


def test_a_failed_schema_query_is_tried_again_on_the_next_use():
    http = FakeFaunaHTTP(
        FakeResponse(503, {"error": {"code": "unavailable", "message": "try later"}}),
        ok([]),
        ok(None),
        schema=False,
    )
    databases = FaunaTenantDatabases(
        secret="fnParentKey", endpoint="http://127.0.0.1:8443", http_client=http
    )

    with pytest.raises(Exception, match="try later"):
        FaunaOrderRepository(databases).get(ACME, "o-1")
    FaunaOrderRepository(databases).get(ACME, "o-1")

    texts = [sent(http, i)[0] for i in range(len(http.requests))]
    assert texts[-2:] == [shape(fauna_schema.ENSURE), shape(repo_fql.GET)]


def test_the_schema_creates_only_what_is_missing_in_one_query():
    assert fauna_schema.ENSURE == (
        "${collections}.where(c => Collection.byName(c.name) == null)"
        ".map(c => Collection.create(c).name)"
    )


def test_the_collections_are_the_order_services_own_and_the_marker_is_unique_within_them():
    by_name = {c["name"]: c for c in fauna_schema.COLLECTIONS}

    assert sorted(by_name) == ["order_orders", "order_outbox", "order_processed_events"]
    markers = by_name["order_processed_events"]
    assert markers["constraints"] == [{"unique": [".event_id"]}]
    assert markers["indexes"]["byEventId"] == {"terms": [{"field": ".event_id"}]}
    assert by_name["order_orders"]["constraints"] == [{"unique": [".order_id"]}]


def test_every_query_names_only_the_order_services_collections():
    queries = [
        repo_fql.GET,
        repo_fql.LIST_FIRST,
        repo_fql.LIST_AFTER,
        repo_fql.IS_PROCESSED,
        repo_fql.PURGE,
        uow_fql.COMMIT,
        outbox_fql.PENDING,
        outbox_fql.DONE,
    ]
    for query in queries:
        collections = set(
            re.findall(
                r"\b([A-Za-z_]+)\.(?:all|byId|byOrderId|byEventId|sortedByPlaced|create)\(", query
            )
        )
        assert collections, query
        assert all(c.startswith("order_") for c in collections), (query, collections)


def decoded_collections() -> list[dict[str, Any]]:
    """COLLECTIONS as the driver tags them on the wire (plain strings and objects)."""
    return json.loads(json.dumps(list(fauna_schema.COLLECTIONS)))


def constraint_failure() -> FakeResponse:
    return FakeResponse(
        400,
        {
            "error": {
                "code": "constraint_failure",
                "message": "Failed unique constraint.",
                "constraint_failures": [
                    {"paths": [["order_id"]], "message": "Failed unique constraint"}
                ],
            },
            "summary": "error: Failed unique constraint.",
            "txn_ts": 1795460000000000,
            "stats": STATS,
            "schema_version": 1795400000000000,
        },
    )


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
    relay = OutboxRelay(bus, source)

    assert relay.relay() == RelayReport(published=1, failed=("e-2",))
    assert sent(http, 2) == (shape(outbox_fql.DONE), ["4101"])
    assert len(http.requests) == 3  # no delete for e-2

    bus.down.clear()
    assert relay.relay() == RelayReport(published=1)
    assert sent(http, 5) == (shape(outbox_fql.DONE), ["4102"])
    assert bus.published == ["e-1", "e-2"]
    assert http.responses == []


class EveryAnswerEmpty(FakeFaunaHTTP):
    """Answers every request with an empty result, however many come."""

    def request(
        self, method: str, url: str, headers: Mapping[str, str], data: Mapping[str, Any]
    ) -> HTTPResponse:
        self.requests.append({"method": method, "url": url, "headers": dict(headers), "data": data})
        return ok(None)


def test_no_tenant_path_uses_the_parent_key():
    """Every read, write and purge of a tenant's request or event goes with the key scoped to its
    child database; only the outbox poller (every tenant by nature) lists with the parent."""
    http = EveryAnswerEmpty()
    databases = FaunaTenantDatabases(
        secret="fnParentKey", endpoint="http://127.0.0.1:8443", http_client=http
    )
    repository = FaunaOrderRepository(databases)
    uow = FaunaUnitOfWorkFactory(databases)

    def commit():
        with uow(ACME, Cause(event_id="e-1")) as work:
            work.orders.add(Order.place([OrderLine(product_id="p-1", quantity=1)], order_id="o-1"))
            work.commit()

    tenant_paths = [
        lambda: repository.get(ACME, "o-1"),
        lambda: repository.list(ACME, limit=10, next_token=None),
        lambda: repository.is_processed(ACME, "e-1"),
        lambda: repository.purge(ACME),
        commit,
    ]
    for path in tenant_paths:
        with contextlib.suppress(Exception):  # empty answers may not decode: the keys are the point
            path()

    keys = {r["headers"]["Authorization"] for r in http.requests}
    assert len(http.requests) >= len(tenant_paths)
    assert keys == {"Bearer fnParentKey:tenant_t-acme:server"}

    with contextlib.suppress(Exception):
        FaunaOutboxSource(databases).pending(10)
    assert http.requests[-1]["headers"]["Authorization"] == "Bearer fnParentKey"
