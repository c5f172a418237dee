"""HTTP API of usage: GET /tenants/{tenant_id}/usage (SystemAdmin any tenant, TenantAdmin its
own) and GET /usage/shared (SystemAdmin: what no tenant can be named for), each day of the
range with its measures and estimated cost, days without usage as zeros; and GET /usage
(SystemAdmin: every tenant, the costliest first).

One module, two functions (the template binds the routes): GET /tenants/{tenant_id}/usage on
TenantScopedApiFunction, which reads a tenant's usage only with credentials scoped to that
tenant (a key of another tenant is refused by AWS: OutsideTheTenant, a 404); the SystemAdmin's
listings on ApiFunction, the control plane.

Thin: parse, call one use case, map the result. The caller's tenant and role come from the
authorizer context only. Who may call a route is declared once, in permissions.json beside
this module. Domain errors become HTTP statuses in ERROR_STATUS, the one place."""

# No `from __future__ import annotations`: Powertools reads the route signatures at runtime.
import gc

# No cyclic collection while init imports and builds; what it builds is frozen at the end.
gc.disable()

import os
from datetime import UTC, datetime
from typing import Annotated, Any

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
from pydantic import BaseModel, Field

from metering_service.app.usage import Day, UsageReport
from metering_service.container import container
from metering_service.domain.errors import (
    InvalidRange,
    MeteringError,
    NotYourTenant,
    OutsideTheTenant,
    UnknownTenant,
)
from metering_service.domain.usage import SHARED, usage_range
from metering_service.entrypoints.observability import logger, metrics, tracer
from tenant_context import InvalidTenantContext, Principal, Role, enrich_logger
from tenant_context.metering import metered
from tenant_context.permissions import RoutePermissions
from tenant_context.problems import (
    Problem,
    problem_json,
    unsupported_media_type,
    validation_problem,
)
from tenant_context.request_body import BodyRefused, json_object_body

# CORS for the web console's origin (the template's ConsoleOrigin).
CORS = CORSConfig(
    allow_origin=os.environ.get("CORS_ALLOW_ORIGIN", "*"),
    allow_headers=["X-Correlation-Id"],
    max_age=600,
)
# The body rule of every API (docs/conventions.md): one JSON object of at most 1 MiB.
app = APIGatewayRestResolver(
    enable_validation=True, json_body_deserializer=json_object_body, cors=CORS
)
app.configure_openapi(
    title="Metering service",
    version="1.0.0",
    description="Each tenant's usage and its estimated cost per day (README, 'Usage and cost').",
)
# Who may call which route: this service's own file, beside this module.
PERMISSIONS = RoutePermissions.beside(__file__)

ERROR_STATUS: dict[type[MeteringError], int] = {
    InvalidRange: 400,
    NotYourTenant: 404,
    UnknownTenant: 404,
}


class CostOut(BaseModel):
    total: float = Field(description="USD, estimated from prices.json")
    by_service: dict[str, float]
    by_item: dict[str, float] = Field(
        description="dynamodb, lambda, eventbridge, api_gateway, fauna"
    )


class UsageDayOut(BaseModel):
    date: str
    requests: float
    errors_4xx: float
    errors_5xx: float
    read_capacity_units: float
    write_capacity_units: float
    lambda_invocations: float
    lambda_billed_ms: float
    lambda_gb_seconds: float
    events_published: float
    fauna_compute_ops: float
    fauna_read_ops: float
    fauna_write_ops: float
    cost: CostOut

    @classmethod
    def of(cls, day: Day, label: str) -> "UsageDayOut":
        cost = day.cost
        return cls.model_validate(
            {
                "date": label,
                **day.measures,
                "cost": CostOut(total=cost.total, by_service=cost.by_service, by_item=cost.by_item),
            }
        )


class UsageOut(BaseModel):
    tenant_id: str = Field(description="the tenant, or _shared for what no tenant is named for")
    from_: str = Field(alias="from")
    to: str
    currency: str = "USD"
    days: list[UsageDayOut]
    total: UsageDayOut

    @classmethod
    def of(cls, report: UsageReport) -> "UsageOut":
        return cls.model_validate(
            {
                "tenant_id": report.tenant_id,
                "from": report.first.isoformat(),
                "to": report.last.isoformat(),
                "days": [UsageDayOut.of(d, d.day.isoformat()) for d in report.days],
                "total": UsageDayOut.of(report.total, "total"),
            }
        )


class TenantTotalOut(BaseModel):
    tenant_id: str
    total: UsageDayOut


class TopTenantsOut(BaseModel):
    from_: str = Field(alias="from")
    to: str
    currency: str = "USD"
    tenants: list[TenantTotalOut] = Field(description="the costliest first; _shared among them")


PROBLEMS = {
    400: "A bad range: from/to not YYYY-MM-DD, from after to, or more than 92 days",
    401: "No token, or one the authorizer refused (API Gateway's answer)",
    403: "The caller's role may not read usage, or the token carries no tenant",
    404: "No such tenant, or a TenantAdmin asked for another tenant's usage (a key of another "
    "tenant, refused to the caller's scoped credentials, is not found either)",
    415: "The body is not sent as application/json",
    422: "A parameter breaks its rule",
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


def _caller() -> Principal:
    """Who calls: a SystemAdmin may carry no tenant; anyone else carries theirs."""
    request_context = app.current_event.raw_event.get("requestContext") or {}
    caller = Principal.from_authorizer(request_context.get("authorizer"))
    if caller.tenant_id:
        enrich_logger(logger, tenant_id=caller.tenant_id, correlation_id=_correlation_id())
    route = (app.current_event.http_method, app.current_event.resource)
    if not PERMISSIONS.allows(caller.role.value, *route):
        raise Forbidden(f"role {caller.role.value} may not call {' '.join(route)}")
    return caller


def _correlation_id() -> str | None:
    headers = {k.lower(): v for k, v in (app.current_event.headers or {}).items()}
    return headers.get("x-correlation-id") or app.current_event.request_context.request_id


def _error(status: int, message: str) -> Response[str]:
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=problem_json(status, message),
    )


def _domain_error(error: MeteringError) -> Response[str]:
    status = next((s for kind, s in ERROR_STATUS.items() if isinstance(error, kind)), 400)
    return _error(status, str(error))


def _outside_the_tenant(error: OutsideTheTenant) -> Response[str]:
    """A key of another tenant was asked for (a bug): AWS refused it, the caller gets a 404."""
    logger.error("the tenant's scoped credentials were refused a key", refusal=error.refusal)
    tenant_id = (app.current_event.path_parameters or {}).get("tenant_id", "")
    return _error(404, str(UnknownTenant(tenant_id)))


def _invalid_request(error: RequestValidationError) -> Response[str]:
    status, body = validation_problem(error.errors())
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=body)


def _body_refused(error: BodyRefused) -> Response[str]:
    return _error(error.status, str(error))


def _not_text(_: UnicodeDecodeError) -> Response[str]:
    return _error(400, "the body is not UTF-8 text")


def _no_tenant(error: InvalidTenantContext) -> Response[str]:
    return _error(403, f"not allowed: {error}")


def _forbidden(error: Forbidden) -> Response[str]:
    return _error(403, str(error))


# Powertools' exception_handler is untyped: registered by a call, the handlers keep their types.
app.exception_handler(MeteringError)(_domain_error)
app.exception_handler(OutsideTheTenant)(_outside_the_tenant)
app.exception_handler(RequestValidationError)(_invalid_request)
app.exception_handler(BodyRefused)(_body_refused)
app.exception_handler(UnicodeDecodeError)(_not_text)
app.exception_handler(InvalidTenantContext)(_no_tenant)
app.exception_handler(Forbidden)(_forbidden)

FromParam = Annotated[
    str | None, Query(alias="from", max_length=32, description="first day, YYYY-MM-DD (UTC)")
]
ToParam = Annotated[str | None, Query(max_length=32, description="last day, YYYY-MM-DD (UTC)")]


def _usage(tenant_id: str, first: str | None, last: str | None) -> UsageOut:
    start, end = usage_range(first, last, datetime.now(UTC).date())
    return UsageOut.of(container().metering.usage(tenant_id, start, end))


@app.get(
    "/tenants/<tenant_id>/usage",
    summary="A tenant's usage and estimated cost per day (SystemAdmin any, TenantAdmin its own)",
    responses=_responses(200, "Each day of the range, then the total", UsageOut, 400, 404),
)
@tracer.capture_method
def tenant_usage(
    tenant_id: Annotated[str, Path(min_length=1, max_length=64)],
    from_: FromParam = None,
    to: ToParam = None,
) -> UsageOut:
    caller = _caller()
    if caller.role is not Role.SYSTEM_ADMIN and tenant_id != caller.tenant_id:
        raise NotYourTenant(tenant_id)
    return _usage(tenant_id, from_, to)


@app.get(
    "/usage/shared",
    summary="The usage no tenant can be named for (relays, provisioner, authorizer; SystemAdmin)",
    responses=_responses(200, "Each day of the range, then the total", UsageOut, 400),
)
@tracer.capture_method
def shared_usage(from_: FromParam = None, to: ToParam = None) -> UsageOut:
    _caller()
    return _usage(SHARED, from_, to)


@app.get(
    "/usage",
    summary="Every tenant's usage in the range, the costliest first (SystemAdmin)",
    responses=_responses(200, "The tenants with usage, _shared among them", TopTenantsOut, 400),
)
@tracer.capture_method
def top_tenants(
    from_: FromParam = None,
    to: ToParam = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> TopTenantsOut:
    _caller()
    start, end = usage_range(from_, to, datetime.now(UTC).date())
    found = container().metering.top_tenants(start, end, limit)
    return TopTenantsOut.model_validate(
        {
            "from": start.isoformat(),
            "to": end.isoformat(),
            "tenants": [
                TenantTotalOut(tenant_id=t.tenant_id, total=UsageDayOut.of(t.total, "total"))
                for t in found
            ],
        }
    )


def _cors_headers(origin: str | None) -> dict[str, str]:
    """What the resolver adds to its own answers, for one answered before it."""
    allowed = CORS.allowed_origin(origin) if origin else None
    return CORS.to_dict(allowed) if allowed else {}


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics
@metered(metrics, api=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return unsupported_media_type(event, _cors_headers) or app.resolve(event, context)


# Init is done: its objects live as long as the environment, so collections skip them.
gc.freeze()
gc.enable()
