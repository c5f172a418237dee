"""A transaction DynamoDB cancels only because another transaction held one of its items
(TransactionConflict) is sent again: nothing was refused, and AWS's SDKs leave that retry to
the caller. Found with the local platform's dynamodb.transaction_conflict fault: POST /products
answered 409 for a brand-new product."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest

from product_service.adapters.dynamodb_product_store import DynamoDBProductStore
from product_service.domain.errors import ConcurrentChange
from tenant_context import TenantContext, transactions

from .. import conftest  # noqa: TID252  (the suite's own fixtures module)


class _Cancel:
    """Cancels the first `times` transactions with `reasons` before they reach moto."""

    def __init__(self, times: int, reasons: list[str]) -> None:
        self.calls = 0
        self._times = times
        self._reasons = reasons

    def __call__(self, **_: Any) -> Any:
        self.calls += 1
        if self.calls > self._times:
            return None  # to moto
        parsed = {
            "Error": {
                "Code": "TransactionCanceledException",
                "Message": "Transaction cancelled, please refer cancellation reasons for "
                f"specific reasons [{', '.join(self._reasons)}]",
            },
            "CancellationReasons": [{"Code": code} for code in self._reasons],
            "ResponseMetadata": {"HTTPStatusCode": 400},
        }
        return SimpleNamespace(status_code=400), parsed


def _cancelling(
    store: DynamoDBProductStore, who: TenantContext, cancel: _Cancel, monkeypatch: Any
) -> None:
    client = store.db(who)
    client.meta.events.register("before-call.dynamodb.TransactWriteItems", cancel)
    monkeypatch.setattr(store, "db", lambda tenant: client)
    monkeypatch.setattr(transactions, "CONFLICT_BACKOFF_SECONDS", 0.0)


def _create(store: DynamoDBProductStore, who: TenantContext) -> Any:
    return conftest.catalogue(store).create(
        who, name="Mug", sku="M-1", price=Decimal("1.00"), stock=2
    )


def test_a_transaction_cancelled_by_a_conflict_alone_is_sent_again_and_commits(
    dynamodb_store: DynamoDBProductStore,
    make_tenant: Callable[..., TenantContext],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    who = make_tenant()
    cancel = _Cancel(transactions.CONFLICT_ATTEMPTS - 1, ["TransactionConflict", "None"])
    _cancelling(dynamodb_store, who, cancel, monkeypatch)

    product = _create(dynamodb_store, who)

    assert cancel.calls == transactions.CONFLICT_ATTEMPTS
    assert dynamodb_store.get(who, product.id) is not None


def test_conflicts_that_persist_or_a_failed_condition_are_refused_without_more_attempts(
    dynamodb_store: DynamoDBProductStore,
    make_tenant: Callable[..., TenantContext],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    who = make_tenant()
    cancel = _Cancel(transactions.CONFLICT_ATTEMPTS, ["TransactionConflict", "None"])
    _cancelling(dynamodb_store, who, cancel, monkeypatch)
    with pytest.raises(ConcurrentChange):
        _create(dynamodb_store, who)
    assert cancel.calls == transactions.CONFLICT_ATTEMPTS

    refused = _Cancel(1, ["ConditionalCheckFailed", "TransactionConflict"])
    _cancelling(dynamodb_store, who, refused, monkeypatch)
    with pytest.raises(ConcurrentChange):
        _create(dynamodb_store, who)
    assert refused.calls == 1  # a refused condition is not retried
