"""A day's usage priced: the estimate per item (DynamoDB, Lambda, EventBridge, API Gateway,
Fauna) and per service, from one price table (prices.json, its sources and date inside)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

ITEMS = ("dynamodb", "lambda", "eventbridge", "api_gateway", "fauna")


@dataclass(frozen=True)
class Prices:
    """USD per unit of each measure that costs money."""

    read_request_unit: float
    write_request_unit: float
    lambda_gb_second: float
    lambda_request: float
    eventbridge_event: float
    api_request: float
    fauna_compute_op: float
    fauna_read_op: float
    fauna_write_op: float

    @classmethod
    def from_table(cls, table: Mapping[str, object]) -> Prices:
        """The price table (prices.json): each price is `usd` per `per` units."""
        prices = table["prices"]
        assert isinstance(prices, Mapping)
        return cls(**{name: float(p["usd"]) / float(p["per"]) for name, p in prices.items()})

    def by_item(self, measures: Mapping[str, float]) -> dict[str, float]:
        def m(name: str) -> float:
            return measures.get(name, 0.0)

        return {
            "dynamodb": m("read_capacity_units") * self.read_request_unit
            + m("write_capacity_units") * self.write_request_unit,
            "lambda": m("lambda_gb_seconds") * self.lambda_gb_second
            + m("lambda_invocations") * self.lambda_request,
            "eventbridge": m("events_published") * self.eventbridge_event,
            "api_gateway": m("requests") * self.api_request,
            "fauna": m("fauna_compute_ops") * self.fauna_compute_op
            + m("fauna_read_ops") * self.fauna_read_op
            + m("fauna_write_ops") * self.fauna_write_op,
        }


@dataclass(frozen=True)
class Cost:
    total: float
    by_service: dict[str, float]
    by_item: dict[str, float]


def cost_of(prices: Prices, by_service: Mapping[str, Mapping[str, float]]) -> Cost:
    items = dict.fromkeys(ITEMS, 0.0)
    services: dict[str, float] = {}
    for service, measures in sorted(by_service.items()):
        priced = prices.by_item(measures)
        services[service] = sum(priced.values())
        for item, usd in priced.items():
            items[item] += usd
    return Cost(total=sum(items.values()), by_service=services, by_item=items)


def add_costs(costs: list[Cost]) -> Cost:
    items = dict.fromkeys(ITEMS, 0.0)
    services: dict[str, float] = {}
    for cost in costs:
        for item, usd in cost.by_item.items():
            items[item] += usd
        for service, usd in cost.by_service.items():
            services[service] = services.get(service, 0.0) + usd
    return Cost(total=sum(items.values()), by_service=services, by_item=items)
