"""ProductStore on DynamoDB.

Basic tier: the service's pooled table; premium tier: the tenant's own table
`tenant-<id>-products` from its stack. Same key schema either way, the tenant id leading every
key (pk "TENANT#<id>"): sk "PRODUCT#<id>", "RESERVATION#<order id>", "EVENT#<event id>" (the
processed-event marker). The outbox item (sk "OUTBOX#<event id>") always goes to the pooled
table of the tenant's region, whose stream feeds the relay, in the same TransactWriteItems as
the change it reports."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from product_service.adapters import page_token
from product_service.adapters.aws_regional_clients import RegionalClients
from product_service.domain.errors import ConcurrentChange, ProductNotFound
from product_service.domain.model import (
    OrderLine,
    Page,
    PageRequest,
    Product,
    Reservation,
    ReservationStatus,
)
from product_service.ports.product_store import OutboxMessage, StockCommit
from tenant_context import TenantContext, Tier

PRODUCT, RESERVATION, EVENT, OUTBOX = "PRODUCT#", "RESERVATION#", "EVENT#", "OUTBOX#"
MARKER_TTL_SECONDS = 30 * 24 * 3600  # a redelivery after 30 days is not a duplicate we can see
OUTBOX_TTL_SECONDS = 7 * 24 * 3600  # the stream has relayed it long before


def tenant_pk(tenant_id: str) -> str:
    return f"TENANT#{tenant_id}"


class DynamoDBProductStore:
    def __init__(
        self,
        clients: RegionalClients,
        *,
        pooled_table: str,
        premium_table_pattern: str = "tenant-{tenant_id}-products",
    ) -> None:
        self._clients = clients
        self._pooled = pooled_table
        self._premium_pattern = premium_table_pattern

    # -- where a tenant's data lives -------------------------------------------------------
    def _db(self, tenant: TenantContext) -> Any:
        return self._clients.for_tenant("dynamodb", tenant)

    def _table(self, tenant: TenantContext) -> str:
        if tenant.tier is Tier.PREMIUM:
            return self._premium_pattern.format(tenant_id=tenant.tenant_id)
        return self._pooled

    @staticmethod
    def _key(tenant: TenantContext, sk: str) -> dict[str, Any]:
        return {"pk": {"S": tenant_pk(tenant.tenant_id)}, "sk": {"S": sk}}

    # -- reads -------------------------------------------------------------------------------
    def get(self, tenant: TenantContext, product_id: str) -> Product | None:
        item = (
            self._db(tenant)
            .get_item(
                TableName=self._table(tenant),
                Key=self._key(tenant, PRODUCT + product_id),
                ConsistentRead=True,
            )
            .get("Item")
        )
        return _product(item) if item else None

    def list_products(self, tenant: TenantContext, page: PageRequest) -> Page:
        pk = tenant_pk(tenant.tenant_id)
        query: dict[str, Any] = {
            "TableName": self._table(tenant),
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": {":pk": {"S": pk}, ":prefix": {"S": PRODUCT}},
            "Limit": page.limit + 1,  # one more tells whether there is a next page
        }
        if page.next_token:
            key = page_token.decode(page.next_token, required={"pk": pk}, prefixes={"sk": PRODUCT})
            query["ExclusiveStartKey"] = {"pk": {"S": key["pk"]}, "sk": {"S": key["sk"]}}
        items = self._db(tenant).query(**query).get("Items", [])
        products = tuple(_product(item) for item in items[: page.limit])
        token = None
        if len(items) > page.limit:
            token = page_token.encode({"pk": pk, "sk": PRODUCT + products[-1].id})
        return Page(items=products, next_token=token)

    def stock_of(self, tenant: TenantContext, product_ids: list[str]) -> dict[str, int | None]:
        table = self._table(tenant)
        found: dict[str, int | None] = dict.fromkeys(product_ids)
        keys = [self._key(tenant, PRODUCT + pid) for pid in dict.fromkeys(product_ids)]
        request: dict[str, Any] = {
            table: {"Keys": keys, "ConsistentRead": True, "ProjectionExpression": "sk, stock"}
        }
        while keys and request:
            response = self._db(tenant).batch_get_item(RequestItems=request)
            for item in response.get("Responses", {}).get(table, []):
                found[item["sk"]["S"].removeprefix(PRODUCT)] = int(item["stock"]["N"])
            request = response.get("UnprocessedKeys") or {}
        return found

    def reservation(self, tenant: TenantContext, order_id: str) -> Reservation | None:
        item = (
            self._db(tenant)
            .get_item(
                TableName=self._table(tenant),
                Key=self._key(tenant, RESERVATION + order_id),
                ConsistentRead=True,
            )
            .get("Item")
        )
        if not item:
            return None
        lines = tuple(
            OrderLine(line["M"]["product_id"]["S"], int(line["M"]["quantity"]["N"]))
            for line in item.get("lines", {}).get("L", [])
        )
        return Reservation(order_id, ReservationStatus(item["status"]["S"]), lines)

    def is_processed(self, tenant: TenantContext, event_id: str) -> bool:
        item = (
            self._db(tenant)
            .get_item(
                TableName=self._table(tenant),
                Key=self._key(tenant, EVENT + event_id),
                ConsistentRead=True,
            )
            .get("Item")
        )
        return item is not None

    # -- writes: one transaction each, the outbox item inside it ----------------------------
    def create(self, tenant: TenantContext, product: Product, outbox: OutboxMessage) -> None:
        self._transact(
            tenant,
            [
                {
                    "Put": {
                        "TableName": self._table(tenant),
                        "Item": _product_item(tenant, product),
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
                self._outbox_put(tenant, outbox),
            ],
        )

    def replace(self, tenant: TenantContext, product: Product, outbox: OutboxMessage) -> None:
        self._transact(
            tenant,
            [
                {
                    "Put": {
                        "TableName": self._table(tenant),
                        "Item": _product_item(tenant, product),
                        "ConditionExpression": "attribute_exists(pk)",
                    }
                },
                self._outbox_put(tenant, outbox),
            ],
            not_found=product.id,
        )

    def delete(self, tenant: TenantContext, product_id: str, outbox: OutboxMessage) -> None:
        self._transact(
            tenant,
            [
                {
                    "Delete": {
                        "TableName": self._table(tenant),
                        "Key": self._key(tenant, PRODUCT + product_id),
                        "ConditionExpression": "attribute_exists(pk)",
                    }
                },
                self._outbox_put(tenant, outbox),
            ],
            not_found=product_id,
        )

    def commit_stock(self, tenant: TenantContext, commit: StockCommit) -> None:
        table = self._table(tenant)
        order_id = commit.reservation.order_id
        items: list[dict[str, Any]] = []
        for move in commit.movements:
            # One condition per line: the product exists and its stock stays >= 0.
            items.append(
                {
                    "Update": {
                        "TableName": table,
                        "Key": self._key(tenant, PRODUCT + move.product_id),
                        "UpdateExpression": "SET stock = stock + :delta",
                        "ConditionExpression": "attribute_exists(pk) AND stock >= :needed",
                        "ExpressionAttributeValues": {
                            ":delta": {"N": str(move.delta)},
                            ":needed": {"N": str(max(0, -move.delta))},
                        },
                    }
                }
            )
        reservation_key = self._key(tenant, RESERVATION + order_id)
        if commit.expected == commit.reservation:
            items.append(
                {
                    "ConditionCheck": {
                        "TableName": table,
                        "Key": reservation_key,
                        "ConditionExpression": "#status = :status",
                        "ExpressionAttributeNames": {"#status": "status"},
                        "ExpressionAttributeValues": {
                            ":status": {"S": commit.reservation.status.value}
                        },
                    }
                }
            )
        else:
            put: dict[str, Any] = {
                "TableName": table,
                "Item": {
                    **reservation_key,
                    "order_id": {"S": order_id},
                    "status": {"S": commit.reservation.status.value},
                    "lines": {
                        "L": [
                            {
                                "M": {
                                    "product_id": {"S": line.product_id},
                                    "quantity": {"N": str(line.quantity)},
                                }
                            }
                            for line in commit.reservation.lines
                        ]
                    },
                },
            }
            if commit.expected is None:
                put["ConditionExpression"] = "attribute_not_exists(pk)"
            else:
                put["ConditionExpression"] = "#status = :expected"
                put["ExpressionAttributeNames"] = {"#status": "status"}
                put["ExpressionAttributeValues"] = {
                    ":expected": {"S": commit.expected.status.value}
                }
            items.append({"Put": put})
        items.append(
            {
                "Put": {
                    "TableName": table,
                    "Item": {
                        **self._key(tenant, EVENT + commit.processed_event_id),
                        "expires_at": {"N": str(int(time.time()) + MARKER_TTL_SECONDS)},
                    },
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            }
        )
        items.extend(self._outbox_put(tenant, message) for message in commit.outbox)
        self._transact(tenant, items)

    def purge(self, tenant: TenantContext) -> int:
        deleted = self._purge_table(tenant, self._pooled)
        if tenant.tier is Tier.PREMIUM:
            deleted += self._purge_table(tenant, self._table(tenant))
        return deleted

    # -- internals -----------------------------------------------------------------------
    def _outbox_put(self, tenant: TenantContext, message: OutboxMessage) -> dict[str, Any]:
        return {
            "Put": {
                "TableName": self._pooled,
                "Item": {
                    **self._key(tenant, OUTBOX + message.event_id),
                    "event_id": {"S": message.event_id},
                    "source": {"S": message.source},
                    "detail_type": {"S": message.detail_type},
                    "detail": {"S": json.dumps(message.detail, separators=(",", ":"))},
                    "expires_at": {"N": str(int(time.time()) + OUTBOX_TTL_SECONDS)},
                },
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }

    def _transact(
        self, tenant: TenantContext, items: list[dict[str, Any]], *, not_found: str | None = None
    ) -> None:
        db = self._db(tenant)
        try:
            db.transact_write_items(TransactItems=items)
        except db.exceptions.TransactionCanceledException as exc:
            reasons = [r.get("Code") for r in exc.response.get("CancellationReasons", [])]
            if not_found is not None and (not reasons or reasons[0] == "ConditionalCheckFailed"):
                raise ProductNotFound(not_found) from None
            raise ConcurrentChange(f"transaction cancelled: {reasons}") from None

    def _purge_table(self, tenant: TenantContext, table: str) -> int:
        db = self._db(tenant)
        deleted = 0
        try:
            for batch in _chunks(self._keys_of(db, table, tenant), 25):
                request = {table: [{"DeleteRequest": {"Key": key}} for key in batch]}
                while request:
                    request = db.batch_write_item(RequestItems=request).get("UnprocessedItems")
                deleted += len(batch)
        except db.exceptions.ResourceNotFoundException:
            pass  # the tenant's stack (and its table) is already gone
        return deleted

    @staticmethod
    def _keys_of(db: Any, table: str, tenant: TenantContext) -> Iterator[dict[str, Any]]:
        paginator = db.get_paginator("query")
        for page in paginator.paginate(
            TableName=table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": tenant_pk(tenant.tenant_id)}},
            ProjectionExpression="pk, sk",
            ConsistentRead=True,
        ):
            yield from page.get("Items", [])


def _chunks(items: Iterator[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _product_item(tenant: TenantContext, product: Product) -> dict[str, Any]:
    return {
        "pk": {"S": tenant_pk(tenant.tenant_id)},
        "sk": {"S": PRODUCT + product.id},
        "id": {"S": product.id},
        "name": {"S": product.name},
        "sku": {"S": product.sku},
        "price": {"N": f"{product.price:.2f}"},
        "stock": {"N": str(product.stock)},
    }


def _product(item: dict[str, Any]) -> Product:
    return Product(
        id=item["id"]["S"],
        name=item["name"]["S"],
        sku=item["sku"]["S"],
        price=Decimal(item["price"]["N"]),
        stock=int(item["stock"]["N"]),
    )
