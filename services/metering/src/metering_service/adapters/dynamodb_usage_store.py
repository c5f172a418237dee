"""The usage table on DynamoDB: pk `TENANT#<id>`, sk `HOUR#2026-12-04T02` or `DAY#2026-12-04`,
an attribute per measure (`requests`) and per service and measure (`order:requests`), added
with ADD in one transaction with the delivery's marker (pk `DELIVERY#<id>#<part>`), so a
redelivered batch adds nothing. A transaction holds at most 100 items: a big delivery is cut
in parts of 99 updates and a marker each, always the same parts for the same delivery.

With `scoped` (the tenant-serving function), a tenant's days are read with the client scoped to
that tenant: AWS refuses it any other tenant's rows (OutsideTheTenant). Without it (the
control plane and the records' consumer), with the function's own client."""

from __future__ import annotations

import time
from datetime import date, timedelta
from typing import Any

from metering_service.domain.usage import DayUsage, Measures, Tally
from metering_service.ports.tenant_scoped_clients import TenantScopedClients

PART = 99
BY_PERIOD = "by-period"  # index: pk the period (sk), sort key the tenant (pk)
# Logs retries a failed delivery to Lambda for hours, not days: 15 days of markers is margin.
MARKER_SECONDS = 15 * 24 * 3600


def tenant_pk(tenant_id: str) -> str:
    """A tenant's partition: what the tenant-access role's `dynamodb:LeadingKeys` allows."""
    return f"TENANT#{tenant_id}"


def _number(value: float) -> dict[str, str]:
    return {"N": f"{value:.9f}"}


def _by_service(item: dict[str, Any]) -> dict[str, Measures]:
    """The `<service>:<measure>` attributes of a usage item."""
    by_service: dict[str, Measures] = {}
    for name, value in item.items():
        service, _, measure = name.partition(":")
        if measure and "N" in value:
            by_service.setdefault(service, {})[measure] = float(value["N"])
    return by_service


class DynamoDBUsageStore:
    def __init__(
        self, client: Any, table_name: str, *, scoped: TenantScopedClients | None = None
    ) -> None:
        self._client = client
        self._table = table_name
        self._scoped = scoped

    def _client_of(self, tenant_id: str) -> Any:
        return self._client if self._scoped is None else self._scoped.dynamodb(tenant_id)

    def add(self, delivery_id: str, counted: Tally) -> bool:
        keys = sorted(counted.periods)
        added = False
        for part, start in enumerate(range(0, len(keys), PART)):
            updates = [
                self._update(tenant, period, counted.periods[(tenant, period)])
                for tenant, period in keys[start : start + PART]
            ]
            marker = {
                "Put": {
                    "TableName": self._table,
                    "Item": {
                        "pk": {"S": f"DELIVERY#{delivery_id}#{part}"},
                        "sk": {"S": "DELIVERY"},
                        "expires_at": {"N": str(int(time.time()) + MARKER_SECONDS)},
                    },
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            }
            try:
                self._client.transact_write_items(TransactItems=[marker, *updates])
                added = True
            except self._client.exceptions.TransactionCanceledException as exc:
                reasons = exc.response.get("CancellationReasons") or [{}]
                if reasons[0].get("Code") != "ConditionalCheckFailed":
                    raise
                # this part was counted before: nothing to add again
        return added

    def _update(self, tenant: str, period: str, by_service: dict[str, Measures]) -> dict[str, Any]:
        totals: Measures = {}
        named: dict[str, float] = {}
        for service, measures in by_service.items():
            for measure, value in measures.items():
                named[f"{service}:{measure}"] = value
                totals[measure] = totals.get(measure, 0.0) + value
        named.update(totals)
        names = {f"#a{i}": name for i, name in enumerate(named)}
        values = {f":v{i}": _number(value) for i, value in enumerate(named.values())}
        return {
            "Update": {
                "TableName": self._table,
                "Key": {"pk": {"S": tenant_pk(tenant)}, "sk": {"S": period}},
                "UpdateExpression": "ADD " + ", ".join(f"#a{i} :v{i}" for i in range(len(named))),
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": values,
            }
        }

    def tenants(self, first: date, last: date) -> dict[str, list[DayUsage]]:
        found: dict[str, list[DayUsage]] = {}
        day = first
        while day <= last:
            request: dict[str, Any] = {
                "TableName": self._table,
                "IndexName": BY_PERIOD,
                "KeyConditionExpression": "sk = :day",
                "ExpressionAttributeValues": {":day": {"S": f"DAY#{day.isoformat()}"}},
            }
            while True:
                answer = self._client.query(**request)
                for item in answer.get("Items", []):
                    tenant = item["pk"]["S"].removeprefix("TENANT#")
                    found.setdefault(tenant, []).append(DayUsage(day, _by_service(item)))
                if "LastEvaluatedKey" not in answer:
                    break
                request["ExclusiveStartKey"] = answer["LastEvaluatedKey"]
            day += timedelta(days=1)
        return found

    def days(self, tenant_id: str, first: date, last: date) -> list[DayUsage]:
        stored: dict[str, dict[str, Measures]] = {}
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk AND sk BETWEEN :first AND :last",
            "ExpressionAttributeValues": {
                ":pk": {"S": tenant_pk(tenant_id)},
                ":first": {"S": f"DAY#{first.isoformat()}"},
                ":last": {"S": f"DAY#{last.isoformat()}"},
            },
        }
        client = self._client_of(tenant_id)
        while True:
            answer = client.query(**request)
            for item in answer.get("Items", []):
                stored[item["sk"]["S"].removeprefix("DAY#")] = _by_service(item)
            if "LastEvaluatedKey" not in answer:
                break
            request["ExclusiveStartKey"] = answer["LastEvaluatedKey"]
        found = []
        day = first
        while day <= last:
            found.append(DayUsage(day, stored.get(day.isoformat(), {})))
            day += timedelta(days=1)
        return found
