"""HTTP API of the catalogue: /products. Thin: parse, call one use case, map the result.

The tenant comes from the authorizer context only (TenantContext.from_event), never from the
path, query or body. Domain errors become HTTP statuses in ERROR_STATUS, the one place."""

# No `from __future__ import annotations`: Powertools reads the route signatures at runtime.

import gc

# No cyclic collection while init imports and builds (about 25 ms of cold start); what it
# builds is frozen and collecting resumes at the end of this module.
gc.disable()

import os
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Annotated, TypeVar

from aws_lambda_powertools.event_handler import (
    APIGatewayRestResolver,
    CORSConfig,
    Response,
    content_types,
)
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field

from product_service.container import container
from product_service.domain.errors import (
    ConcurrentChange,
    InvalidPageRequest,
    InvalidProduct,
    OutsideTheTenant,
    ProductError,
    ProductNotFound,
)
from product_service.domain.model import MAX_PRICE, MAX_STOCK, Product
from product_service.entrypoints.observability import logger, metrics, tracer
from tenant_context import InvalidTenantContext, TenantContext, enrich_logger
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
app.configure_openapi(
    title="Product service",
    version="1.0.0",
    description="The tenant's catalogue and stock. The tenant comes from the token only.",
)

# Who may call which route: this service's own file, beside this module.
PERMISSIONS = RoutePermissions.beside(__file__)

ERROR_STATUS: dict[type[ProductError], int] = {
    ProductNotFound: 404,
    InvalidProduct: 422,
    InvalidPageRequest: 400,
    ConcurrentChange: 409,
}


class ProductIn(BaseModel):
    """A product as a TenantAdmin writes it (POST creates, PUT replaces every field)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    sku: str = Field(min_length=1, max_length=100)
    price: Decimal = Field(
        ge=0, le=MAX_PRICE, decimal_places=2, description="Amount with two places."
    )
    stock: int = Field(ge=0, le=MAX_STOCK, strict=True)


def _fields(product: Product) -> dict[str, object]:
    return {
        "id": product.id,
        "name": product.name,
        "sku": product.sku,
        "price": f"{product.price:.2f}",
        "stock": product.stock,
    }


class ProductOut(BaseModel):
    id: str
    name: str
    sku: str
    price: str = Field(pattern=r"^\d+\.\d{2}$", examples=["12.50"])
    stock: int

    @classmethod
    def of(cls, product: Product) -> "ProductOut":
        return cls.model_validate(_fields(product))


class ProductPage(BaseModel):
    items: list[ProductOut]
    next_token: str | None = None

    @classmethod
    def of(cls, products: Sequence[Product], next_token: str | None) -> "ProductPage":
        # One validation of the whole page: a third cheaper than a model per product.
        return cls.model_validate(
            {"items": [_fields(p) for p in products], "next_token": next_token}
        )


PROBLEMS = {
    401: "No token, or one the authorizer refused (API Gateway's answer)",
    415: "The body is not sent as application/json",
    400: "Malformed request: the body is not UTF-8 JSON or is over 1 MiB, or next_token is not "
    "one we issued",
    403: "The caller's role may not do this, or the token carries no tenant",
    404: "No such product in the caller's tenant",
    409: "The product changed meanwhile; read it and try again",
    422: "A field is missing or breaks its rule",
}


def _responses(
    status: int, description: str, model: type[BaseModel] | None, *problems: int
) -> dict[int, OpenAPIResponse]:
    """The route's success and each error status it can answer, all documented."""
    success: OpenAPIResponse = {"description": description}
    if model is not None:
        success["content"] = {"application/json": {"model": model}}
    documented: dict[int, OpenAPIResponse] = {status: success}
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
    route = (app.current_event.http_method, app.current_event.resource)
    if not PERMISSIONS.allows(tenant.role.value, *route):
        raise Forbidden(f"role {tenant.role.value} may not call {' '.join(route)}")
    return tenant


def _correlation_id() -> str | None:
    return app.current_event.headers.get("x-correlation-id") or (
        app.current_event.request_context.request_id
    )


def _error(status: int, message: str) -> Response[str]:
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=problem_json(status, message),
    )


_ErrorHandler = TypeVar("_ErrorHandler", bound=Callable[..., Response[str]])


def _handles(kind: type[Exception]) -> Callable[[_ErrorHandler], _ErrorHandler]:
    """app.exception_handler, typed (Powertools' decorator is not)."""

    def register(function: _ErrorHandler) -> _ErrorHandler:
        app.exception_handler(kind)(function)
        return function

    return register


@_handles(OutsideTheTenant)
def _outside_the_tenant(error: OutsideTheTenant) -> Response[str]:
    """A key of another tenant was asked for (a bug): AWS refused it, the caller gets a 404."""
    logger.error("the tenant's scoped credentials were refused a key", refusal=error.refusal)
    item_id = (app.current_event.path_parameters or {}).get("product_id")
    return _error(
        404, str(ProductNotFound(item_id)) if item_id else "no such item in the caller's tenant"
    )


@_handles(ProductError)
def _domain_error(error: ProductError) -> Response[str]:
    status = next((s for kind, s in ERROR_STATUS.items() if isinstance(error, kind)), 400)
    return _error(status, str(error))


@_handles(RequestValidationError)
def _invalid_request(error: RequestValidationError) -> Response[str]:
    status, body = validation_problem(error.errors())
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=body)


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
    "/products",
    summary="Create a product (TenantAdmin)",
    responses=_responses(201, "Created: the product, its id in `id`", ProductOut, 400, 415),
)
@tracer.capture_method
def create_product(body: ProductIn) -> tuple[ProductOut, int]:
    tenant = _tenant()
    catalogue = container().catalogue
    product = catalogue.create(tenant, **body.model_dump(), correlation_id=_correlation_id())
    logger.info("product created", product_id=product.id)
    return ProductOut.of(product), 201


@app.get(
    "/products",
    summary="List the tenant's products (TenantAdmin, TenantUser)",
    responses=_responses(
        200, "A page of products; next_token when there are more", ProductPage, 400
    ),
)
@tracer.capture_method
def list_products(
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    next_token: Annotated[str | None, Query(min_length=1)] = None,
) -> ProductPage:
    tenant = _tenant()
    page = container().catalogue.list(tenant, limit=limit, next_token=next_token)
    return ProductPage.of(page.items, page.next_token)


@app.get(
    "/products/<product_id>",
    summary="Read one product (TenantAdmin, TenantUser)",
    responses=_responses(200, "The product", ProductOut, 404),
)
@tracer.capture_method
def get_product(product_id: Annotated[str, Path(min_length=1)]) -> ProductOut:
    tenant = _tenant()
    return ProductOut.of(container().catalogue.get(tenant, product_id))


@app.put(
    "/products/<product_id>",
    summary="Replace a product (TenantAdmin)",
    responses=_responses(200, "The product as replaced", ProductOut, 400, 404, 409, 415),
)
@tracer.capture_method
def replace_product(product_id: Annotated[str, Path(min_length=1)], body: ProductIn) -> ProductOut:
    tenant = _tenant()
    catalogue = container().catalogue
    product = catalogue.replace(
        tenant, product_id, **body.model_dump(), correlation_id=_correlation_id()
    )
    return ProductOut.of(product)


@app.delete(
    "/products/<product_id>",
    summary="Delete a product (TenantAdmin)",
    responses=_responses(204, "Deleted", None, 404, 409),
)
@tracer.capture_method
def delete_product(product_id: Annotated[str, Path(min_length=1)]) -> Response[str]:
    tenant = _tenant()
    container().catalogue.delete(tenant, product_id, correlation_id=_correlation_id())
    return Response(status_code=204, body="")


def _cors_headers(origin: str | None) -> dict[str, str]:
    """What the resolver adds to its own answers, for one answered before it."""
    allowed = CORS.allowed_origin(origin) if origin else None
    return CORS.to_dict(allowed) if allowed else {}


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics
@metered(metrics, api=True)
def handler(event: dict[str, object], context: LambdaContext) -> dict[str, object]:
    return unsupported_media_type(event, _cors_headers) or app.resolve(event, context)


# Init is done: its objects live as long as the environment, so collections skip them.
gc.freeze()
gc.enable()
