"""What a tenant's users do with orders: place, read, list, cancel."""

from __future__ import annotations

from order_service.app.outbox import Cause, to_outbox
from order_service.domain.errors import OrderNotFound, UnknownProducts
from order_service.domain.order import Order, OrderLine
from order_service.ports.order_repository import OrderPage, OrderRepository
from order_service.ports.product_catalogue import ProductCatalogue
from tenant_context import TenantContext


class Orders:
    def __init__(self, repository: OrderRepository, catalogue: ProductCatalogue) -> None:
        self._repository = repository
        self._catalogue = catalogue

    def place(self, ctx: TenantContext, lines: list[OrderLine], cause: Cause) -> Order:
        order = Order.place(lines)
        unknown = self._catalogue.unknown(ctx, [line.product_id for line in order.lines])
        if unknown:
            raise UnknownProducts(sorted(unknown))
        self._repository.add(ctx, order, to_outbox(ctx, order.events, cause))
        return order

    def get(self, ctx: TenantContext, order_id: str) -> Order:
        order = self._repository.get(ctx, order_id)
        if order is None:
            raise OrderNotFound(order_id)
        return order

    def list(self, ctx: TenantContext, *, limit: int, next_token: str | None) -> OrderPage:
        return self._repository.list(ctx, limit=limit, next_token=next_token)

    def cancel(self, ctx: TenantContext, order_id: str, cause: Cause) -> Order:
        order = self.get(ctx, order_id)
        order.cancel()
        if order.events:
            self._repository.save(ctx, order, to_outbox(ctx, order.events, cause))
        return order
