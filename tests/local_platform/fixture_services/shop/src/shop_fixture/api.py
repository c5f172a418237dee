"""Echoes what the gateway sent (the event and the function's environment), so tests can
assert the event's shape; /broken answers something API Gateway cannot map."""

import json
import os


def echo(event, context):
    if event["path"] == "/broken":
        return {"no": "statusCode"}
    names = ("TABLE_NAME", "BUS_ARN", "QUEUE_URL", "SUBBED", "AWS_ENDPOINT_URL", "AWS_REGION")
    body = {
        "event": event,
        "environment": {name: os.environ.get(name) for name in names},
        "function_name": context.function_name,
        "pid": os.getpid(),
    }
    return {
        "statusCode": 200,
        "headers": {"Content-Type": "application/json"},
        "multiValueHeaders": {"X-Echo": ["one", "two"]},
        "body": json.dumps(body),
    }
