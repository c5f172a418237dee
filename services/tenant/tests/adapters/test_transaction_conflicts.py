"""A transaction DynamoDB cancels only because another transaction held one of its items
(TransactionConflict) is sent again: nothing was refused, and AWS's SDKs leave that retry to
the caller. Found with the local platform's dynamodb.transaction_conflict fault: a new tenant
(POST /tenants) would otherwise be answered 409 as if it had been changed concurrently."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from tenant_context import Cause
from tenant_context.transactions import CONFLICT_ATTEMPTS
from tenant_service.adapters.dynamodb_tenant_repository import DynamoDBTenantRepository
from tenant_service.adapters.dynamodb_unit_of_work import DynamoDBUnitOfWork
from tenant_service.domain.errors import ConcurrentModification

from .test_unit_of_work import _ctx, _tenant, client  # noqa: F401  (the fixture)

TABLES = {"tenant_table": "saas-tenants", "service_table": "saas-tenant-service"}


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


def _add_tenant(ddb: Any, cancel: _Cancel) -> None:
    ddb.meta.events.register("before-call.dynamodb.TransactWriteItems", cancel)
    uow = DynamoDBUnitOfWork(ddb, **TABLES, ctx=_ctx("t1"), cause=Cause(), sleep=lambda _: None)
    with uow:
        uow.tenants.add(_tenant())
        uow.commit()


def test_a_transaction_cancelled_by_a_conflict_alone_is_sent_again_and_commits(client):  # noqa: F811
    cancel = _Cancel(CONFLICT_ATTEMPTS - 1, ["TransactionConflict"])

    _add_tenant(client, cancel)

    assert cancel.calls == CONFLICT_ATTEMPTS
    assert DynamoDBTenantRepository(client, **TABLES).get("t1") is not None


def test_conflicts_that_persist_or_a_failed_condition_are_refused_without_more_attempts(
    client,  # noqa: F811
):
    cancel = _Cancel(CONFLICT_ATTEMPTS, ["TransactionConflict"])
    with pytest.raises(ConcurrentModification):
        _add_tenant(client, cancel)
    assert cancel.calls == CONFLICT_ATTEMPTS

    refused = _Cancel(1, ["ConditionalCheckFailed"])
    with pytest.raises(ConcurrentModification):
        _add_tenant(client, refused)
    assert refused.calls == 1  # a refused condition is not retried
