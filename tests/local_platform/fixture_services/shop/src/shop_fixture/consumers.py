"""Consumers that write what they receive into the fixture table, so tests can observe them."""

import json
import os

import boto3

_table = boto3.resource("dynamodb").Table(os.environ["TABLE_NAME"])


def record_events(event, context):
    """Each message body (an EventBridge event) is stored under pk "EVENT#<detail.key>"."""
    for record in event["Records"]:
        body = json.loads(record["body"])
        _table.put_item(
            Item={
                "pk": f"EVENT#{body['detail']['key']}",
                "record": json.dumps(record),
            }
        )
    return {"batchItemFailures": []}


def fail_poison(event, context):
    """Fails the messages whose body is "poison"; stores the others under pk "OK#<body>"."""
    failures = []
    for record in event["Records"]:
        if record["body"] == "poison":
            failures.append({"itemIdentifier": record["messageId"]})
        else:
            _table.put_item(Item={"pk": f"OK#{record['body']}"})
    return {"batchItemFailures": failures}


def record_stream(event, context):
    """Stores each stream record it sees under pk "SEEN#<pk>" (a failure for "fail": true items,
    reported from that record on)."""
    for index, record in enumerate(event["Records"]):
        image = record["dynamodb"]["NewImage"]
        if image.get("fail", {}).get("BOOL"):
            return {
                "batchItemFailures": [
                    {"itemIdentifier": r["dynamodb"]["SequenceNumber"]}
                    for r in event["Records"][index:]
                ]
            }
        _table.put_item(Item={"pk": f"SEEN#{image['pk']['S']}", "record": json.dumps(record)})
    return {"batchItemFailures": []}
