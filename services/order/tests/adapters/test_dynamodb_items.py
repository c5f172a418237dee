"""The outbox item and the processed marker on DynamoDB, exactly as docs/conventions.md's table
says: keys, attributes, and TTLs of 24 hours (outbox) and 15 days (marker)."""

from __future__ import annotations

import json

import boto3
from moto import mock_aws
from order_testkit import (
    POOLED_TABLE,
    all_items,
    create_orders_table,
    scoped_tables,
    tenant,
)

from order_service.adapters.dynamodb_unit_of_work import (
    MARKER_TTL_SECONDS,
    OUTBOX_TTL_SECONDS,
    DynamoDBUnitOfWorkFactory,
)
from order_service.domain.order import Order, OrderLine
from tenant_context import Cause

NOW = 1_790_000_000


def test_the_ttls_are_the_conventions():
    assert OUTBOX_TTL_SECONDS == 24 * 3600
    assert MARKER_TTL_SECONDS == 15 * 24 * 3600


@mock_aws
def test_a_reaction_commits_the_outbox_item_and_the_marker_in_the_conventions_shape():
    client = boto3.client("dynamodb", region_name="us-east-1")
    create_orders_table(client)
    unit_of_work = DynamoDBUnitOfWorkFactory(
        scoped_tables(),
        clock=lambda: NOW + 0.75,
    )
    acme = tenant("t-acme")
    with unit_of_work(acme, Cause()) as uow:
        uow.orders.add(Order.place([OrderLine(product_id="p-1", quantity=1)], order_id="o-1"))
        uow.commit()

    with unit_of_work(acme, Cause(correlation_id="c-1", event_id="e-cause")) as uow:
        uow.orders.get("o-1").confirm()
        uow.commit()

    items = all_items(client, POOLED_TABLE)
    [outbox] = [i for i in items if i.get("detail_type") == {"S": "OrderConfirmed"}]
    [marker] = [i for i in items if i["sk"]["S"].startswith("EVENT#")]
    event_id = outbox["event_id"]["S"]
    assert set(outbox) == {"pk", "sk", "event_id", "source", "detail_type", "detail", "expires_at"}
    assert (outbox["pk"]["S"], outbox["sk"]["S"]) == ("TENANT#t-acme", f"OUTBOX#{event_id}")
    assert (outbox["source"]["S"], outbox["detail_type"]["S"]) == ("saas.order", "OrderConfirmed")
    envelope = json.loads(outbox["detail"]["S"])
    assert envelope["metadata"]["event_id"] == event_id
    assert envelope["metadata"]["causation_id"] == "e-cause"
    assert envelope["data"] == {"order_id": "o-1"}
    assert outbox["expires_at"] == {"N": str(NOW + 24 * 3600)}
    assert marker == {
        "pk": {"S": "TENANT#t-acme"},
        "sk": {"S": "EVENT#e-cause"},
        "event_id": {"S": "e-cause"},
        "expires_at": {"N": str(NOW + 15 * 24 * 3600)},
    }
