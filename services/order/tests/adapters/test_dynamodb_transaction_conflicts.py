"""A transaction DynamoDB cancels only because another transaction held one of its items
(TransactionConflict) is sent again: nothing was refused, and AWS's SDKs leave that retry to
the caller. Found with the local platform's dynamodb.transaction_conflict fault: POST /orders
answered 409 "the order changed since it was read" for a brand-new order."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import boto3
import pytest
from moto import mock_aws
from order_testkit import POOLED_TABLE, all_items, create_orders_table, tenant

from order_service.adapters.dynamodb_unit_of_work import DynamoDBUnitOfWork
from order_service.domain.errors import ConcurrentUpdate
from order_service.domain.order import Order, OrderLine
from tenant_context import Cause
from tenant_context.transactions import CONFLICT_ATTEMPTS


class _Tables:
    """The pooled table through one client, whose first `conflicts` transactions are cancelled
    with the given reasons before they reach moto."""

    pooled_table = POOLED_TABLE

    def __init__(self, conflicts: int, reasons: list[str]) -> None:
        self._client = boto3.client("dynamodb", region_name="us-east-1")
        self.calls = 0
        self._conflicts = conflicts
        self._reasons = reasons
        self._client.meta.events.register("before-call.dynamodb.TransactWriteItems", self._cancel)

    def _cancel(self, **_: Any) -> Any:
        self.calls += 1
        if self.calls > self._conflicts:
            return None  # to moto
        codes = ", ".join(self._reasons)
        parsed = {
            "Error": {
                "Code": "TransactionCanceledException",
                "Message": "Transaction cancelled, please refer cancellation reasons for "
                f"specific reasons [{codes}]",
            },
            "CancellationReasons": [{"Code": code} for code in self._reasons],
            "ResponseMetadata": {"HTTPStatusCode": 400},
        }
        return SimpleNamespace(status_code=400), parsed

    def client(self, ctx: Any) -> Any:
        return self._client

    def data_table(self, ctx: Any) -> str:
        return POOLED_TABLE


def _place(tables: _Tables) -> None:
    order = Order.place([OrderLine(product_id="p-1", quantity=1)], order_id="o-1")
    uow = DynamoDBUnitOfWork(tables, tenant(), Cause(), sleep=lambda _: None)  # type: ignore[arg-type]
    with uow:
        uow.orders.add(order)
        uow.commit()


@mock_aws
def test_a_transaction_cancelled_by_a_conflict_alone_is_sent_again_and_commits():
    tables = _Tables(conflicts=CONFLICT_ATTEMPTS - 1, reasons=["TransactionConflict", "None"])
    create_orders_table(tables.client(None))

    _place(tables)

    assert tables.calls == CONFLICT_ATTEMPTS
    orders = [
        i for i in all_items(tables.client(None), POOLED_TABLE) if i["sk"]["S"] == "ORDER#o-1"
    ]
    assert len(orders) == 1


@mock_aws
def test_conflicts_that_persist_or_a_failed_condition_are_a_concurrent_update_at_once():
    tables = _Tables(conflicts=CONFLICT_ATTEMPTS, reasons=["TransactionConflict", "None"])
    create_orders_table(tables.client(None))
    with pytest.raises(ConcurrentUpdate):
        _place(tables)
    assert tables.calls == CONFLICT_ATTEMPTS

    refused = _Tables(conflicts=1, reasons=["ConditionalCheckFailed", "TransactionConflict"])
    with pytest.raises(ConcurrentUpdate):
        _place(refused)
    assert refused.calls == 1  # a refused condition is not retried
