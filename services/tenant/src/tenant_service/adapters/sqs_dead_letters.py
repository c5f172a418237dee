"""DeadLetters on the consumer's SQS DLQ: the message as it came, the reason as an attribute."""

from __future__ import annotations

from typing import Any


class SqsDeadLetters:
    def __init__(self, client: Any, *, queue_name: str) -> None:
        self._client = client
        self._queue_name = queue_name
        self._url: str | None = None

    def send(self, body: str, reason: str) -> None:
        if self._url is None:
            self._url = self._client.get_queue_url(QueueName=self._queue_name)["QueueUrl"]
        self._client.send_message(
            QueueUrl=self._url,
            MessageBody=body,
            MessageAttributes={"reason": {"DataType": "String", "StringValue": reason[:1000]}},
        )
