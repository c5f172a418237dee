"""The events Lambda hands to functions, in AWS's exact shapes: API Gateway REST proxy requests,
Lambda authorizer requests, SQS and DynamoDB-stream batches, and on-failure destination records."""

from __future__ import annotations

import base64
import hashlib
import json
import time
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

from saas_local.templates import ACCOUNT_ID


def _single_and_multi(
    pairs: Sequence[tuple[str, str]],
) -> tuple[dict[str, str] | None, dict[str, list[str]] | None]:
    """API Gateway's pair of maps: the last value of each name, and every value of each name."""
    if not pairs:
        return None, None
    multi: dict[str, list[str]] = {}
    for name, value in pairs:
        multi.setdefault(name, []).append(value)
    return {name: values[-1] for name, values in multi.items()}, multi


def method_arn(region: str, api_id: str, stage: str, method: str, path: str) -> str:
    return f"arn:aws:execute-api:{region}:{ACCOUNT_ID}:{api_id}/{stage}/{method}/{path.lstrip('/')}"


def request_context(
    *,
    resource: str,
    path: str,
    method: str,
    stage: str,
    api_id: str,
    source_ip: str,
    user_agent: str | None,
    request_id: str,
    authorizer: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    now = datetime.now(UTC)
    context: dict[str, Any] = {
        "accountId": ACCOUNT_ID,
        "apiId": api_id,
        "domainName": "localhost",
        "domainPrefix": "localhost",
        "extendedRequestId": request_id,
        "httpMethod": method,
        "identity": {
            "accessKey": None,
            "accountId": None,
            "caller": None,
            "cognitoAuthenticationProvider": None,
            "cognitoAuthenticationType": None,
            "cognitoIdentityId": None,
            "cognitoIdentityPoolId": None,
            "principalOrgId": None,
            "sourceIp": source_ip,
            "user": None,
            "userAgent": user_agent,
            "userArn": None,
        },
        "path": f"/{stage}{path}",
        "protocol": "HTTP/1.1",
        "requestId": request_id,
        "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
        "requestTimeEpoch": int(now.timestamp() * 1000),
        "resourceId": hashlib.sha1(resource.encode()).hexdigest()[:6],
        "resourcePath": resource,
        "stage": stage,
    }
    if authorizer is not None:
        context["authorizer"] = dict(authorizer)
    return context


def rest_proxy_event(
    *,
    method: str,
    path: str,
    resource: str,
    query: str,
    headers: Sequence[tuple[str, str]],
    body: bytes,
    path_parameters: Mapping[str, str],
    context: Mapping[str, Any],
) -> dict[str, Any]:
    """An API Gateway REST API Lambda proxy integration event."""
    single_headers, multi_headers = _single_and_multi(headers)
    single_query, multi_query = _single_and_multi(parse_qsl(query, keep_blank_values=True))
    try:
        text: str | None = body.decode("utf-8") if body else None
        encoded = False
    except UnicodeDecodeError:
        text, encoded = base64.b64encode(body).decode(), True
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": single_headers,
        "multiValueHeaders": multi_headers,
        "queryStringParameters": single_query,
        "multiValueQueryStringParameters": multi_query,
        "pathParameters": dict(path_parameters) or None,
        "stageVariables": None,
        "requestContext": dict(context),
        "body": text,
        "isBase64Encoded": encoded,
    }


def token_authorizer_event(token: str, arn: str) -> dict[str, Any]:
    return {"type": "TOKEN", "authorizationToken": token, "methodArn": arn}


_REQUEST_KEYS = [
    "resource",
    "path",
    "httpMethod",
    "headers",
    "multiValueHeaders",
    "queryStringParameters",
    "multiValueQueryStringParameters",
    "pathParameters",
    "stageVariables",
    "requestContext",
]


def request_authorizer_event(proxy_event: Mapping[str, Any], arn: str) -> dict[str, Any]:
    return {"type": "REQUEST", "methodArn": arn, **{k: proxy_event.get(k) for k in _REQUEST_KEYS}}


def sqs_record(message: Mapping[str, Any], queue_arn: str, region: str) -> dict[str, Any]:
    """One record of Lambda's SQS event, from a ReceiveMessage message (all attributes asked)."""
    attributes = dict(message.get("Attributes", {}))
    record_attributes = {
        "ApproximateReceiveCount": attributes.get("ApproximateReceiveCount", "1"),
        "SentTimestamp": attributes.get("SentTimestamp", str(int(time.time() * 1000))),
        "SenderId": attributes.get("SenderId", ACCOUNT_ID),
        "ApproximateFirstReceiveTimestamp": attributes.get(
            "ApproximateFirstReceiveTimestamp", str(int(time.time() * 1000))
        ),
    }
    for optional in (
        "MessageGroupId",
        "MessageDeduplicationId",
        "SequenceNumber",
        "AWSTraceHeader",
    ):
        if optional in attributes:
            record_attributes[optional] = attributes[optional]
    message_attributes = {}
    for name, value in (message.get("MessageAttributes") or {}).items():
        binary = value.get("BinaryValue")
        message_attributes[name] = {
            "stringValue": value.get("StringValue"),
            "binaryValue": base64.b64encode(binary).decode() if binary is not None else None,
            "stringListValues": value.get("StringListValues", []),
            "binaryListValues": [
                base64.b64encode(b).decode() for b in value.get("BinaryListValues", [])
            ],
            "dataType": value.get("DataType", "String"),
        }
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": record_attributes,
        "messageAttributes": message_attributes,
        "md5OfBody": message.get("MD5OfBody") or hashlib.md5(message["Body"].encode()).hexdigest(),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }


def _wire_attribute_value(value: Any) -> Any:
    """boto3 decodes binary attribute values to bytes; Lambda's event carries them as base64."""
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode()
    if isinstance(value, dict):
        return {k: _wire_attribute_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_wire_attribute_value(v) for v in value]
    return value


def dynamodb_record(record: Mapping[str, Any], stream_arn: str) -> dict[str, Any]:
    """One record of Lambda's DynamoDB-stream event, from a GetRecords record."""
    stream = dict(record.get("dynamodb", {}))
    created = stream.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        stream["ApproximateCreationDateTime"] = int(created.timestamp())
    elif created is None:
        stream["ApproximateCreationDateTime"] = int(time.time())
    return {
        "eventID": record.get("eventID") or uuid.uuid4().hex,
        "eventName": record["eventName"],
        "eventVersion": record.get("eventVersion", "1.1"),
        "eventSource": "aws:dynamodb",
        "awsRegion": record.get("awsRegion") or stream_arn.split(":")[3],
        "dynamodb": _wire_attribute_value(stream),
        "eventSourceARN": stream_arn,
    }


def stream_failure_record(
    *,
    function_arn: str,
    stream_arn: str,
    shard_id: str,
    records: Sequence[Mapping[str, Any]],
    attempts: int,
    function_error: str,
    condition: str = "RetryAttemptsExhausted",
) -> dict[str, Any]:
    """What Lambda sends to an event source mapping's on-failure destination for a stream batch
    it gives up on: the batch's position in the shard, not the records themselves."""
    first, last = records[0]["dynamodb"], records[-1]["dynamodb"]

    def arrival(item: Mapping[str, Any]) -> str:
        stamp = datetime.fromtimestamp(item.get("ApproximateCreationDateTime", time.time()), UTC)
        return stamp.isoformat(timespec="milliseconds").replace("+00:00", "Z")

    return {
        "requestContext": {
            "requestId": str(uuid.uuid4()),
            "functionArn": function_arn,
            "condition": condition,
            "approximateInvokeCount": attempts,
        },
        "responseContext": {
            "statusCode": 200,
            "executedVersion": "$LATEST",
            "functionError": function_error,
        },
        "version": "1.0",
        "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "DDBStreamBatchInfo": {
            "shardId": shard_id,
            "startSequenceNumber": first.get("SequenceNumber"),
            "endSequenceNumber": last.get("SequenceNumber"),
            "approximateArrivalOfFirstRecord": arrival(first),
            "approximateArrivalOfLastRecord": arrival(last),
            "batchSize": len(records),
            "streamArn": stream_arn,
        },
    }


def filter_view(record: Mapping[str, Any]) -> dict[str, Any]:
    """The record as Lambda's event filtering sees it: an SQS body that is JSON is matched as
    JSON (so `{"body": {"detail-type": [...]}}` works), anything else as it is."""
    if record.get("eventSource") == "aws:sqs":
        try:
            return {**record, "body": json.loads(record["body"])}
        except ValueError:
            return dict(record)
    return dict(record)
