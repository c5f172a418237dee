"""DeadLetters on SQS: the record as it came, and the reason, in one message."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any


class SqsDeadLetters:
    def __init__(self, sqs_client: Any, queue_url: str) -> None:
        self._client = sqs_client
        self._queue_url = queue_url

    def send(self, record: Mapping[str, Any], reason: str) -> None:
        self._client.send_message(
            QueueUrl=self._queue_url,
            MessageBody=json.dumps({"reason": reason, "record": record}, default=str),
            MessageAttributes={"reason": {"DataType": "String", "StringValue": reason[:1024]}},
        )
