"""200 orders for one unit each against a stock of 50, all at once, through the real consumer
handler and the DynamoDB store on moto: exactly 50 reserved, 150 rejected, never below zero."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import boto3
import pytest

from product_service.adapters.dynamodb_product_store import DynamoDBProductStore
from product_service.entrypoints import consumer
from tenant_context import TenantContext

from .. import conftest  # noqa: TID252

ORDERS, STOCK = 200, 50


@pytest.fixture
def serialised_moto_transactions() -> Iterator[list[int]]:
    """moto's TransactWriteItems snapshots and restores whole tables without a lock, so two
    threads can undo each other's commits; DynamoDB itself serialises transactions on an item.
    One lock around moto's call gives the service what DynamoDB gives it, nothing more. Yields
    every stock value seen after a transaction touched a product."""
    from moto.dynamodb.models import DynamoDBBackend

    original = DynamoDBBackend.transact_write_items
    lock = threading.Lock()
    seen: list[int] = []

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        with lock:
            try:
                original(self, transact_items)
            finally:
                for item in transact_items:
                    update = item.get("Update")
                    if update and update["Key"]["sk"]["S"].startswith("PRODUCT#"):
                        stored = self.get_item(update["TableName"], update["Key"])
                        seen.append(int(stored.attrs["stock"].value))

    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
    try:
        yield seen
    finally:
        DynamoDBBackend.transact_write_items = original  # type: ignore[method-assign]


@pytest.mark.slow
def test_two_hundred_concurrent_orders_reserve_exactly_the_stock(
    dynamodb_store: DynamoDBProductStore,
    wired: Callable[..., Any],
    serialised_moto_transactions: list[int],
    make_tenant: Callable[..., TenantContext],
    make_eventbridge_event: Callable[..., dict[str, Any]],
    make_sqs_event: Callable[..., dict[str, Any]],
    lambda_context: Any,
) -> None:
    # Given one product with 50 in stock
    wired(dynamodb_store)
    who = make_tenant()
    pid = (
        conftest.catalogue(dynamodb_store)
        .create(who, name="Limited", sku="L-1", price=Decimal("10.00"), stock=STOCK)
        .id
    )
    batches = [
        make_sqs_event(
            make_eventbridge_event(
                "OrderPlaced",
                {"order_id": f"o-{n}", "lines": [{"product_id": pid, "quantity": 1}]},
                who,
            )
        )
        for n in range(ORDERS)
    ]

    # When 200 OrderPlaced arrive at once, each in its own invocation
    with ThreadPoolExecutor(max_workers=16) as pool:
        responses = list(pool.map(lambda batch: consumer.handler(batch, lambda_context), batches))

    # Then exactly 50 are reserved, 150 rejected, and stock never went below zero
    assert all(r == {"batchItemFailures": []} for r in responses)
    outbox = [
        item["detail_type"]["S"]
        for item in boto3.client("dynamodb", region_name="us-east-1").scan(
            TableName=conftest.POOLED_TABLE
        )["Items"]
        if item["sk"]["S"].startswith("OUTBOX#")
    ]
    assert outbox.count("StockReserved") == STOCK
    assert outbox.count("StockReservationRejected") == ORDERS - STOCK
    assert dynamodb_store.stock_of(who, [pid]) == {pid: 0}
    assert serialised_moto_transactions  # the guard saw every product write
    assert min(serialised_moto_transactions) == 0
