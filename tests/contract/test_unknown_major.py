"""Every real consumer sends an event of a major version it does not know to its DLQ.

Given each consumer handler of the workspace (an entrypoint module reading CONSUMED), when it
receives an event it consumes but with metadata.event_version 99, then it raises nothing, logs
the reason naming the version, and either reports the record as a batch item failure (SQS
retries it, then its redrive policy moves it to the DLQ) or, having put it in its DLQ itself
with the reason attached, acknowledges it (the log line says so).
"""

from __future__ import annotations

import importlib
import io
import json
import logging
import uuid
from pathlib import Path
from typing import Any

import pytest

from saas_devtools.contracts.discovery import find_services
from saas_devtools.event_log.logged_event import LoggedEvent
from saas_devtools.replay.into_handler import LambdaContext, sqs_event

ROOT = Path(__file__).resolve().parents[2]
UNKNOWN_MAJOR = 99


def _consumer_handlers() -> list[Any]:
    cases = []
    for service in find_services(ROOT):
        consumed = sorted(service.consumed())
        for dotted in service.consumer_modules():
            for source, detail_type in consumed:
                cases.append(
                    pytest.param(
                        service.name,
                        dotted,
                        source,
                        detail_type,
                        id=f"{service.name}.{dotted.rpartition('.')[2]}:{detail_type}",
                    )
                )
    return cases or [
        pytest.param(
            None,
            None,
            None,
            None,
            marks=pytest.mark.skip(
                reason="no consumer handler (an entrypoint reading CONSUMED) exists yet"
            ),
        )
    ]


def _event(source: str, detail_type: str) -> LoggedEvent:
    event_id = str(uuid.uuid4())
    return LoggedEvent.from_eventbridge(
        {
            "version": "0",
            "id": str(uuid.uuid4()),
            "source": source,
            "detail-type": detail_type,
            "account": "000000000000",
            "time": "2026-11-23T20:00:00Z",
            "region": "us-east-1",
            "resources": [],
            "detail": {
                "metadata": {
                    "event_id": event_id,
                    "event_version": UNKNOWN_MAJOR,
                    "tenant_id": "t-contract",
                    "correlation_id": event_id,
                    "causation_id": None,
                    "occurred_at": "2026-11-23T20:00:00+00:00",
                    "producer": source,
                    "tier": "basic",
                    "region_group": "us",
                },
                "data": {"shape": "of a future major this consumer cannot know"},
            },
        }
    )


@pytest.mark.parametrize(("service", "module", "source", "detail_type"), _consumer_handlers())
def test_an_unknown_major_version_goes_to_the_dlq_with_its_reason_and_raises_nothing(
    service: str, module: str, source: str, detail_type: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BACKEND", "memory")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "contract-tests")
    consumer = importlib.import_module(module)
    # Built from the environment above, whatever container an earlier test left in the process
    # (and the one it left is back after this test)
    composition = importlib.import_module(f"{module.partition('.')[0]}.container")
    monkeypatch.setattr(composition, "_container", None)
    lines = io.StringIO()
    handler: logging.StreamHandler[Any] = consumer.logger.registered_handler
    previous = handler.setStream(lines)
    event = sqs_event(_event(source, detail_type), queue_name=f"saas-{service}-events")
    try:
        response = consumer.handler(event, LambdaContext(f"{service}-consumer"))
    finally:
        handler.setStream(previous)

    message_id = event["Records"][0]["messageId"]
    logged = [json.loads(line) for line in lines.getvalue().splitlines() if line.strip()]
    reasons = [entry for entry in logged if str(UNKNOWN_MAJOR) in str(entry.get("reason", ""))]
    assert reasons, f"{module} logged no reason naming event_version {UNKNOWN_MAJOR}: {logged}"
    if response == {"batchItemFailures": []}:
        assert any("DLQ" in str(entry.get("message", "")) for entry in reasons), (
            f"{module} acknowledged an event of an unknown major without dead-lettering it"
        )
    else:
        assert response == {"batchItemFailures": [{"itemIdentifier": message_id}]}
