"""The event log in DynamoDB: table `saas-event-log`, pk TENANT#<id>, sk <occurred_at>#<event_id>.

Writing the same event twice writes the same item: recording is idempotent by key. An event
published twice under one `event_id` with another `occurred_at` (a producer's retry that stamps
the time anew) would be a second item: with `ids_table` (`saas-event-log-ids`, pk event_id), each
event is recorded in one transaction with its id's marker, and an id seen before is not recorded
again, so the log holds each `event_id` once.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from saas_devtools.event_log.logged_event import LoggedEvent, partition_key, sort_instant


class DynamoDBEventLog:
    def __init__(
        self,
        client: Any,
        table_name: str,
        retention: timedelta | None = None,
        ids_table: str | None = None,
    ) -> None:
        self._client = client
        self._table = table_name
        self._retention = retention
        self._ids_table = ids_table

    def record(self, event: LoggedEvent, *, now: datetime) -> bool:
        """Record the event; False when its event_id was recorded before (with ids_table)."""
        item: dict[str, Any] = {
            "pk": {"S": partition_key(event.tenant_id)},
            "sk": {"S": event.sort_key},
            "event_id": {"S": event.event_id},
            "correlation_id": {"S": event.correlation_id},
            "source": {"S": event.source},
            "detail_type": {"S": event.detail_type},
            "occurred_at": {"S": sort_instant(event.occurred_at)},
            "recorded_at": {"S": sort_instant(now)},
            "event": {"S": json.dumps(event.event, separators=(",", ":"), sort_keys=True)},
        }
        if self._retention is not None:
            item["expires_at"] = {"N": str(int((now + self._retention).timestamp()))}
        if self._ids_table is None:
            self._client.put_item(TableName=self._table, Item=item)
            return True
        marker: dict[str, Any] = {"event_id": item["event_id"], "sk": item["sk"]}
        if "expires_at" in item:
            marker["expires_at"] = item["expires_at"]
        try:
            self._client.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": self._ids_table,
                            "Item": marker,
                            "ConditionExpression": "attribute_not_exists(event_id)",
                        }
                    },
                    {"Put": {"TableName": self._table, "Item": item}},
                ]
            )
        except self._client.exceptions.TransactionCanceledException as exc:
            reasons = exc.response.get("CancellationReasons") or [{}]
            if reasons[0].get("Code") == "ConditionalCheckFailed":
                return False  # recorded before: the log keeps its first record
            raise
        return True

    def read(
        self,
        tenant_id: str,
        *,
        start: datetime | None = None,
        end: datetime | None = None,
        detail_types: list[str] | None = None,
        correlation_id: str | None = None,
    ) -> Iterator[LoggedEvent]:
        """The tenant's events in [start, end], oldest first, filtered as asked."""
        names = {"#pk": "pk"}
        values: dict[str, Any] = {":pk": {"S": partition_key(tenant_id)}}
        condition = "#pk = :pk"
        low = sort_instant(start) if start else None
        high = sort_instant(end) + "~" if end else None  # "~" sorts after "#<event_id>"
        if low or high:
            names["#sk"] = "sk"
        if low and high:
            condition += " AND #sk BETWEEN :low AND :high"
            values |= {":low": {"S": low}, ":high": {"S": high}}
        elif low:
            condition += " AND #sk >= :low"
            values[":low"] = {"S": low}
        elif high:
            condition += " AND #sk <= :high"
            values[":high"] = {"S": high}
        filters = []
        if detail_types:
            names["#dt"] = "detail_type"
            keys = []
            for i, detail_type in enumerate(detail_types):
                values[f":dt{i}"] = {"S": detail_type}
                keys.append(f":dt{i}")
            filters.append(f"#dt IN ({', '.join(keys)})")
        if correlation_id:
            names["#cid"] = "correlation_id"
            values[":cid"] = {"S": correlation_id}
            filters.append("#cid = :cid")
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": condition,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }
        if filters:
            request["FilterExpression"] = " AND ".join(filters)
        while True:
            page = self._client.query(**request)
            for item in page.get("Items", []):
                yield LoggedEvent.from_eventbridge(json.loads(item["event"]["S"]))
            if "LastEvaluatedKey" not in page:
                return
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
