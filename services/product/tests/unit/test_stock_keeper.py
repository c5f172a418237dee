"""The saga use cases on the in-memory store: all-or-nothing, idempotent, reordering-safe."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest

from product_service.adapters.memory_product_store import MemoryProductStore
from product_service.app.stock import Outcome, StockKeeper
from product_service.domain.model import OrderLine, ReservationStatus
from tenant_context import Cause, TenantContext

from .. import conftest  # noqa: TID252


@pytest.fixture
def store() -> MemoryProductStore:
    return MemoryProductStore()


@pytest.fixture
def who(make_tenant: Callable[..., TenantContext]) -> TenantContext:
    return make_tenant()


def _product(store: MemoryProductStore, who: TenantContext, stock: int) -> str:
    return (
        conftest.catalogue(store)
        .create(who, name="Mug", sku="M", price=Decimal("3.00"), stock=stock)
        .id
    )


def _cause(event_id: str) -> Cause:
    return Cause(correlation_id=f"corr-{event_id}", event_id=event_id)


def _keeper(store: MemoryProductStore) -> StockKeeper:
    keeper: StockKeeper = conftest.stock_keeper(store)
    return keeper


def test_placing_an_order_reserves_all_lines_and_reports_stock_reserved(
    store: MemoryProductStore, who: TenantContext
) -> None:
    a, b = _product(store, who, 5), _product(store, who, 1)

    outcome = _keeper(store).reserve(who, _cause("e1"), "o-1", [OrderLine(a, 2), OrderLine(b, 1)])

    assert outcome is Outcome.RESERVED
    assert store.stock_of(who, [a, b]) == {a: 3, b: 0}
    event = store.outbox[-1]
    assert event.detail_type == "StockReserved"
    assert event.detail["data"] == {
        "order_id": "o-1",
        "lines": [{"product_id": a, "quantity": 2}, {"product_id": b, "quantity": 1}],
    }
    assert event.detail["metadata"]["causation_id"] == "e1"
    assert event.detail["metadata"]["correlation_id"] == "corr-e1"


def test_one_short_line_reserves_nothing_and_reports_the_short_lines(
    store: MemoryProductStore, who: TenantContext
) -> None:
    a, b = _product(store, who, 5), _product(store, who, 1)

    outcome = _keeper(store).reserve(who, _cause("e1"), "o-1", [OrderLine(a, 2), OrderLine(b, 2)])

    assert outcome is Outcome.REJECTED
    assert store.stock_of(who, [a, b]) == {a: 5, b: 1}
    event = store.outbox[-1]
    assert event.detail_type == "StockReservationRejected"
    assert event.detail["data"]["short_lines"] == [
        {"product_id": b, "requested": 2, "available": 1}
    ]


def test_a_duplicate_order_placed_changes_nothing(
    store: MemoryProductStore, who: TenantContext
) -> None:
    a = _product(store, who, 5)
    keeper = _keeper(store)
    keeper.reserve(who, _cause("e1"), "o-1", [OrderLine(a, 2)])
    published = len(store.outbox)

    again = keeper.reserve(who, _cause("e1"), "o-1", [OrderLine(a, 2)])
    other_id = keeper.reserve(who, _cause("e1-redelivered"), "o-1", [OrderLine(a, 2)])

    assert (again, other_id) == (Outcome.DUPLICATE, Outcome.DUPLICATE)
    assert store.stock_of(who, [a]) == {a: 3}
    assert len(store.outbox) == published


def test_cancelling_releases_only_what_the_order_reserved(
    store: MemoryProductStore, who: TenantContext
) -> None:
    a = _product(store, who, 5)
    keeper = _keeper(store)
    keeper.reserve(who, _cause("e1"), "o-1", [OrderLine(a, 2)])
    keeper.reserve(who, _cause("e2"), "o-2", [OrderLine(a, 9)])  # rejected

    first = keeper.release(who, _cause("e3"), "o-1")
    rejected = keeper.release(who, _cause("e4"), "o-2")
    twice = keeper.release(who, _cause("e5"), "o-1")

    assert (first, rejected, twice) == (
        Outcome.RELEASED,
        Outcome.NOTHING_TO_RELEASE,
        Outcome.NOTHING_TO_RELEASE,
    )
    assert store.stock_of(who, [a]) == {a: 5}
    assert [m.detail_type for m in store.outbox].count("StockReleased") == 1


def test_a_cancel_before_its_order_leaves_a_tombstone_so_the_late_order_reserves_nothing(
    store: MemoryProductStore, who: TenantContext
) -> None:
    a = _product(store, who, 5)
    keeper = _keeper(store)

    cancelled = keeper.release(who, _cause("cancel"), "o-1")
    placed = keeper.reserve(who, _cause("placed"), "o-1", [OrderLine(a, 2)])

    assert (cancelled, placed) == (Outcome.TOMBSTONED, Outcome.DUPLICATE)
    assert store.stock_of(who, [a]) == {a: 5}
    reservation = store.reservation(who, "o-1")
    assert reservation is not None
    assert reservation.status is ReservationStatus.CANCELLED
    assert store.is_processed(who, "placed")


def test_more_lines_than_allowed_is_rejected_with_the_reason_not_failed(
    store: MemoryProductStore, who: TenantContext
) -> None:
    lines = [OrderLine(f"p{i}", 1) for i in range(26)]

    outcome = _keeper(store).reserve(who, _cause("e1"), "o-1", lines)

    assert outcome is Outcome.REJECTED
    assert "at most 25" in store.outbox[-1].detail["data"]["reason"]


def test_release_skips_a_product_deleted_since_it_was_reserved(
    store: MemoryProductStore, who: TenantContext
) -> None:
    a, b = _product(store, who, 5), _product(store, who, 5)
    keeper = _keeper(store)
    keeper.reserve(who, _cause("e1"), "o-1", [OrderLine(a, 1), OrderLine(b, 1)])
    conftest.catalogue(store).delete(who, b)

    outcome = keeper.release(who, _cause("e2"), "o-1")

    assert outcome is Outcome.RELEASED
    assert store.stock_of(who, [a, b]) == {a: 5, b: None}


def test_purge_removes_the_tenant_and_only_the_tenant(
    store: MemoryProductStore, make_tenant: Callable[..., TenantContext]
) -> None:
    gone, stays = make_tenant(), make_tenant()
    a = _product(store, gone, 1)
    b = _product(store, stays, 1)

    removed = _keeper(store).purge(gone)

    assert removed == 1
    assert store.get(gone, a) is None
    assert store.get(stays, b) is not None


def test_an_order_naming_products_the_tenant_does_not_have_is_rejected_naming_them(
    store: MemoryProductStore, who: TenantContext, make_tenant: Callable[..., TenantContext]
) -> None:
    # The order service accepts any order: the product service is the authority on products.
    mine = _product(store, who, 5)
    theirs = _product(store, make_tenant(), 5)  # another tenant's product is unknown here

    outcome = _keeper(store).reserve(
        who, _cause("e1"), "o-1", [OrderLine(mine, 1), OrderLine("p-1", 1), OrderLine(theirs, 1)]
    )

    assert outcome is Outcome.REJECTED
    assert store.stock_of(who, [mine]) == {mine: 5}
    event = store.outbox[-1]
    assert event.detail_type == "StockReservationRejected"
    assert event.detail["data"]["reason"] == f"unknown products: p-1, {theirs}"
    assert event.detail["data"]["short_lines"] == [
        {"product_id": "p-1", "requested": 1, "available": 0},
        {"product_id": theirs, "requested": 1, "available": 0},
    ]
    assert store.is_processed(who, "e1")


def test_a_product_created_a_moment_before_the_order_is_reserved(
    store: MemoryProductStore, who: TenantContext
) -> None:
    pid = _product(store, who, 1)

    outcome = _keeper(store).reserve(who, _cause("e1"), "o-1", [OrderLine(pid, 1)])

    assert outcome is Outcome.RESERVED
    assert store.stock_of(who, [pid]) == {pid: 0}


def test_a_reaction_that_changes_nothing_still_marks_its_event(
    store: MemoryProductStore, who: TenantContext
) -> None:
    a = _product(store, who, 5)
    keeper = _keeper(store)
    keeper.reserve(who, _cause("e1"), "o-1", [OrderLine(a, 9)])  # rejected: nothing to release
    published = len(store.outbox)

    outcome = keeper.release(who, _cause("e2"), "o-1")

    assert outcome is Outcome.NOTHING_TO_RELEASE
    assert store.is_processed(who, "e2")
    assert len(store.outbox) == published
    assert keeper.release(who, _cause("e2"), "o-1") is Outcome.DUPLICATE
