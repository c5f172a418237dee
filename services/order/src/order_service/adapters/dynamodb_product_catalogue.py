"""ProductCatalogue on DynamoDB: sk "PRODUCT#<id>" in the tenant's table, with a tombstone on
delete so a ProductCreated delivered after its ProductDeleted does not bring the product back."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from typing import Any

from order_service.adapters.dynamodb_order_repository import tenant_pk
from order_service.adapters.dynamodb_tables import RegionalTables
from tenant_context import TenantContext


class DynamoDBProductCatalogue:
    def __init__(self, tables: RegionalTables) -> None:
        self._tables = tables

    def record_created(self, ctx: TenantContext, product_id: str) -> None:
        client = self._tables.client(ctx)
        # Known already, or deleted for good: either way nothing to do.
        with contextlib.suppress(client.exceptions.ConditionalCheckFailedException):
            client.put_item(
                TableName=self._tables.data_table(ctx),
                Item={**self._key(ctx, product_id), "deleted": {"BOOL": False}},
                ConditionExpression="attribute_not_exists(pk)",
            )

    def record_deleted(self, ctx: TenantContext, product_id: str) -> None:
        self._tables.client(ctx).put_item(
            TableName=self._tables.data_table(ctx),
            Item={**self._key(ctx, product_id), "deleted": {"BOOL": True}},
        )

    def unknown(self, ctx: TenantContext, product_ids: Iterable[str]) -> set[str]:
        wanted = sorted(set(product_ids))
        known: set[str] = set()
        client = self._tables.client(ctx)
        table = self._tables.data_table(ctx)
        for start in range(0, len(wanted), 100):
            pending: dict[str, Any] = {
                table: {
                    "Keys": [self._key(ctx, p) for p in wanted[start : start + 100]],
                    "ConsistentRead": True,
                    "ProjectionExpression": "sk, deleted",
                }
            }
            while pending:
                response = client.batch_get_item(RequestItems=pending)
                for item in response.get("Responses", {}).get(table, []):
                    if not item["deleted"]["BOOL"]:
                        known.add(item["sk"]["S"].removeprefix("PRODUCT#"))
                pending = response.get("UnprocessedKeys", {})
        return set(wanted) - known

    @staticmethod
    def _key(ctx: TenantContext, product_id: str) -> dict[str, Any]:
        return {"pk": {"S": tenant_pk(ctx)}, "sk": {"S": f"PRODUCT#{product_id}"}}
