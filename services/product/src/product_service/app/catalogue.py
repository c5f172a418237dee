"""Catalogue use cases: create, read, list, replace and delete a tenant's products. Every
change and its event are written together through the unit of work."""

from __future__ import annotations

from decimal import Decimal

from product_service.domain.errors import ProductNotFound
from product_service.domain.events import ProductCreated, ProductDeleted, ProductUpdated
from product_service.domain.model import Page, PageRequest, Product
from product_service.ports.product_store import ProductStore
from product_service.ports.unit_of_work import UnitOfWorkFactory
from tenant_context import Cause, TenantContext


class Catalogue:
    def __init__(self, store: ProductStore, uow: UnitOfWorkFactory) -> None:
        self._store = store
        self._uow = uow

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
        with self._uow(tenant, Cause(correlation_id=correlation_id)) as uow:
            uow.products.add(product)
            uow.emit(ProductCreated.of(product))
            uow.commit()
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
        with self._uow(tenant, Cause(correlation_id=correlation_id)) as uow:
            current = uow.products.get(product_id)
            if current is None:
                raise ProductNotFound(product_id)
            product = current.replaced(name=name, sku=sku, price=price, stock=stock)
            uow.products.replace(product)
            uow.emit(ProductUpdated.of(product))
            uow.commit()
        return product

    def delete(
        self, tenant: TenantContext, product_id: str, *, correlation_id: str | None = None
    ) -> None:
        with self._uow(tenant, Cause(correlation_id=correlation_id)) as uow:
            uow.products.delete(product_id)
            uow.emit(ProductDeleted(product_id=product_id))
            uow.commit()
