"""Use cases on the in-memory fakes: what is committed, and what reaches the outbox."""

from __future__ import annotations

import pytest

from order_service.adapters.memory_order_repository import MemoryOrderRepository, MemoryStore
from order_service.adapters.memory_unit_of_work import MemoryUnitOfWork, MemoryUnitOfWorkFactory
from order_service.adapters.tracking_unit_of_work import Changes
from order_service.app.orders import Orders
from order_service.app.reactions import Reactions
from order_service.domain.errors import IdempotencyKeyReused, OrderNotFound
from order_service.domain.order import OrderLine, OrderStatus
from tenant_context import Cause


@pytest.fixture
def store():
    return MemoryStore()


@pytest.fixture
def orders(store):
    return Orders(MemoryOrderRepository(store), MemoryUnitOfWorkFactory(store))


@pytest.fixture
def reactions(store):
    return Reactions(MemoryOrderRepository(store), MemoryUnitOfWorkFactory(store))


def line(product_id="p-1", quantity=2):
    return OrderLine(product_id=product_id, quantity=quantity)


def kinds(store):
    return [m.detail_type for m in store.outbox]


def test_placing_an_order_commits_it_with_order_placed_in_the_envelope(
    store, orders, reactions, acme
):

    order = orders.place(acme, [line()], Cause(correlation_id="corr-1"))

    assert orders.get(acme, order.id).status is OrderStatus.PENDING
    [message] = store.outbox
    assert message.detail_type == "OrderPlaced"
    assert message.detail["data"] == {
        "order_id": order.id,
        "lines": [{"product_id": "p-1", "quantity": 2}],
    }
    metadata = message.detail["metadata"]
    assert (metadata["tenant_id"], metadata["correlation_id"]) == ("t-acme", "corr-1")
    assert (metadata["tier"], metadata["region_group"], metadata["producer"]) == (
        "basic",
        "us",
        "saas.order",
    )


def test_an_order_for_a_product_never_heard_of_is_accepted_and_the_saga_decides(
    store, orders, acme
):
    # The product service is the authority on products: no catalogue is asked here, so a
    # product created a moment before is never refused for want of its ProductCreated.
    order = orders.place(acme, [line(), line("p-created-a-moment-ago")], Cause())

    assert orders.get(acme, order.id).status is OrderStatus.PENDING
    assert kinds(store) == ["OrderPlaced"]
    lines = store.outbox[0].detail["data"]["lines"]
    assert [ln["product_id"] for ln in lines] == ["p-1", "p-created-a-moment-ago"]


def test_an_order_naming_an_unknown_product_is_rejected_with_the_products_reason(
    store, orders, reactions, acme
):
    order = orders.place(acme, [line("p-404")], Cause())

    reactions.stock_reservation_rejected(
        acme, order.id, "unknown product ids: p-404", Cause(event_id="e-1")
    )

    stored = orders.get(acme, order.id)
    assert (stored.status, stored.reason) == (OrderStatus.REJECTED, "unknown product ids: p-404")
    assert kinds(store) == ["OrderPlaced", "OrderRejected"]


def test_stock_reserved_confirms_once_even_when_delivered_twice(store, orders, reactions, acme):
    order = orders.place(acme, [line()], Cause())

    first = reactions.stock_reserved(acme, order.id, Cause("c", event_id="e-1"))
    second = reactions.stock_reserved(acme, order.id, Cause("c", event_id="e-1"))

    assert first is not None
    assert second is None
    assert orders.get(acme, order.id).status is OrderStatus.CONFIRMED
    assert kinds(store) == ["OrderPlaced", "OrderConfirmed"]
    confirmed = store.outbox[-1].detail["metadata"]
    assert (confirmed["causation_id"], confirmed["correlation_id"]) == ("e-1", "c")


def test_a_rejection_keeps_its_reason(orders, reactions, acme):
    order = orders.place(acme, [line(quantity=10)], Cause())

    reactions.stock_reservation_rejected(acme, order.id, "p-1: 10 > 3", Cause(event_id="e-1"))

    stored = orders.get(acme, order.id)
    assert (stored.status, stored.reason) == (OrderStatus.REJECTED, "p-1: 10 > 3")


def test_stock_reserved_for_a_cancelled_order_publishes_order_cancelled_again(
    store, orders, reactions, acme
):
    order = orders.place(acme, [line()], Cause())
    orders.cancel(acme, order.id, Cause())

    reactions.stock_reserved(acme, order.id, Cause(event_id="e-late"))

    assert orders.get(acme, order.id).status is OrderStatus.CANCELLED
    assert kinds(store) == ["OrderPlaced", "OrderCancelled", "OrderCancelled"]


def test_cancelling_a_confirmed_order_asks_for_its_stock_back(store, orders, reactions, acme):
    order = orders.place(acme, [line()], Cause())
    reactions.stock_reserved(acme, order.id, Cause(event_id="e-1"))

    cancelled = orders.cancel(acme, order.id, Cause())
    again = orders.cancel(acme, order.id, Cause())

    assert cancelled.status is again.status is OrderStatus.CANCELLED
    assert kinds(store) == ["OrderPlaced", "OrderConfirmed", "OrderCancelled"]
    assert store.outbox[-1].detail["data"]["lines"] == [{"product_id": "p-1", "quantity": 2}]


def test_another_tenants_order_is_not_found(orders, reactions, acme, globex):
    order = orders.place(acme, [line()], Cause())

    with pytest.raises(OrderNotFound):
        orders.get(globex, order.id)
    with pytest.raises(OrderNotFound):
        orders.cancel(globex, order.id, Cause())
    assert orders.list(globex, limit=20, next_token=None).orders == []


def test_an_event_for_an_order_the_tenant_does_not_have_changes_nothing(store, reactions, acme):
    assert reactions.stock_reserved(acme, "o-missing", Cause(event_id="e-1")) is None
    assert store.outbox == []


def test_deprovisioning_a_tenant_purges_only_its_orders(orders, reactions, acme, globex):
    for ctx in (acme, globex):
        orders.place(ctx, [line()], Cause())

    reactions.tenant_deprovisioned(acme)

    assert orders.list(acme, limit=20, next_token=None).orders == []
    assert len(orders.list(globex, limit=20, next_token=None).orders) == 1


def test_a_retried_request_with_the_same_idempotency_key_gets_the_same_order(
    store, orders, reactions, acme, globex
):
    first = orders.place(acme, [line()], Cause(), idempotency_key="k-1")
    again = orders.place(acme, [line()], Cause(), idempotency_key="k-1")
    theirs = orders.place(globex, [line()], Cause(), idempotency_key="k-1")

    assert again.id == first.id
    assert theirs.id != first.id
    assert kinds(store) == ["OrderPlaced", "OrderPlaced"]


def test_an_idempotency_key_reused_for_other_lines_is_refused(store, orders, reactions, acme):
    first = orders.place(acme, [line()], Cause(), idempotency_key="k-1")

    with pytest.raises(IdempotencyKeyReused, match=first.id):
        orders.place(acme, [line(quantity=3)], Cause(), idempotency_key="k-1")
    assert kinds(store) == ["OrderPlaced"]


class CancelledMeanwhile(MemoryUnitOfWork):
    """A unit of work where a user's cancel commits between the reaction's read and its write."""

    def __init__(self, store, ctx, cause, orders, raced):
        super().__init__(store, ctx, cause)
        self._app_orders, self._raced = orders, raced

    def _write(self, changes: Changes) -> None:
        if changes.processed_event_id and not self._raced:
            self._raced.append(changes.processed_event_id)
            [order] = changes.changed
            self._app_orders.cancel(self.ctx, order.id, Cause())
        super()._write(changes)


def test_stock_reserved_racing_a_cancel_rereads_and_asks_for_the_stock_back(store, orders, acme):
    # Given a pending order, and a cancel that commits while StockReserved is being applied
    order = orders.place(acme, [line()], Cause())
    raced: list[str] = []
    racing = Reactions(
        MemoryOrderRepository(store),
        lambda ctx, cause: CancelledMeanwhile(store, ctx, cause, orders, raced),
    )

    # When StockReserved is applied
    racing.stock_reserved(acme, order.id, Cause(event_id="e-1"))

    # Then the order stays CANCELLED and OrderCancelled goes out again, so stock is released
    assert raced == ["e-1"]
    assert orders.get(acme, order.id).status is OrderStatus.CANCELLED
    assert kinds(store) == ["OrderPlaced", "OrderCancelled", "OrderCancelled"]
    assert MemoryOrderRepository(store).is_processed(acme, "e-1")
