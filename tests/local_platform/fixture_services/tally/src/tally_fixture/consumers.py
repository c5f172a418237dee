"""Consumers that count what they are given: each delivery of a message or stream record adds 1
to its counter, and each batch is stored with its order, so tests see duplicates and order."""

import os

import boto3

_table = boto3.resource("dynamodb").Table(os.environ["TABLE_NAME"])


def _count(key: str) -> None:
    _table.update_item(
        Key={"pk": f"COUNT#{key}"},
        UpdateExpression="ADD deliveries :one",
        ExpressionAttributeValues={":one": 1},
    )


def count_messages(event, context):
    """Counts each message body; stores the batch (its queue and bodies in delivered order)."""
    bodies = [record["body"] for record in event["Records"]]
    queue = event["Records"][0]["eventSourceARN"].rsplit(":", 1)[-1]
    _table.put_item(
        Item={"pk": f"BATCH#{context.aws_request_id}", "source": queue, "items": bodies}
    )
    for body in bodies:
        _count(body)
    return {"batchItemFailures": []}


def count_records(event, context):
    """Counts each stream record by its item's pk; stores the batch's sequence numbers."""
    keys = [record["dynamodb"]["NewImage"]["pk"]["S"] for record in event["Records"]]
    _table.put_item(
        Item={"pk": f"BATCH#{context.aws_request_id}", "source": "stream", "items": keys}
    )
    for key in keys:
        _count(key)
    return {"batchItemFailures": []}
