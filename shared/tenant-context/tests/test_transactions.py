"""A transaction cancelled by conflicts alone is sent again; any other cancellation is not."""

from __future__ import annotations

from typing import Any

import pytest

from tenant_context.transactions import (
    CONFLICT_ATTEMPTS,
    cancellation_codes,
    only_conflicts,
    transact_resending_conflicts,
)


class Cancelled(Exception):
    """What botocore raises for a cancelled TransactWriteItems: the codes in `response`."""

    def __init__(self, *codes: str) -> None:
        super().__init__("cancelled")
        self.response: dict[str, Any] = {
            "Error": {"Code": "TransactionCanceledException"},
            "CancellationReasons": [{"Code": code} for code in codes],
        }


def sender(failures: list[Exception]) -> tuple[list[int], Any]:
    calls: list[int] = []

    def send() -> None:
        calls.append(1)
        if failures:
            raise failures.pop(0)

    return calls, send


def test_conflicts_alone_are_sent_again_with_a_growing_backoff() -> None:
    calls, send = sender([Cancelled("TransactionConflict", "None")] * (CONFLICT_ATTEMPTS - 1))
    slept: list[float] = []

    transact_resending_conflicts(send, sleep=slept.append)

    assert len(calls) == CONFLICT_ATTEMPTS
    assert len(slept) == CONFLICT_ATTEMPTS - 1
    assert all(s >= 0 for s in slept)


def test_the_last_conflict_is_raised() -> None:
    calls, send = sender([Cancelled("TransactionConflict")] * CONFLICT_ATTEMPTS)

    with pytest.raises(Cancelled):
        transact_resending_conflicts(send, sleep=lambda _: None)
    assert len(calls) == CONFLICT_ATTEMPTS


@pytest.mark.parametrize(
    "error",
    [
        Cancelled("ConditionalCheckFailed", "TransactionConflict"),
        Cancelled("None", "ConditionalCheckFailed"),
        ValueError("not a cancellation"),
    ],
)
def test_any_other_failure_is_raised_at_once(error: Exception) -> None:
    calls, send = sender([error])

    with pytest.raises(type(error)):
        transact_resending_conflicts(send, sleep=lambda _: None)
    assert len(calls) == 1


def test_the_codes_are_read_from_the_error_as_botocore_shapes_it() -> None:
    assert cancellation_codes(Cancelled("None", "TransactionConflict")) == [
        "None",
        "TransactionConflict",
    ]
    assert cancellation_codes(ValueError("x")) is None
    assert only_conflicts(["TransactionConflict", None]) is True
    assert only_conflicts(["ConditionalCheckFailed"]) is False
    assert only_conflicts(None) is False
