"""Catalogue use cases: create, read, list, replace and delete a tenant's products."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel

from product_service.domain.errors import ProductNotFound
from product_service.domain.events import SOURCE, ProductCreated, ProductDeleted, ProductUpdated
from product_service.domain.model import Page, PageRequest, Product
from product_service.ports.product_store import OutboxMessage, ProductStore
from tenant_context import TenantContext, new_metadata, write_envelope


def outbox_message(
    tenant: TenantContext,
    event: BaseModel,
    *,
    correlation_id: str | None = None,
    causation_id: str | None = None,
) -> OutboxMessage:
    """The envelope of a new event, carrying the tenant's tier and region group."""
    metadata = new_metadata(
        tenant_id=tenant.tenant_id,
        producer=SOURCE,
        event_version=getattr(type(event), "event_version", 1),
        correlation_id=correlation_id,
        causation_id=causation_id,
        context=tenant,
    )
    return OutboxMessage(
        event_id=metadata.event_id,
        source=SOURCE,
        detail_type=type(event).__name__,
        detail=write_envelope(metadata, event),
    )


class Catalogue:
    def __init__(self, store: ProductStore) -> None:
        self._store = store

    def create(
        self,
        tenant: TenantContext,
        *,
        name: str,
        sku: str,
        price: Decimal,
        stock: int,
        correlation_id: str | None = None,
    ) -> Product:
        product = Product.new(name=name, sku=sku, price=price, stock=stock)
        event = ProductCreated.of(product)
        self._store.create(
            tenant, product, outbox_message(tenant, event, correlation_id=correlation_id)
        )
        return product

    def get(self, tenant: TenantContext, product_id: str) -> Product:
        product = self._store.get(tenant, product_id)
        if product is None:
            raise ProductNotFound(product_id)
        return product

    def list(
        self, tenant: TenantContext, *, limit: int = 20, next_token: str | None = None
    ) -> Page:
        return self._store.list_products(tenant, PageRequest(limit=limit, next_token=next_token))

    def replace(
        self,
        tenant: TenantContext,
        product_id: str,
        *,
        name: str,
        sku: str,
        price: Decimal,
        stock: int,
        correlation_id: str | None = None,
    ) -> Product:
        product = self.get(tenant, product_id).replaced(
            name=name, sku=sku, price=price, stock=stock
        )
        event = ProductUpdated.of(product)
        self._store.replace(
            tenant, product, outbox_message(tenant, event, correlation_id=correlation_id)
        )
        return product

    def delete(
        self, tenant: TenantContext, product_id: str, *, correlation_id: str | None = None
    ) -> None:
        event = ProductDeleted(product_id=product_id)
        self._store.delete(
            tenant, product_id, outbox_message(tenant, event, correlation_id=correlation_id)
        )
