"""Resending a DynamoDB transaction that another transaction got in the way of.

A TransactWriteItems cancelled only by `TransactionConflict` (another transaction held one of its
items) wrote nothing and refused nothing: AWS's SDKs leave its retry to the caller, and AWS
advises sending the same writes again after a backoff. Every service's unit of work does that
through `transact_resending_conflicts`; a cancellation for any other reason (a failed condition)
is raised at once, for the unit of work to say what it means.

No AWS call here: the caller passes the call, and the cancellation is read from the error's
`response` as botocore shapes it.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any

# Sent up to this many times in all, after a jittered, doubling backoff.
CONFLICT_ATTEMPTS = 4
CONFLICT_BACKOFF_SECONDS = 0.02


def cancellation_codes(exc: BaseException) -> list[Any] | None:
    """Each item's cancellation code ("None" or None where it refused nothing), in the order of
    the transaction's items; None when `exc` is not a cancelled transaction."""
    response = getattr(exc, "response", None)
    if not isinstance(response, dict):
        return None
    if response.get("Error", {}).get("Code") != "TransactionCanceledException":
        return None
    return [reason.get("Code") for reason in response.get("CancellationReasons") or []]


def only_conflicts(codes: list[Any] | None) -> bool:
    """Cancelled because another transaction held an item, nothing else refused."""
    return (
        codes is not None
        and "TransactionConflict" in codes
        and all(code in (None, "None", "TransactionConflict") for code in codes)
    )


def transact_resending_conflicts(
    send: Callable[[], object], *, sleep: Callable[[float], None] = time.sleep
) -> None:
    """`send()` (one TransactWriteItems), sent again while it is cancelled by conflicts alone,
    up to CONFLICT_ATTEMPTS in all; any other error, or the last conflict, is raised."""
    for attempt in range(1, CONFLICT_ATTEMPTS + 1):
        try:
            send()
            return
        except Exception as exc:
            if attempt == CONFLICT_ATTEMPTS or not only_conflicts(cancellation_codes(exc)):
                raise
            sleep(random.uniform(0, CONFLICT_BACKOFF_SECONDS * 2**attempt))
