"""Moving a dead-letter queue's messages back to where they are processed, message by message,
saying for each what was done with it or why it was refused (a refused message stays in the DLQ,
visible again at the end of the run).

- sqs: the message, as it is, to its source queue (its `reason` attribute dropped: a new failure
  writes a new one). The consumer is idempotent by event_id, so a message that was in fact
  processed before it was dead-lettered changes nothing the second time.
- rule-target: the event to the queue its TARGET_ARN attribute names, if a template routes to it.
- stream: Lambda's on-failure record names a batch's position (shard, first and last sequence
  number), not the records: they are read again from the stream and the function is invoked with
  them (its template's filters applied, as the event source mapping does). A stream keeps a
  record 24 hours; when the first record of the batch is gone the message is refused: what it
  stood for must be reconciled from the table (README, "Dead letters and redrive"). A message
  that carries the record itself (the provisioner's own dead letters, with their reason) invokes
  the function with that record.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from saas_devtools.redrive.destinations import Destination

# (function name or ARN, event) -> the function's answer; raises FunctionFailed
Invoke = Callable[[str, Mapping[str, Any]], Any]
# a stream destination -> the name of its function where the message does not say
FunctionOf = Callable[[Destination], str]

RECEIVE_VISIBILITY_SECONDS = 120  # a message being redriven is hidden from a second run


class FunctionFailed(RuntimeError):
    """The function answered with an error (Lambda's FunctionError)."""


class Refused(Exception):
    """This message is not moved; the text says why."""


@dataclass
class Report:
    queue: str
    moved: list[dict[str, str]] = field(default_factory=list)
    refused: list[dict[str, str]] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [
            f"moved {m['message_id']} -> {m['to']} (dead-lettered: {m['reason']})"
            for m in self.moved
        ]
        out += [
            f"refused {r['message_id']}: {r['why']} (dead-lettered: {r['reason']})"
            for r in self.refused
        ]
        out.append(f"{self.queue}: moved {len(self.moved)}, refused {len(self.refused)}")
        return out


def lambda_invoker(client: Any) -> Invoke:
    """Invoke through Lambda's API (AWS, or the local platform's control endpoint)."""

    def invoke(function: str, event: Mapping[str, Any]) -> Any:
        answer = client.invoke(FunctionName=function, Payload=json.dumps(event).encode())
        payload = answer["Payload"].read()
        result = json.loads(payload) if payload else None
        if answer.get("FunctionError"):
            message = result.get("errorMessage") if isinstance(result, Mapping) else result
            raise FunctionFailed(f"{answer['FunctionError']}: {message}")
        return result

    return invoke


def dead_letter_reason(message: Mapping[str, Any]) -> str:
    """Why the message was dead-lettered, as far as the message says."""
    attributes = message.get("MessageAttributes") or {}
    for name in ("reason", "ERROR_MESSAGE", "ERROR_CODE"):
        value = (attributes.get(name) or {}).get("StringValue")
        if value:
            return str(value)
    try:
        body = json.loads(message.get("Body") or "")
    except json.JSONDecodeError:
        body = None
    if isinstance(body, Mapping):
        if isinstance(body.get("reason"), str):
            return str(body["reason"])
        context, response = body.get("requestContext"), body.get("responseContext")
        if isinstance(context, Mapping) and isinstance(response, Mapping):
            return (
                f"{context.get('condition')} after {context.get('approximateInvokeCount')} "
                f"invocations ({response.get('functionError')})"
            )
    count = (message.get("Attributes") or {}).get("ApproximateReceiveCount", "?")
    # A queue's redrive policy moves a message without a reason: the consumer logged it
    # ("message left for the DLQ", with the message id) each time it failed the message.
    return f"failed {count} receives; the consumer's log has the reason"


class Redrive:
    def __init__(
        self,
        sqs: Any,
        streams: Any = None,
        invoke: Invoke | None = None,
        function_of: FunctionOf | None = None,
    ) -> None:
        self._sqs = sqs
        self._streams = streams
        self._invoke = invoke
        self._function_of = function_of
        self._urls: dict[str, str] = {}

    def _url(self, queue: str) -> str:
        if queue not in self._urls:
            self._urls[queue] = self._sqs.get_queue_url(QueueName=queue)["QueueUrl"]
        return self._urls[queue]

    def run(self, destination: Destination, limit: int = 1000, dry_run: bool = False) -> Report:
        report = Report(destination.queue)
        url = self._url(destination.queue)
        seen: set[str] = set()
        kept: list[str] = []  # receipt handles of what stays in the DLQ
        try:
            while len(seen) < limit:
                messages = self._sqs.receive_message(
                    QueueUrl=url,
                    MaxNumberOfMessages=min(10, limit - len(seen)),
                    WaitTimeSeconds=1,
                    VisibilityTimeout=RECEIVE_VISIBILITY_SECONDS,
                    AttributeNames=["All"],
                    MessageAttributeNames=["All"],
                ).get("Messages", [])
                fresh = [m for m in messages if m["MessageId"] not in seen]
                if not fresh:
                    kept += [m["ReceiptHandle"] for m in messages]
                    break
                for message in fresh:
                    seen.add(message["MessageId"])
                    reason = dead_letter_reason(message)
                    entry = {"message_id": message["MessageId"], "reason": reason}
                    try:
                        where = self._where(destination, message)
                        if not dry_run:
                            self._move(destination, message, where)
                    except Refused as refused:
                        report.refused.append({**entry, "why": str(refused)})
                        kept.append(message["ReceiptHandle"])
                        continue
                    if dry_run:
                        report.moved.append({**entry, "to": f"{where} (dry run: not moved)"})
                        kept.append(message["ReceiptHandle"])
                        continue
                    self._sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
                    report.moved.append({**entry, "to": where})
        finally:
            for handle in kept:  # visible again now, not when the receive's timeout runs out
                self._sqs.change_message_visibility(
                    QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=0
                )
        return report

    # -- where each kind goes -------------------------------------------------------------------

    def _where(self, destination: Destination, message: Mapping[str, Any]) -> str:
        if destination.kind == "sqs":
            if len(destination.sources) != 1:
                raise Refused(f"{len(destination.sources)} source queues feed it: which one?")
            return f"queue {destination.sources[0]}"
        if destination.kind == "rule-target":
            target = ((message.get("MessageAttributes") or {}).get("TARGET_ARN") or {}).get(
                "StringValue"
            )
            if not target:
                raise Refused("the message names no TARGET_ARN: the rule's target is unknown")
            queue = str(target).rsplit(":", 1)[-1]
            if queue not in destination.sources:
                raise Refused(f"its target {target} is not a queue the templates route to")
            return f"queue {queue}"
        body = _json_body(message)
        if "DDBStreamBatchInfo" in body:
            info = body["DDBStreamBatchInfo"]
            function = (body.get("requestContext") or {}).get("functionArn")
            if not function:
                raise Refused("the on-failure record names no function")
            return (
                f"function {function} with records {info.get('startSequenceNumber')}.."
                f"{info.get('endSequenceNumber')} of {info.get('streamArn')}"
            )
        if isinstance(body.get("record"), Mapping):
            if self._function_of is None:
                raise Refused("no way to find the stream's function here")
            return f"function {self._function_of(destination)} with the record it carries"
        raise Refused("neither an on-failure record nor a dead-lettered stream record")

    def _move(self, destination: Destination, message: Mapping[str, Any], where: str) -> None:
        if destination.kind in ("sqs", "rule-target"):
            queue = where.removeprefix("queue ")
            attributes = {
                name: {k: v for k, v in value.items() if k in ("DataType", "StringValue")}
                for name, value in (message.get("MessageAttributes") or {}).items()
                if name != "reason" and value.get("StringValue") is not None
            }
            kwargs: dict[str, Any] = {"QueueUrl": self._url(queue), "MessageBody": message["Body"]}
            if attributes:
                kwargs["MessageAttributes"] = attributes
            self._sqs.send_message(**kwargs)
            return
        body = _json_body(message)
        if "DDBStreamBatchInfo" in body:
            records = self._records(destination, body["DDBStreamBatchInfo"])
            function = str(body["requestContext"]["functionArn"])
        else:
            assert self._function_of is not None
            records = [body["record"]]
            function = self._function_of(destination)
        self._invoke_with(function, records)

    def _invoke_with(self, function: str, records: Sequence[Mapping[str, Any]]) -> None:
        if not records:
            return  # the function's filters drop all of them: nothing to process
        if self._invoke is None:
            raise Refused("no Lambda endpoint to invoke the function with")
        try:
            result = self._invoke(function, {"Records": list(records)})
        except FunctionFailed as failed:
            raise Refused(f"the function failed again: {failed}") from None
        failures = result.get("batchItemFailures") if isinstance(result, Mapping) else None
        if failures:
            raise Refused(f"the function failed again on {len(failures)} of {len(records)} records")

    def _records(
        self, destination: Destination, info: Mapping[str, Any]
    ) -> list[Mapping[str, Any]]:
        """The batch's records read again from the stream, in Lambda's event shape."""
        from saas_local.lambda_events import dynamodb_record
        from saas_local.pumps import EventFilter

        if self._streams is None:
            raise Refused("no stream client to read the records with")
        stream_arn, shard = str(info["streamArn"]), str(info["shardId"])
        start, end = str(info["startSequenceNumber"]), str(info["endSequenceNumber"])
        gone = Refused(
            f"the stream no longer holds record {start} of shard {shard} (a stream keeps records "
            "24 hours): reconcile from the table"
        )
        try:
            iterator = self._streams.get_shard_iterator(
                StreamArn=stream_arn,
                ShardId=shard,
                ShardIteratorType="AT_SEQUENCE_NUMBER",
                SequenceNumber=start,
            )["ShardIterator"]
        except self._streams.exceptions.TrimmedDataAccessException:
            raise gone from None
        except self._streams.exceptions.ResourceNotFoundException:
            raise gone from None
        raw: list[Mapping[str, Any]] = []
        while iterator:
            answer = self._streams.get_records(ShardIterator=iterator, Limit=1000)
            page = answer.get("Records", [])
            raw += [r for r in page if int(r["dynamodb"]["SequenceNumber"]) <= int(end)]
            if not page or int(page[-1]["dynamodb"]["SequenceNumber"]) >= int(end):
                break
            iterator = answer.get("NextShardIterator")
        if not raw or raw[0]["dynamodb"]["SequenceNumber"] != start:
            raise gone
        keep = EventFilter(destination.filters)
        return [r for r in (dynamodb_record(item, stream_arn) for item in raw) if keep.admits(r)]


def _json_body(message: Mapping[str, Any]) -> dict[str, Any]:
    try:
        body = json.loads(message.get("Body") or "")
    except json.JSONDecodeError:
        raise Refused("the message body is not JSON") from None
    if not isinstance(body, dict):
        raise Refused("the message body is not a JSON object")
    return body
