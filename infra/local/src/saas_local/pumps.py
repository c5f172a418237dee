"""Event source mappings as Lambda runs them: pollers that feed SQS messages and DynamoDB-stream
records to a function in Lambda's event shapes, with its batching, filtering, partial batch
failures, retries and on-failure destinations.

Injected faults (the platform's FaultInjector, selector `source`: the queue's name, or the table
whose stream is read): `delivery.duplicate` delivers a message again in a later batch (SQS) or
re-delivers a stream batch from a record on, in order, as when a checkpoint was not saved;
`delivery.reorder` shuffles a batch of a standard queue and is ignored, with a log line, for a
FIFO queue and a stream shard, whose order AWS keeps. A function that crashes or times out fails
its batch as any function error does: SQS messages come back after the queue's visibility
timeout, a stream batch is retried up to MaximumRetryAttempts, then goes to the destination.
"""

from __future__ import annotations

import json
import logging
import random
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from saas_local import lambda_events, moto_gaps
from saas_local.faults import FaultInjector
from saas_local.workers import InvocationError

log = logging.getLogger("saas_local.pumps")

Invoke = Callable[[Any], Any]
Clients = Callable[[str], Any]


class EventFilter:
    """Lambda's FilterCriteria: a record passes when any filter's pattern matches it (the
    pattern syntax is EventBridge's; moto's matcher implements it)."""

    def __init__(self, filters: Iterable[Mapping[str, Any]]) -> None:
        from moto.events.models import EventPattern

        self._patterns = []
        for item in filters:
            raw = item["Pattern"]
            pattern = json.loads(raw) if isinstance(raw, str) else raw
            self._patterns.append(EventPattern(json.dumps(pattern), pattern))

    def admits(self, record: Mapping[str, Any]) -> bool:
        if not self._patterns:
            return True
        view = lambda_events.filter_view(record)
        return any(p.matches_event(view) for p in self._patterns)


def failed_item_ids(result: Any) -> set[str] | None:
    """The batchItemFailures identifiers; None when the response says the whole batch failed
    (an identifier that is missing or empty fails the whole batch, as in Lambda)."""
    if not isinstance(result, Mapping) or not result.get("batchItemFailures"):
        return set()
    ids = set()
    for failure in result["batchItemFailures"]:
        identifier = failure.get("itemIdentifier") if isinstance(failure, Mapping) else None
        if not identifier:
            return None
        ids.add(str(identifier))
    return ids


class _Poller:
    def __init__(self, name: str, faults: FaultInjector | None = None) -> None:
        self.name = name
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._faults = faults
        self._draws = 0  # the index of the next seeded draw (reorder shuffles)
        self._refused: set[str] = set()  # fault kinds this source cannot take, already logged

    def _fault(self, kind: str, source: str) -> bool:
        faults = self._faults
        return faults is not None and bool(faults.plan) and faults.fault(kind, source=source)

    def _refuse(self, kind: str, source: str, why: str) -> None:
        """Log once that a planned fault is not injected here, and why (AWS keeps the order)."""
        faults = self._faults
        if faults is None or kind in self._refused:
            return
        if any(r.kind == kind and r.matches({"source": source}) for r in faults.plan.rules):
            self._refused.add(kind)
            log.warning("%s: %s is not injected into %s: %s", self.name, kind, source, why)

    def _random(self, purpose: str) -> random.Random:
        seed = self._faults.plan.seed if self._faults is not None else 0
        self._draws += 1
        return random.Random(f"{seed}|{self.name}|{purpose}|{self._draws}")

    def _start_threads(self, count: int) -> None:
        for index in range(count):
            thread = threading.Thread(target=self._run_safely, name=f"{self.name}-{index}")
            self._threads.append(thread)
            thread.start()

    def _run_safely(self) -> None:
        while not self._stop.is_set():
            try:
                self._run()
            except Exception:
                if self._stop.is_set():
                    return
                log.exception("%s: poller failed, restarting", self.name)
                self._stop.wait(1)

    def _run(self) -> None:
        raise NotImplementedError

    def signal_stop(self) -> None:
        self._stop.set()

    def join(self) -> None:
        for thread in self._threads:
            thread.join()


class SqsPump(_Poller):
    """Lambda's SQS poller: long polls, invokes with up to `batch_size` records, deletes the
    messages that succeeded; failed ones come back after the visibility timeout and reach the
    DLQ through the queue's redrive policy."""

    def __init__(
        self,
        *,
        name: str,
        clients: Clients,
        queue_arn: str,
        invoke: Invoke,
        batch_size: int,
        report_batch_item_failures: bool,
        filters: Sequence[Mapping[str, Any]] = (),
        concurrency: int = 2,
        wait_seconds: int = 1,
        faults: FaultInjector | None = None,
    ) -> None:
        super().__init__(name, faults)
        self._clients = clients
        self.queue_arn = queue_arn
        self.queue_name = queue_arn.rsplit(":", 1)[-1]
        self._invoke = invoke
        self._batch_size = max(1, min(batch_size, 10))
        self._report = report_batch_item_failures
        self._filter = EventFilter(filters)
        self._concurrency = concurrency
        self._wait = wait_seconds
        self.region = queue_arn.split(":")[3]
        self._replays: dict[str, Mapping[str, Any]] = {}
        self._rules: list[str] | None = None

    def start(self) -> None:
        sqs = self._clients("sqs")
        name = self.queue_arn.rsplit(":", 1)[-1]
        self._url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
        self._start_threads(self._concurrency)

    def _describe_replay(self, name: str) -> Mapping[str, Any]:
        if name not in self._replays:
            self._replays[name] = self._clients("events").describe_replay(ReplayName=name)
        return self._replays[name]

    def _rules_to_queue(self) -> list[str]:
        if self._rules is None:
            events = self._clients("events")
            rules: list[str] = []
            for bus in events.list_event_buses()["EventBuses"]:
                found = events.list_rule_names_by_target(
                    TargetArn=self.queue_arn, EventBusName=bus["Name"]
                )
                rules.extend(
                    f"arn:aws:events:{self.region}:{bus['Arn'].split(':')[4]}:rule/"
                    + (n if bus["Name"] == "default" else f"{bus['Name']}/{n}")
                    for n in found["RuleNames"]
                )
            self._rules = rules
        return self._rules

    def _run(self) -> None:
        sqs = self._clients("sqs")
        while not self._stop.is_set():
            received = sqs.receive_message(
                QueueUrl=self._url,
                MaxNumberOfMessages=self._batch_size,
                WaitTimeSeconds=self._wait,
                AttributeNames=["All"],
                MessageSystemAttributeNames=["All"],
                MessageAttributeNames=["All"],
            ).get("Messages", [])
            if received:
                self.process(sqs, received)

    def process(self, sqs: Any, messages: Sequence[Mapping[str, Any]]) -> None:
        records, dropped = [], []
        for message in messages:
            body = moto_gaps.complete_eventbridge_body(message["Body"])
            if not moto_gaps.replay_admits(body, self._describe_replay, self._rules_to_queue()):
                dropped.append(message["ReceiptHandle"])
                continue
            record = lambda_events.sqs_record(
                {**message, "Body": body}, self.queue_arn, self.region
            )
            if self._filter.admits(record):
                records.append(record)
            else:  # Lambda deletes messages its filters drop
                dropped.append(message["ReceiptHandle"])
        done = list(dropped)
        duplicates = [r for r in records if self._fault("delivery.duplicate", self.queue_name)]
        if records:
            handled = self._deliver(self._reordered(records))
            done += handled
            if self._stop.is_set():  # the platform stops under this batch: see _release
                self._release(sqs, [r["receiptHandle"] for r in records], set(handled))
                duplicates = []
        if done:
            sqs.delete_message_batch(
                QueueUrl=self._url,
                Entries=[{"Id": str(i), "ReceiptHandle": h} for i, h in enumerate(done)],
            )
        if duplicates:  # the same messages received once more, as at-least-once delivery allows
            log.info("%s: %d messages delivered again (injected)", self.name, len(duplicates))
            self._deliver([_received_again(r) for r in duplicates])

    def _release(self, sqs: Any, handles: Sequence[str], done: set[str]) -> None:
        """Make the batch's messages that are not done visible again at once. The platform
        stopped under them (its functions refuse new invocations): the start after picks them up
        at once instead of after the queue's visibility timeout (180 s for the consumer queues),
        as a consumer that shuts down hands back what it had not processed."""
        left = [h for h in handles if h not in done]
        for start in range(0, len(left), 10):
            entries = [
                {"Id": str(i), "ReceiptHandle": h, "VisibilityTimeout": 0}
                for i, h in enumerate(left[start : start + 10])
            ]
            sqs.change_message_visibility_batch(QueueUrl=self._url, Entries=entries)
        if left:
            log.info("%s: %d messages handed back at stop", self.name, len(left))

    def _deliver(self, records: list[dict[str, Any]]) -> list[str]:
        """Invoke with the batch; the receipt handles of the messages that are done."""
        try:
            result = self._invoke({"Records": records})
        except InvocationError as exc:
            log.warning("%s: batch of %d failed: %s", self.name, len(records), exc)
            return []
        failed = failed_item_ids(result) if self._report else set()
        if failed is None:
            return []
        return [r["receiptHandle"] for r in records if r["messageId"] not in failed]

    def _reordered(self, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if self.queue_name.endswith(".fifo"):
            self._refuse("delivery.reorder", self.queue_name, "a FIFO queue keeps its order")
            return records
        if len(records) < 2 or not self._fault("delivery.reorder", self.queue_name):
            return records
        shuffled = list(records)
        self._random("reorder").shuffle(shuffled)
        if shuffled == records:  # a shuffle that changed nothing: still another order
            shuffled = shuffled[1:] + shuffled[:1]
        log.info("%s: batch of %d delivered in another order (injected)", self.name, len(records))
        return shuffled


def _received_again(record: Mapping[str, Any]) -> dict[str, Any]:
    """The record of a message received a second time: one more receive, a new receipt handle
    (the message itself, its id and body, are the same)."""
    attributes = dict(record.get("attributes") or {})
    count = int(attributes.get("ApproximateReceiveCount", "1"))
    attributes["ApproximateReceiveCount"] = str(count + 1)
    return {**record, "attributes": attributes, "receiptHandle": f"{record['receiptHandle']}+1"}


class StreamPump(_Poller):
    """Lambda's DynamoDB-stream poller: in order per shard; a failed batch is retried from its
    first failed record (so per-key order holds) up to MaximumRetryAttempts, then its position
    goes to the on-failure destination and the shard moves on. With BisectBatchOnFunctionError,
    a batch the function failed as a whole (an error, a crash, a timeout) is split in two and
    its first half retried, down to one record; a split is not counted as a retry."""

    def __init__(
        self,
        *,
        name: str,
        clients: Clients,
        stream_arn: str,
        invoke: Invoke,
        function_arn: str,
        batch_size: int,
        report_batch_item_failures: bool,
        filters: Sequence[Mapping[str, Any]] = (),
        maximum_retry_attempts: int = -1,
        bisect_batch_on_function_error: bool = False,
        on_failure_arn: str | None = None,
        starting_position: str = "TRIM_HORIZON",
        poll_interval: float = 0.2,
        retry_backoff: float = 0.05,
        faults: FaultInjector | None = None,
    ) -> None:
        super().__init__(name, faults)
        self._clients = clients
        self.stream_arn = stream_arn
        # arn:aws:dynamodb:<region>:<account>:table/<table>/stream/<label>
        self.table_name = stream_arn.split(":table/", 1)[-1].split("/", 1)[0]
        # Records re-delivered by an injected duplicate, not drawn again when they come back.
        self._redelivered: set[str] = set()
        self._invoke = invoke
        self._function_arn = function_arn
        self._batch_size = max(1, batch_size)
        self._report = report_batch_item_failures
        self._filter = EventFilter(filters)
        self._max_retries = maximum_retry_attempts
        self._bisect = bisect_batch_on_function_error
        # Per shard, while a bisected batch is worked through: [batch size, its records left].
        self._splits: dict[str, list[int]] = {}
        self._on_failure = on_failure_arn
        self._starting_position = starting_position
        self._poll_interval = poll_interval
        self._backoff = retry_backoff
        self._iterators: dict[str, str] = {}
        # Read but not yet done, per shard. Kept on the pump, not in `_run`: the iterators have
        # moved past these records, so a poller that restarts after an error must still have them.
        self._buffers: dict[str, list[dict[str, Any]]] = {}
        self._attempts: dict[str, int] = {}
        self._last_sequence: dict[str, str] = {}

    def positions(self) -> dict[str, list[str]]:
        """Where a pump started again goes on, per shard it has read: [iterator type, sequence
        number] - at the first record not yet done, or after the last one read when all are."""
        found: dict[str, list[str]] = {}
        for shard, buffer in list(self._buffers.items()):
            last = self._last_sequence.get(shard)  # read before the buffer: never past it
            head = buffer[:1]
            if head:
                found[shard] = ["AT_SEQUENCE_NUMBER", head[0]["dynamodb"]["SequenceNumber"]]
            elif last is not None:
                found[shard] = ["AFTER_SEQUENCE_NUMBER", last]
        return found

    def start(self, positions: Mapping[str, Sequence[str]] | None = None) -> None:
        """Reads each shard from `positions` (what positions() gave before a restart) or, for
        a shard not in them, from the source's starting position."""
        streams = self._clients("dynamodbstreams")
        shards = streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]["Shards"]
        for shard in shards:  # positioned now, so LATEST means "from when the platform started"
            kind, sequence = (positions or {}).get(shard["ShardId"]) or (None, None)
            where = {"ShardIteratorType": self._starting_position}
            if kind and sequence:
                where = {"ShardIteratorType": kind, "SequenceNumber": sequence}
                if kind == "AFTER_SEQUENCE_NUMBER":
                    self._last_sequence[shard["ShardId"]] = sequence
            self._iterators[shard["ShardId"]] = streams.get_shard_iterator(
                StreamArn=self.stream_arn, ShardId=shard["ShardId"], **where
            )["ShardIterator"]
            self._buffers[shard["ShardId"]] = []
            self._attempts[shard["ShardId"]] = 0
        self._start_threads(1)

    def _run(self) -> None:
        streams = self._clients("dynamodbstreams")
        buffers, attempts = self._buffers, self._attempts
        idle_wait = 0.01  # streams have no long poll: poll fast while busy, back off when idle
        while not self._stop.is_set():
            busy = False
            for shard, iterator in list(self._iterators.items()):
                buffer = buffers[shard]
                if not buffer and iterator:
                    last = self._last_sequence.get(shard)
                    if last is not None:
                        # moto gap: a failed TransactWriteItems restores a copy of the table and
                        # its stream shard, so an iterator taken before reads a dead shard. A
                        # fresh iterator after the last sequence number read sees what follows.
                        iterator = streams.get_shard_iterator(
                            StreamArn=self.stream_arn,
                            ShardId=shard,
                            ShardIteratorType="AFTER_SEQUENCE_NUMBER",
                            SequenceNumber=last,
                        )["ShardIterator"]
                    response = streams.get_records(ShardIterator=iterator, Limit=1000)
                    self._iterators[shard] = response.get("NextShardIterator") or iterator
                    busy = busy or bool(response.get("Records"))
                    if response.get("Records"):
                        self._last_sequence[shard] = response["Records"][-1]["dynamodb"][
                            "SequenceNumber"
                        ]
                    for raw in response.get("Records", []):
                        record = lambda_events.dynamodb_record(raw, self.stream_arn)
                        if self._filter.admits(record):
                            buffer.append(record)
                if buffer:
                    busy = True
                    attempts[shard] = self._deliver(shard, buffer, attempts[shard])
            if busy:
                idle_wait = 0.01
            else:
                self._stop.wait(idle_wait)
                idle_wait = min(idle_wait * 2, self._poll_interval)

    def _deliver(self, shard: str, buffer: list[dict[str, Any]], attempts: int) -> int:
        """Invoke with the head of the buffer; drop what is done. Returns the attempts so far."""
        split = self._splits.get(shard)
        batch = buffer[: split[0] if split else self._batch_size]
        error = ""
        try:
            result = self._invoke({"Records": batch})
        except InvocationError as exc:
            error, first_failed = exc.error_type, 0
        else:
            failed = failed_item_ids(result) if self._report else set()
            if failed is None:
                error, first_failed = "BatchItemFailures", 0
            else:
                sequence = [r["dynamodb"].get("SequenceNumber") for r in batch]
                positions = [i for i, s in enumerate(sequence) if s in failed]
                first_failed = min(positions) if positions else len(batch)
                if failed and not positions:  # identifiers that name no record: whole batch
                    first_failed = 0
                if first_failed < len(batch):
                    error = "BatchItemFailures"
        self._refuse("delivery.reorder", self.table_name, "a stream shard keeps its order")
        del buffer[:first_failed]  # checkpoint: everything before the first failure is done
        self._split_done(shard, first_failed)
        if not error:
            # An injected duplicate: as if the checkpoint was not saved, delivered again from
            # the record hit on, in order.
            buffer[:0] = self._duplicated(batch)
            return 0
        if self._stop.is_set():  # failed because the platform is stopping: not the records' fault
            return attempts
        if self._bisect and error != "BatchItemFailures" and len(batch) > 1:
            self._splits.setdefault(shard, [0, len(batch)])[0] = (len(batch) + 1) // 2
            log.info("%s: batch of %d failed (%s), split in two", self.name, len(batch), error)
            return attempts
        attempts += 1
        if 0 <= self._max_retries < attempts:
            failed_batch = batch[first_failed:]
            self._send_to_destination(shard, failed_batch, attempts, error)
            del buffer[: len(failed_batch)]
            self._split_done(shard, len(failed_batch))
            return 0
        self._stop.wait(min(self._backoff * 2 ** (attempts - 1), 2.0))
        return attempts

    def _split_done(self, shard: str, count: int) -> None:
        """`count` records of a bisected batch are behind: once all are, full batches again."""
        split = self._splits.get(shard)
        if split is not None:
            split[1] -= count
            if split[1] <= 0:
                del self._splits[shard]

    def _duplicated(self, done: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        """An injected duplicate: the records from the first one hit on, to deliver again."""
        for index, record in enumerate(done):
            sequence = str(record["dynamodb"].get("SequenceNumber"))
            if sequence in self._redelivered:
                self._redelivered.discard(sequence)
                continue
            if self._fault("delivery.duplicate", self.table_name):
                replay = list(done[index:])
                self._redelivered.update(str(r["dynamodb"].get("SequenceNumber")) for r in replay)
                log.info(
                    "%s: %d records delivered again from %s (injected)",
                    self.name,
                    len(replay),
                    sequence,
                )
                return replay
        return []

    def _send_to_destination(
        self, shard: str, records: Sequence[Mapping[str, Any]], attempts: int, error: str
    ) -> None:
        log.warning(
            "%s: giving up on %d records after %d attempts", self.name, len(records), attempts
        )
        if not self._on_failure:
            return
        message = lambda_events.stream_failure_record(
            function_arn=self._function_arn,
            stream_arn=self.stream_arn,
            shard_id=shard,
            records=records,
            attempts=attempts,
            function_error=error,
        )
        body = json.dumps(message)
        service = self._on_failure.split(":")[2]
        if service == "sqs":
            sqs = self._clients("sqs")
            url = sqs.get_queue_url(QueueName=self._on_failure.rsplit(":", 1)[-1])["QueueUrl"]
            sqs.send_message(QueueUrl=url, MessageBody=body)
        elif service == "sns":
            self._clients("sns").publish(TopicArn=self._on_failure, Message=body)
        else:
            log.error(
                "%s: on-failure destination %s is not SQS or SNS", self.name, self._on_failure
            )
