"""ProductStore on DynamoDB (reads and the tenant purge; writes: dynamodb_unit_of_work.py).

Basic tier: the service's pooled table; premium tier: the tenant's own table
`tenant-<id>-products` from its stack. Same key schema either way, the tenant id leading every
key (pk "TENANT#<id>"): sk "PRODUCT#<id>", "RESERVATION#<order id>", "EVENT#<event id>" (the
processed-event marker). The outbox item (sk "OUTBOX#<event id>") always goes to the pooled
table of the tenant's region, whose stream feeds the outbox relay. Every call goes through a
client scoped to the tenant (TenantScopedClients): AWS refuses any other tenant's key."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import Any

from product_service.adapters import page_token
from product_service.domain.model import (
    OrderLine,
    Page,
    PageRequest,
    Product,
    Reservation,
    ReservationStatus,
)
from product_service.ports.tenant_scoped_clients import TenantScopedClients
from tenant_context import TenantContext, Tier

PRODUCT, RESERVATION, EVENT, OUTBOX = "PRODUCT#", "RESERVATION#", "EVENT#", "OUTBOX#"
# The outbox item and the processed marker (docs/conventions.md), written by the unit of work:
# a DynamoDB stream keeps a record 24 h, after which the outbox item can no longer be relayed
# (it has long been published by then); SQS keeps a message at most 14 days, so no redelivery
# can come after 15 (one day of margin).
OUTBOX_TTL_SECONDS = 24 * 3600
MARKER_TTL_SECONDS = 15 * 24 * 3600


def tenant_pk(tenant_id: str) -> str:
    return f"TENANT#{tenant_id}"


def item_key(tenant: TenantContext, sk: str) -> dict[str, Any]:
    return {"pk": {"S": tenant_pk(tenant.tenant_id)}, "sk": {"S": sk}}


class DynamoDBProductStore:
    def __init__(
        self,
        clients: TenantScopedClients,
        *,
        pooled_table: str,
        premium_table_pattern: str = "tenant-{tenant_id}-products",
    ) -> None:
        self._clients = clients
        self._pooled = pooled_table
        self._premium_pattern = premium_table_pattern

    # -- where a tenant's data lives (the unit of work writes to the same places) ----------
    def db(self, tenant: TenantContext) -> Any:
        """The DynamoDB client of the tenant's region, with credentials scoped to the tenant: every
        read, write and purge below reaches the tenant's own keys only."""
        return self._clients.dynamodb(tenant)

    def table(self, tenant: TenantContext) -> str:
        """The table of the tenant's products, reservations and markers (by tier)."""
        if tenant.tier is Tier.PREMIUM:
            return self._premium_pattern.format(tenant_id=tenant.tenant_id)
        return self._pooled

    @property
    def outbox_table(self) -> str:
        """The pooled table of the region: its stream feeds the outbox relay."""
        return self._pooled

    # -- reads -------------------------------------------------------------------------------
    def get(self, tenant: TenantContext, product_id: str) -> Product | None:
        item = (
            self.db(tenant)
            .get_item(
                TableName=self.table(tenant),
                Key=item_key(tenant, PRODUCT + product_id),
                ConsistentRead=True,
            )
            .get("Item")
        )
        return _product(item) if item else None

    def list_products(self, tenant: TenantContext, page: PageRequest) -> Page:
        pk = tenant_pk(tenant.tenant_id)
        query: dict[str, Any] = {
            "TableName": self.table(tenant),
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": {":pk": {"S": pk}, ":prefix": {"S": PRODUCT}},
            "Limit": page.limit + 1,  # one more tells whether there is a next page
        }
        if page.next_token:
            key = page_token.decode(page.next_token, required={"pk": pk}, prefixes={"sk": PRODUCT})
            query["ExclusiveStartKey"] = {"pk": {"S": key["pk"]}, "sk": {"S": key["sk"]}}
        items = self.db(tenant).query(**query).get("Items", [])
        products = tuple(_product(item) for item in items[: page.limit])
        token = None
        if len(items) > page.limit:
            token = page_token.encode({"pk": pk, "sk": PRODUCT + products[-1].id})
        return Page(items=products, next_token=token)

    def stock_of(self, tenant: TenantContext, product_ids: Sequence[str]) -> dict[str, int | None]:
        table = self.table(tenant)
        found: dict[str, int | None] = dict.fromkeys(product_ids)
        keys = [item_key(tenant, PRODUCT + pid) for pid in dict.fromkeys(product_ids)]
        request: dict[str, Any] = {
            table: {"Keys": keys, "ConsistentRead": True, "ProjectionExpression": "sk, stock"}
        }
        while keys and request:
            response = self.db(tenant).batch_get_item(RequestItems=request)
            for item in response.get("Responses", {}).get(table, []):
                found[item["sk"]["S"].removeprefix(PRODUCT)] = int(item["stock"]["N"])
            request = response.get("UnprocessedKeys") or {}
        return found

    def reservation(self, tenant: TenantContext, order_id: str) -> Reservation | None:
        item = (
            self.db(tenant)
            .get_item(
                TableName=self.table(tenant),
                Key=item_key(tenant, RESERVATION + order_id),
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
            self.db(tenant)
            .get_item(
                TableName=self.table(tenant),
                Key=item_key(tenant, EVENT + event_id),
                ConsistentRead=True,
            )
            .get("Item")
        )
        return item is not None

    def purge(self, tenant: TenantContext) -> int:
        deleted = self._purge_table(tenant, self._pooled)
        if tenant.tier is Tier.PREMIUM:
            deleted += self._purge_table(tenant, self.table(tenant))
        return deleted

    # -- internals -----------------------------------------------------------------------
    def _purge_table(self, tenant: TenantContext, table: str) -> int:
        db = self.db(tenant)
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


def product_item(tenant: TenantContext, product: Product) -> dict[str, Any]:
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
