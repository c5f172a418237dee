"""HTTP API of this service, /meterings.

Thin: parse, call one use case, map the result.

The tenant comes from the authorizer context only, never from the path, query or body. Who may
call a route is declared once, in permissions.json beside this module (the authorizer reads the
same file). Domain errors become HTTP statuses in ERROR_STATUS, the one place."""

# No `from __future__ import annotations`: Powertools reads the route signatures at runtime.

import gc

# No cyclic collection while init imports and builds; what it builds is frozen at the end.
gc.disable()

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field

from metering_service.container import container
from metering_service.domain.errors import (
    ConcurrentUpdate,
    InvalidMetering,
    MeteringError,
    MeteringNotFound,
)
from metering_service.domain.model import MAX_NAME_LENGTH, Metering
from metering_service.entrypoints.observability import logger, tracer
from tenant_context import Cause, InvalidTenantContext, TenantContext, enrich_logger
from tenant_context.permissions import RoutePermissions
from tenant_context.problems import (
    Problem,
    problem_json,
    unsupported_media_type,
    validation_problem,
)
from tenant_context.request_body import BodyRefused, json_object_body

# The body rule of every API (docs/conventions.md): one JSON object of at most 1 MiB.
app = APIGatewayRestResolver(enable_validation=True, json_body_deserializer=json_object_body)
app.configure_openapi(
    title="Metering service",
    version="1.0.0",
    description="The tenant's meterings. The tenant comes from the token only.",
)

# Who may call which route: this service's own file, beside this module.
PERMISSIONS = RoutePermissions.beside(__file__)

ERROR_STATUS: dict[type[MeteringError], int] = {
    MeteringNotFound: 404,
    InvalidMetering: 422,
    ConcurrentUpdate: 409,
}


class MeteringIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=MAX_NAME_LENGTH)


class MeteringOut(BaseModel):
    id: str
    name: str

    @classmethod
    def of(cls, metering: Metering) -> "MeteringOut":
        return cls(id=metering.id, name=metering.name)


PROBLEMS = {
    400: "Malformed request: the body is not UTF-8 JSON or is over 1 MiB",
    401: "No token, or one the authorizer refused (API Gateway's answer)",
    403: "The caller's role may not do this, or the token carries no tenant",
    404: "No such metering in the caller's tenant",
    415: "The body is not sent as application/json",
    422: "A field is missing or breaks its rule",
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


def _domain_error(error: MeteringError) -> Response[str]:
    status = next((s for kind, s in ERROR_STATUS.items() if isinstance(error, kind)), 400)
    return _error(status, str(error))


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
app.exception_handler(RequestValidationError)(_invalid_request)
app.exception_handler(BodyRefused)(_body_refused)
app.exception_handler(UnicodeDecodeError)(_not_text)
app.exception_handler(InvalidTenantContext)(_no_tenant)
app.exception_handler(Forbidden)(_forbidden)


@app.post(
    "/meterings",
    summary="Create a metering (TenantAdmin)",
    responses=_responses(201, "Created: the metering, its id in `id`", MeteringOut, 400, 415),
)
@tracer.capture_method
def create_metering(body: MeteringIn) -> tuple[MeteringOut, int]:
    tenant = _tenant()
    cause = Cause(correlation_id=_correlation_id())
    created = container().meterings.create(tenant, body.name, cause)
    logger.info("metering created", metering_id=created.id)
    return MeteringOut.of(created), 201


@app.get(
    "/meterings/<metering_id>",
    summary="Read one metering (TenantAdmin, TenantUser)",
    responses=_responses(200, "The metering", MeteringOut, 404),
)
@tracer.capture_method
def get_metering(metering_id: Annotated[str, Path(min_length=1)]) -> MeteringOut:
    tenant = _tenant()
    return MeteringOut.of(container().meterings.get(tenant, metering_id))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return unsupported_media_type(event) or app.resolve(event, context)


# Init is done: its objects live as long as the environment, so collections skip them.
gc.freeze()
gc.enable()
