"""HTTP API of the tenant service: tenants (SystemAdmin; a TenantAdmin reads its own) and users
(a TenantAdmin, inside its own tenant). The caller comes only from the authorizer context."""

from __future__ import annotations

import gc

# No cyclic collection while init imports and builds (about 25 ms of cold start); what it
# builds is frozen and collecting resumes at the end of this module.
gc.disable()

import os
from http import HTTPStatus
from typing import Annotated, Any, Literal
from urllib.parse import unquote

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
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field, field_validator

from tenant_context import InvalidTenantContext, Principal
from tenant_context.metering import metered
from tenant_context.problems import (
    Problem,
    problem_json,
    unsupported_media_type,
    validation_problem,
)
from tenant_context.request_body import BodyRefused, json_object_body
from tenant_service.app.tenants import Forbidden, RegisterTenant
from tenant_service.container import container
from tenant_service.domain.errors import (
    ConcurrentModification,
    InvalidPageToken,
    OutsideTheTenant,
    RequestKeyReused,
    TenantError,
    TenantNotFound,
    TransitionNotAllowed,
    UserActionNotAllowed,
    UserAlreadyExists,
    UserNotFound,
)
from tenant_service.domain.tenant import RegionGroup, Tenant, Tier, validate_config
from tenant_service.domain.users import TenantUser, UserRole
from tenant_service.entrypoints.observability import logger, metrics, tracer

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

IDEMPOTENCY = IdempotencyConfig(
    event_key_jmespath="key",
    payload_validation_jmespath="body",
    expires_after_seconds=24 * 3600,
)
TenantId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
Limit = Annotated[int, Query(ge=1, le=100)]
NextToken = Annotated[str | None, Query(min_length=1, max_length=2048)]
# Cognito's username (the user's email): any printable characters but "/" and spaces.
Username = Annotated[str, Path(min_length=1, max_length=256, pattern=r"^[^/\s]+$")]


# request and response bodies
class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


Config = dict[str, Annotated[str, Field(max_length=1024)]]
# A pragmatic address check (Cognito does the rest); pydantic's EmailStr needs another package.
EmailStr = Annotated[
    str, Field(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
]


class NewTenant(_Body):
    name: str = Field(min_length=1, max_length=100)
    tier: Tier
    region_group: RegionGroup
    admin_email: EmailStr
    config: Config = Field(default_factory=dict)

    _config = field_validator("config")(validate_config)


class TenantChange(_Body):
    tier: Tier | None = None
    config: Config | None = None

    @field_validator("config")
    @classmethod
    def _valid_config(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        return None if value is None else validate_config(value)


class NewUser(_Body):
    email: EmailStr
    role: Literal["TenantAdmin", "TenantUser"]


class Accepted(BaseModel):
    id: str
    status: str


class TenantOut(BaseModel):
    id: str
    name: str
    tier: Tier
    region_group: RegionGroup
    status: str
    status_reason: str | None = None
    config: dict[str, str]

    @classmethod
    def of(cls, tenant: Tenant) -> TenantOut:
        return cls(
            id=tenant.id,
            name=tenant.name,
            tier=tenant.tier,
            region_group=tenant.region_group,
            status=tenant.status.value,
            status_reason=tenant.status_reason,
            config=tenant.config,
        )


class TenantPage(BaseModel):
    items: list[TenantOut]
    next_token: str | None = None


class UserOut(BaseModel):
    username: str
    email: str
    role: str
    enabled: bool

    @classmethod
    def of(cls, user: TenantUser) -> UserOut:
        return cls(
            username=user.username, email=user.email, role=user.role.value, enabled=user.enabled
        )


class UserPage(BaseModel):
    items: list[UserOut]
    next_token: str | None = None


PROBLEMS = {
    401: "No token, or one the authorizer refused (API Gateway's answer)",
    415: "The body is not sent as application/json",
    400: "Malformed request: the body is not UTF-8 JSON or is over 1 MiB, next_token is not one "
    "we issued, or the change asks for nothing",
    403: "The caller's role may not do this",
    404: "No such tenant, or no such user in the caller's tenant (an item of another tenant, "
    "refused to the caller's scoped credentials, is not found either)",
    409: "The tenant's status does not allow this, it changed meanwhile, the user exists, or "
    "the user's state does not allow this (an admin acting on itself, an invitation to a user "
    "who has signed in or is disabled), or a request with the same Idempotency-Key is still in "
    "progress (Retry-After says when to send it again)",
    422: "A field is missing or breaks its rule, or an Idempotency-Key was reused with another "
    "body",
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


class BadRequest(Exception):
    """A request that is well-formed but asks for nothing sensible (400)."""


# domain errors -> HTTP status, in this one place
_STATUS: dict[type[Exception], HTTPStatus] = {
    TenantNotFound: HTTPStatus.NOT_FOUND,
    TransitionNotAllowed: HTTPStatus.CONFLICT,
    ConcurrentModification: HTTPStatus.CONFLICT,
    UserAlreadyExists: HTTPStatus.CONFLICT,
    UserNotFound: HTTPStatus.NOT_FOUND,
    UserActionNotAllowed: HTTPStatus.CONFLICT,
    InvalidPageToken: HTTPStatus.BAD_REQUEST,
    BadRequest: HTTPStatus.BAD_REQUEST,
    Forbidden: HTTPStatus.FORBIDDEN,
    InvalidTenantContext: HTTPStatus.FORBIDDEN,
    IdempotencyValidationError: HTTPStatus.UNPROCESSABLE_ENTITY,
    RequestKeyReused: HTTPStatus.UNPROCESSABLE_ENTITY,
}


def _problem(status: HTTPStatus, message: str) -> Response[str]:
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=problem_json(status, message),
    )


@app.exception_handler(RequestValidationError)  # type: ignore[untyped-decorator]
def _invalid_request(error: RequestValidationError) -> Response[str]:
    status, body = validation_problem(error.errors())
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=body)


@app.exception_handler(BodyRefused)  # type: ignore[untyped-decorator]
def _body_refused(error: BodyRefused) -> Response[str]:
    return _problem(HTTPStatus(error.status), str(error))


@app.exception_handler(UnicodeDecodeError)  # type: ignore[untyped-decorator]
def _not_text(_: UnicodeDecodeError) -> Response[str]:
    return _problem(HTTPStatus.BAD_REQUEST, "the body is not UTF-8 text")


@app.exception_handler(
    [TenantError, BadRequest, Forbidden, InvalidTenantContext, IdempotencyValidationError]
)  # type: ignore[untyped-decorator]
def _domain_error(error: Exception) -> Response[str]:
    status = next(
        (s for kind, s in _STATUS.items() if isinstance(error, kind)), HTTPStatus.BAD_REQUEST
    )
    if isinstance(error, IdempotencyValidationError):
        message = "Idempotency-Key was already used with a different request body"
    else:
        message = str(error)
    return _problem(status, message)


# A running attempt holds its key; a crashed or timed-out one until the function's timeout has
# passed (Powertools records the remaining time as the in-progress expiry). The client is told to
# come back in a few seconds, as often as it takes.
IN_PROGRESS_RETRY_AFTER_S = 5


@app.exception_handler(IdempotencyAlreadyInProgressError)  # type: ignore[untyped-decorator]
def _in_progress(_: IdempotencyAlreadyInProgressError) -> Response[str]:
    return Response(
        status_code=HTTPStatus.CONFLICT,
        content_type=content_types.APPLICATION_JSON,
        body=problem_json(
            HTTPStatus.CONFLICT,
            "a request with this Idempotency-Key is still in progress; send it again after "
            f"{IN_PROGRESS_RETRY_AFTER_S} s to get its answer",
        ),
        headers={"Retry-After": str(IN_PROGRESS_RETRY_AFTER_S)},
    )


@app.exception_handler(OutsideTheTenant)  # type: ignore[untyped-decorator]
def _outside_the_tenant(error: OutsideTheTenant) -> Response[str]:
    """A key of another tenant was asked for (a bug): AWS refused it, the caller gets a 404."""
    logger.error("the tenant's scoped credentials were refused a key", refusal=error.refusal)
    parameters = app.current_event.path_parameters or {}
    if "username" in parameters:
        message = str(UserNotFound(_username(parameters["username"])))
    elif "tenant_id" in parameters:
        message = str(TenantNotFound(parameters["tenant_id"]))
    else:
        message = "no such item in the caller's tenant"
    return _problem(HTTPStatus.NOT_FOUND, message)


def _caller() -> Principal:
    request_context = app.current_event.raw_event.get("requestContext") or {}
    return Principal.from_authorizer(request_context.get("authorizer"))


# tenants
def _register(request: dict[str, Any]) -> dict[str, Any]:
    body = NewTenant.model_validate(request["body"])
    tenant = container().tenants.register(
        Principal.from_authorizer(request["caller"]),
        RegisterTenant(
            name=body.name,
            tier=body.tier,
            region_group=body.region_group,
            admin_email=str(body.admin_email),
            config=body.config,
            request_key=request.get("key"),
        ),
    )
    metrics.add_metric(name="TenantsRegistered", unit=MetricUnit.Count, value=1)
    return Accepted(id=tenant.id, status=tenant.status.value).model_dump()


@app.post(
    "/tenants",
    responses=_responses(202, "Accepted: the tenant is PROVISIONING", Accepted, 400, 409, 415),
)
def register_tenant(body: NewTenant) -> Response[Accepted]:
    caller = _caller()
    request: dict[str, Any] = {
        "body": body.model_dump(mode="json"),
        "caller": {"role": caller.role.value, "user_id": caller.user_id, "tenant_id": ""},
    }
    key = app.current_event.headers.get("Idempotency-Key")
    if key:
        # Keys are the caller's own: another admin's equal key is another request.
        request["key"] = f"{caller.user_id}:{key}"
        answer: dict[str, Any] = idempotent_function(
            data_keyword_argument="request",
            persistence_store=container().idempotency_store,
            config=IDEMPOTENCY,
        )(_register)(request=request)
    else:
        answer = _register(request)
    return Response(HTTPStatus.ACCEPTED, content_types.APPLICATION_JSON, Accepted(**answer))


@app.get(
    "/tenants",
    responses=_responses(200, "A page of tenants; next_token if there are more", TenantPage, 400),
)
def list_tenants(limit: Limit = 20, next_token: NextToken = None) -> TenantPage:
    page = container().tenants.list(_caller(), limit=limit, next_token=next_token)
    return TenantPage(items=[TenantOut.of(t) for t in page.items], next_token=page.next_token)


@app.get("/tenants/<tenant_id>", responses=_responses(200, "The tenant", TenantOut, 404))
def get_tenant(tenant_id: TenantId) -> TenantOut:
    return TenantOut.of(container().tenants.get(_caller(), tenant_id))


@app.patch(
    "/tenants/<tenant_id>",
    responses=_responses(200, "The tenant as changed", TenantOut, 400, 404, 409, 415),
)
def update_tenant(tenant_id: TenantId, body: TenantChange) -> TenantOut:
    if body.tier is None and body.config is None:
        raise BadRequest("nothing to change: give tier and/or config")
    tenant = container().tenants.update(_caller(), tenant_id, tier=body.tier, config=body.config)
    return TenantOut.of(tenant)


@app.post(
    "/tenants/<tenant_id>/suspend",
    responses=_responses(200, "The tenant, SUSPENDED", TenantOut, 404, 409),
)
def suspend_tenant(tenant_id: TenantId) -> TenantOut:
    return TenantOut.of(container().tenants.suspend(_caller(), tenant_id))


@app.post(
    "/tenants/<tenant_id>/activate",
    responses=_responses(200, "The tenant, ACTIVE", TenantOut, 404, 409),
)
def activate_tenant(tenant_id: TenantId) -> TenantOut:
    return TenantOut.of(container().tenants.activate(_caller(), tenant_id))


@app.post(
    "/tenants/<tenant_id>/retry-provisioning",
    responses=_responses(202, "Accepted: the tenant is PROVISIONING again", TenantOut, 404, 409),
)
def retry_provisioning(tenant_id: TenantId) -> Response[TenantOut]:
    tenant = container().tenants.retry_provisioning(_caller(), tenant_id)
    return Response(HTTPStatus.ACCEPTED, content_types.APPLICATION_JSON, TenantOut.of(tenant))


@app.delete(
    "/tenants/<tenant_id>",
    responses=_responses(
        202, "Accepted: the tenant is OFFBOARDING (again: as it is)", TenantOut, 404, 409
    ),
)
def offboard_tenant(tenant_id: TenantId) -> Response[TenantOut]:
    tenant = container().tenants.offboard(_caller(), tenant_id)
    return Response(HTTPStatus.ACCEPTED, content_types.APPLICATION_JSON, TenantOut.of(tenant))


# users
@app.post(
    "/users",
    responses=_responses(201, "Created: the user, invited by email", UserOut, 400, 404, 409, 415),
)
def create_user(body: NewUser) -> Response[UserOut]:
    user = container().users.create(_caller(), email=str(body.email), role=UserRole(body.role))
    return Response(HTTPStatus.CREATED, content_types.APPLICATION_JSON, UserOut.of(user))


@app.get(
    "/users",
    responses=_responses(200, "A page of the tenant's users", UserPage, 400, 404),
)
def list_users(limit: Limit = 20, next_token: NextToken = None) -> UserPage:
    page = container().users.list(_caller(), limit=limit, next_token=next_token)
    return UserPage(items=[UserOut.of(u) for u in page.items], next_token=page.next_token)


def _username(raw: str) -> str:
    # A client encodes "@" and "+" of the email in the path; API Gateway may hand it on as sent.
    return unquote(raw)


@app.post(
    "/users/<username>/disable",
    responses=_responses(200, "The user, disabled: its logins are refused", UserOut, 404, 409),
)
def disable_user(username: Username) -> UserOut:
    return UserOut.of(container().users.disable(_caller(), _username(username)))


@app.post(
    "/users/<username>/enable",
    responses=_responses(200, "The user, enabled", UserOut, 404),
)
def enable_user(username: Username) -> UserOut:
    return UserOut.of(container().users.enable(_caller(), _username(username)))


@app.post(
    "/users/<username>/resend-invitation",
    responses=_responses(
        200, "The user, invited again with a new temporary password", UserOut, 404, 409
    ),
)
def resend_invitation(username: Username) -> UserOut:
    return UserOut.of(container().users.resend_invitation(_caller(), _username(username)))


@app.delete(
    "/users/<username>",
    responses=_responses(204, "Removed: the user no longer exists", None, 404, 409),
)
def remove_user(username: Username) -> Response[str]:
    container().users.remove(_caller(), _username(username))
    return Response(status_code=HTTPStatus.NO_CONTENT, body="")


def _cors_headers(origin: str | None) -> dict[str, str]:
    """What the resolver adds to its own answers, for one answered before it."""
    allowed = CORS.allowed_origin(origin) if origin else None
    return CORS.to_dict(allowed) if allowed else {}


@logger.inject_lambda_context(
    correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True
)
@tracer().capture_lambda_handler
@metrics.log_metrics
@metered(metrics, api=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    IDEMPOTENCY.register_lambda_context(context)
    return unsupported_media_type(event, _cors_headers) or app.resolve(event, context)


# Init is done: its objects live as long as the environment, so collections skip them.
gc.freeze()
gc.enable()
