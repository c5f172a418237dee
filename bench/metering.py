"""The metering's own cost per request (tenant_context.metering): an API handler flushing its
EMF record through Powertools' `log_metrics`, with and without `metered`, and a DynamoDB call
(botocore, stubbed: no network) with and without the session's capacity hooks. The goal: under
0.1 ms of own overhead per request, and no I/O added (sockets opened while metering: 0)."""

from __future__ import annotations

import contextlib
import io
import os
import socket
import statistics
import time
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

from bench.report import Row

GOAL_MS = 0.1
ROUNDS = 15
PER_ROUND = 400

EVENT = {
    "resource": "/orders/{order_id}",
    "requestContext": {"authorizer": {"tenant_id": "acme", "tier": "basic"}},
}
CONTEXT = SimpleNamespace(memory_limit_in_mb=256)


def _per_call_ms(call: Callable[[], Any]) -> float:
    """The median over rounds of the mean time of one call, in ms."""
    rounds = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        for _ in range(PER_ROUND):
            call()
        rounds.append((time.perf_counter() - started) / PER_ROUND * 1000)
    return statistics.median(rounds)


def _handlers() -> tuple[Callable[[], Any], Callable[[], Any]]:
    os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "bench")
    os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "saas")
    from aws_lambda_powertools import Metrics

    from tenant_context.metering import metered

    metrics = Metrics()

    def business(event: Any, context: Any) -> dict[str, Any]:
        metrics.add_metric(name="OrdersPlaced", unit="Count", value=1)
        return {"statusCode": 200}

    plain = metrics.log_metrics(business)
    with_meter = metrics.log_metrics(metered(metrics, api=True)(business))
    return (lambda: plain(EVENT, CONTEXT)), (lambda: with_meter(EVENT, CONTEXT))


def _dynamodb_calls() -> tuple[Callable[[], Any], Callable[[], Any]]:
    import botocore.session
    from botocore.stub import Stubber

    from tenant_context.metering import Meter, _meter, meter_session

    def client(metered_session: bool) -> Any:
        session = botocore.session.get_session()
        if metered_session:
            meter_session(session)
        built = session.create_client(
            "dynamodb", region_name="us-east-1", aws_access_key_id="k", aws_secret_access_key="s"
        )
        stub = Stubber(built)
        answer = {"Item": {"pk": {"S": "x"}}}
        if metered_session:
            answer["ConsumedCapacity"] = {"TableName": "t", "CapacityUnits": 0.5}  # type: ignore[assignment]
        for _ in range(ROUNDS * PER_ROUND + 10):
            stub.add_response("get_item", answer)
        stub.activate()
        return built

    plain, hooked = client(False), client(True)
    _meter.set(Meter())
    key = {"pk": {"S": "x"}}
    return (
        lambda: plain.get_item(TableName="t", Key=key),
        lambda: hooked.get_item(TableName="t", Key=key),
    )


@contextlib.contextmanager
def _counting_sockets() -> Any:
    opened = [0]
    original = socket.socket.__init__

    def counting(self: Any, *args: Any, **kwargs: Any) -> None:
        opened[0] += 1
        original(self, *args, **kwargs)

    socket.socket.__init__ = counting  # type: ignore[method-assign]
    try:
        yield opened
    finally:
        socket.socket.__init__ = original  # type: ignore[method-assign]


def run() -> list[Row]:
    plain, metered_handler = _handlers()
    without_hooks, with_hooks = _dynamodb_calls()
    with contextlib.redirect_stdout(io.StringIO()), _counting_sockets() as opened:
        handler_base = _per_call_ms(plain)
        handler_metered = _per_call_ms(metered_handler)
        call_base = _per_call_ms(without_hooks)
        call_hooked = _per_call_ms(with_hooks)
    own = max(0.0, handler_metered - handler_base) + max(0.0, call_hooked - call_base)
    note = (
        f"handler {handler_base:.3f} -> {handler_metered:.3f} ms, DynamoDB call "
        f"{call_base:.3f} -> {call_hooked:.3f} ms; sockets opened: {opened[0]}"
    )
    return [
        Row(
            "metering",
            "own overhead per request (API + 1 DynamoDB call)",
            own,
            baseline="handler without metering",
            baseline_ms=handler_base,
            goal=f"< {GOAL_MS} ms, no I/O",
            met=own < GOAL_MS and opened[0] == 0,
            note=note,
        )
    ]


if __name__ == "__main__":
    from bench.report import render

    print(render(run()))
