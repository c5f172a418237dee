"""Every real consumer, fed what an SQS queue could hold: text, any JSON, and events of the
detail types it consumes whose metadata and data are anything at all.

Whatever arrives, the handler raises nothing (a raise would fail the whole batch and retry the
good records with the bad), answers Powertools' partial batch response naming only records of
the batch, and never fails a record silently: each one it reports as failed comes with a reason
in its log. Examples are derandomized: a failure
reproduces on the next run.
"""

from __future__ import annotations

import hashlib
import importlib
import io
import json
import logging
import uuid
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from saas_devtools.contracts.discovery import find_services

ROOT = Path(__file__).resolve().parents[2]


def _consumers() -> list[Any]:
    cases = [
        pytest.param(service.name, dotted, sorted(service.consumed()), id=dotted)
        for service in find_services(ROOT)
        if service.consumed()
        for dotted in service.consumer_modules()
    ]
    assert cases, "no consumer handler found"
    return cases


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@st.composite
def _event(draw: st.DrawFn, consumed: list[tuple[str, str]]) -> dict[str, Any]:
    """An EventBridge event of a consumed type, its envelope anywhere from valid to nonsense."""
    source, detail_type = draw(st.sampled_from(consumed))
    event_id = str(uuid.UUID(int=draw(st.integers(0, 2**128 - 1))))
    metadata: dict[str, Any] = {
        "event_id": event_id,
        "event_version": draw(st.sampled_from([1, 1, 2, 0, -1, "1", None])),
        "tenant_id": draw(st.sampled_from(["t-fuzz", "", " ", None, 7])),
        "correlation_id": event_id,
        "causation_id": None,
        "occurred_at": draw(st.sampled_from(["2026-12-01T10:00:00+00:00", "yesterday", None])),
        "producer": source,
        "tier": draw(st.sampled_from(["basic", "premium", "gold"])),
        "region_group": draw(st.sampled_from(["us", "eu", "mars"])),
    }
    for key in draw(st.lists(st.sampled_from(sorted(metadata)), max_size=2)):
        metadata.pop(key, None)
    data = draw(st.dictionaries(st.text(max_size=12), JSON, max_size=5) | JSON)
    detail: Any = draw(st.sampled_from(["envelope", "envelope", "anything"]))
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "source": source,
        "detail-type": detail_type,
        "account": "000000000000",
        "time": "2026-12-01T10:00:00Z",
        "region": "us-east-1",
        "resources": [],
        "detail": {"metadata": metadata, "data": data} if detail == "envelope" else data,
    }


def _bodies(consumed: list[tuple[str, str]]) -> st.SearchStrategy[list[str]]:
    one = (
        st.text(max_size=40)
        | JSON.map(json.dumps)
        | _event(consumed).map(json.dumps)
        | _event(consumed).map(json.dumps)
    )
    return st.lists(one, min_size=1, max_size=4)


def _sqs(bodies: list[str], queue: str) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": f"m-{i}",
                "receiptHandle": f"h-{i}",
                "body": body,
                "attributes": {
                    "ApproximateReceiveCount": "1",
                    "SentTimestamp": "1796187089000",
                    "SenderId": "events.amazonaws.com",
                    "ApproximateFirstReceiveTimestamp": "1796187089000",
                },
                "messageAttributes": {},
                "md5OfBody": hashlib.md5(body.encode(), usedforsecurity=False).hexdigest(),
                "eventSource": "aws:sqs",
                "eventSourceARN": f"arn:aws:sqs:us-east-1:000000000000:{queue}",
                "awsRegion": "us-east-1",
            }
            for i, body in enumerate(bodies)
        ]
    }


class _Context:
    function_name = "fuzz-consumer"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-1:000000000000:function:fuzz-consumer"
    aws_request_id = "fuzz"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 30_000


@pytest.mark.parametrize(("service", "module", "consumed"), _consumers())
def test_a_consumer_never_raises_and_never_drops_a_record_silently(
    service: str, module: str, consumed: list[tuple[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BACKEND", "memory")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "contract-tests")
    consumer = importlib.import_module(module)
    log_handler: logging.StreamHandler[Any] = consumer.logger.registered_handler

    @settings(
        max_examples=40, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck)
    )
    @given(bodies=_bodies(consumed))
    def feed(bodies: list[str]) -> None:
        event = _sqs(bodies, f"saas-{service}-events")
        lines = io.StringIO()
        previous = log_handler.setStream(lines)
        try:
            response = consumer.handler(event, _Context())
        finally:
            log_handler.setStream(previous)
        ids = {record["messageId"] for record in event["Records"]}
        failed = {item["itemIdentifier"] for item in response["batchItemFailures"]}
        assert failed <= ids
        logged = [json.loads(line) for line in lines.getvalue().splitlines() if line.strip()]
        reasons = [entry for entry in logged if entry.get("reason")]
        # Each record reported failed (left for the DLQ by SQS's redrive) has its reason logged
        assert len(reasons) >= len(failed), (failed, logged)

    feed()
