"""HTTP API of orders: POST/GET /orders, GET /orders/{id}, POST /orders/{id}/cancel.

Thin: parse, call one use case, map the result. The tenant comes from the authorizer context
only (TenantContext.from_event), never from the path, query or body; another tenant's order is
simply not found. Domain errors become HTTP statuses in ERROR_STATUS, the one place."""

# No `from __future__ import annotations`: Powertools reads the route signatures at runtime.

import gc

# No cyclic collection while init imports and builds (about 25 ms of cold start); what it
# builds is frozen and collecting resumes at the end of this module.
gc.disable()

import os
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, TypeVar

from aws_lambda_powertools.event_handler import (
    APIGatewayRestResolver,
    CORSConfig,
    Response,
    content_types,
)
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Header, Path, Query
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field

from order_service.container import container
from order_service.domain.errors import (
    ConcurrentUpdate,
    IdempotencyKeyReused,
    InvalidOrder,
    InvalidPageToken,
    OrderError,
    OrderNotCancellable,
    OrderNotFound,
    OutsideTheTenant,
)
from order_service.domain.order import MAX_ORDER_LINES, Order, OrderLine, OrderStatus
from order_service.entrypoints.observability import logger, metrics, tracer
from tenant_context import (
    Cause,
    InvalidTenantContext,
    TenantContext,
    enrich_logger,
    enrich_metrics,
)
from tenant_context.metering import metered
from tenant_context.permissions import RoutePermissions
from tenant_context.problems import (
    Problem,
    problem_json,
    unsupported_media_type,
    validation_problem,
)
from tenant_context.request_body import BodyRefused, json_object_body

# CORS for the web console's origin (the template's ConsoleOrigin): API Gateway answers the
# preflight and puts the headers on its own errors; every answer of this function carries them.
CORS = CORSConfig(
    allow_origin=os.environ.get("CORS_ALLOW_ORIGIN", "*"),
    allow_headers=["Idempotency-Key", "X-Correlation-Id"],
    max_age=600,
)
app = APIGatewayRestResolver(
    enable_validation=True, json_body_deserializer=json_object_body, cors=CORS
)

# Who may call which route: this service's own file, beside this module.
PERMISSIONS = RoutePermissions.beside(__file__)

ERROR_STATUS: dict[type[OrderError], int] = {
    OrderNotFound: 404,
    InvalidOrder: 422,
    InvalidPageToken: 400,
    OrderNotCancellable: 409,
    IdempotencyKeyReused: 422,
    ConcurrentUpdate: 409,
}


class OrderLineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    product_id: str = Field(min_length=1, max_length=128)
    quantity: int = Field(ge=1, le=1_000_000, strict=True)


class PlaceOrderIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lines: list[OrderLineIn] = Field(min_length=1, max_length=MAX_ORDER_LINES)


class OrderAccepted(BaseModel):
    id: str
    status: OrderStatus


class OrderOut(BaseModel):
    id: str
    status: OrderStatus
    lines: list[OrderLineIn]
    reason: str | None = None
    placed_at: datetime | None = Field(None, description="When it was placed (UTC).")

    @classmethod
    def of(cls, order: Order) -> "OrderOut":
        return cls(
            id=order.id,
            status=order.status,
            lines=[
                OrderLineIn(product_id=ln.product_id, quantity=ln.quantity) for ln in order.lines
            ],
            reason=order.reason,
            placed_at=order.placed_at,
        )


class OrderPageOut(BaseModel):
    items: list[OrderOut]
    next_token: str | None = None


PROBLEMS = {
    401: "No token, or one the authorizer refused (API Gateway's answer)",
    415: "The body is not sent as application/json",
    400: "Malformed request: the body is not UTF-8 JSON or is over 1 MiB, or next_token is not "
    "one we issued",
    403: "The caller's role may not use orders, or the token carries no tenant",
    404: "No such order in the caller's tenant",
    409: "The order cannot be cancelled in its state, or it changed meanwhile",
    422: "A field breaks its rule, or an Idempotency-Key was reused for another order",
}


def _responses(
    status: int, description: str, model: type[BaseModel], *problems: int
) -> dict[int, OpenAPIResponse]:
    """The route's success and each error status it can answer, all documented."""
    documented: dict[int, OpenAPIResponse] = {
        status: {"description": description, "content": {"application/json": {"model": model}}}
    }
    for code in (*problems, 401, 403, 422):
        documented[code] = {
            "description": PROBLEMS[code],
            "content": {"application/json": {"model": Problem}},
        }
    return documented


class Forbidden(Exception):
    pass


def _tenant() -> TenantContext:
    tenant = TenantContext.from_event(app.current_event.raw_event)
    enrich_logger(logger, tenant_id=tenant.tenant_id, correlation_id=_correlation_id())
    enrich_metrics(metrics, tenant_id=tenant.tenant_id)
    route = (app.current_event.http_method, app.current_event.resource)
    if not PERMISSIONS.allows(tenant.role.value, *route):
        raise Forbidden(f"role {tenant.role.value} may not call {' '.join(route)}")
    return tenant


def _correlation_id() -> str | None:
    headers = app.current_event.headers or {}
    lowered = {k.lower(): v for k, v in headers.items()}
    return lowered.get("x-correlation-id") or app.current_event.request_context.request_id


_Handler = TypeVar("_Handler", bound=Callable[..., Response[str]])


def _handles(kind: type[Exception]) -> Callable[[_Handler], _Handler]:
    """app.exception_handler with its types (Powertools' own decorator is not annotated)."""

    def register(handler: _Handler) -> _Handler:
        app.exception_handler(kind)(handler)
        return handler

    return register


def _error(status: int, message: str) -> Response[str]:
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=problem_json(status, message),
    )


@_handles(RequestValidationError)
def _invalid_request(error: RequestValidationError) -> Response[str]:
    status, body = validation_problem(error.errors())
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=body)


@_handles(OutsideTheTenant)
def _outside_the_tenant(error: OutsideTheTenant) -> Response[str]:
    """A key of another tenant was asked for (a bug): AWS refused it, the caller gets a 404."""
    logger.error("the tenant's scoped credentials were refused a key", refusal=error.refusal)
    item_id = (app.current_event.path_parameters or {}).get("order_id")
    return _error(
        404, str(OrderNotFound(item_id)) if item_id else "no such item in the caller's tenant"
    )


@_handles(OrderError)
def _domain_error(error: OrderError) -> Response[str]:
    status = next((s for kind, s in ERROR_STATUS.items() if isinstance(error, kind)), 400)
    return _error(status, str(error))


@_handles(BodyRefused)
def _body_refused(error: BodyRefused) -> Response[str]:
    return _error(error.status, str(error))


@_handles(UnicodeDecodeError)
def _not_text(_: UnicodeDecodeError) -> Response[str]:
    return _error(400, "the body is not UTF-8 text")


@_handles(InvalidTenantContext)
def _no_tenant(error: InvalidTenantContext) -> Response[str]:
    return _error(403, f"not allowed: {error}")


@_handles(Forbidden)
def _forbidden(error: Forbidden) -> Response[str]:
    return _error(403, str(error))


@app.post(
    "/orders",
    summary="Place an order (TenantUser, TenantAdmin); the saga decides it",
    responses=_responses(
        202,
        "Accepted: the order is PENDING until stock is reserved or refused",
        OrderAccepted,
        400,
        409,
        415,
    ),
)
@tracer.capture_method
def place_order(
    body: PlaceOrderIn,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            min_length=1,
            max_length=128,
            description="Retrying with the same key returns the same order, never a second one.",
        ),
    ] = None,
) -> tuple[OrderAccepted, int]:
    tenant = _tenant()
    lines = [OrderLine(product_id=ln.product_id, quantity=ln.quantity) for ln in body.lines]
    order = container().orders.place(
        tenant,
        lines,
        Cause(correlation_id=_correlation_id()),
        idempotency_key=idempotency_key,
    )
    if order.events:  # placed now, not a retry answered with the order placed before
        metrics.add_metric(name="OrdersPlaced", unit=MetricUnit.Count, value=1)
        logger.info("order placed", order_id=order.id, lines=len(order.lines))
    return OrderAccepted(id=order.id, status=order.status), 202


@app.get(
    "/orders",
    summary="List the tenant's orders, newest first (TenantUser, TenantAdmin)",
    responses=_responses(200, "A page of orders; next_token if there are more", OrderPageOut, 400),
)
@tracer.capture_method
def list_orders(
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    next_token: Annotated[str | None, Query(min_length=1, max_length=2048)] = None,
) -> OrderPageOut:
    tenant = _tenant()
    page = container().orders.list(tenant, limit=limit, next_token=next_token)
    return OrderPageOut(items=[OrderOut.of(o) for o in page.orders], next_token=page.next_token)


@app.get(
    "/orders/<order_id>",
    summary="One of the tenant's orders (TenantUser, TenantAdmin)",
    responses=_responses(200, "The order", OrderOut, 404),
)
@tracer.capture_method
def get_order(order_id: Annotated[str, Path(min_length=1, max_length=128)]) -> OrderOut:
    tenant = _tenant()
    return OrderOut.of(container().orders.get(tenant, order_id))


@app.post(
    "/orders/<order_id>/cancel",
    summary="Cancel a PENDING or CONFIRMED order; its stock is released",
    responses=_responses(200, "The order, CANCELLED", OrderOut, 404, 409),
)
@tracer.capture_method
def cancel_order(order_id: Annotated[str, Path(min_length=1, max_length=128)]) -> OrderOut:
    tenant = _tenant()
    order = container().orders.cancel(tenant, order_id, Cause(correlation_id=_correlation_id()))
    if order.events:
        metrics.add_metric(name="OrdersCancelled", unit=MetricUnit.Count, value=1)
        logger.info("order cancelled", order_id=order.id)
    return OrderOut.of(order)


def _cors_headers(origin: str | None) -> dict[str, str]:
    """What the resolver adds to its own answers, for one answered before it."""
    allowed = CORS.allowed_origin(origin) if origin else None
    return CORS.to_dict(allowed) if allowed else {}


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
@metered(metrics, api=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return unsupported_media_type(event, _cors_headers) or app.resolve(event, context)


# Init is done: its objects live as long as the environment, so collections skip them.
gc.freeze()
gc.enable()
