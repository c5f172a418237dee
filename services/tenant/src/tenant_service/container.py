"""Composition root: the only module that chooses adapters. Configuration enters here, once.

`Settings` (the function's environment), `Container` (each dependency a cached property typed
with its port, built on first use and reused by warm invocations) and `container()` /
`use_container()`. Adapters are imported inside the property that builds them, so a handler pays
at cold start only for what it uses (the authorizer, in front of every API, builds its own
few).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency import BasePersistenceLayer

    from tenant_service.adapters.aws_clients import AwsClients
    from tenant_service.adapters.memory_tenant_repository import MemoryTenantRepository
    from tenant_service.app.access import TenantAccess
    from tenant_service.app.authorize import Authorizer
    from tenant_service.app.outbox_relay import OutboxRelay
    from tenant_service.app.provisioning import ProvisioningReactions
    from tenant_service.app.tenants import TenantUseCases
    from tenant_service.app.users import UserUseCases
    from tenant_service.ports.api_gateway import AuthorizerCaches, UsagePlans
    from tenant_service.ports.clock import Clock, IdGenerator
    from tenant_service.ports.dead_letters import DeadLetters
    from tenant_service.ports.event_publisher import EventPublisher
    from tenant_service.ports.identity_provider import IdentityProvider, InvitationSender
    from tenant_service.ports.jwks_fetcher import JwksFetcher
    from tenant_service.ports.route_permissions import RoutePermissionsSource
    from tenant_service.ports.tenant_directory import TenantDirectory, UserDirectory
    from tenant_service.ports.tenant_repository import TenantRepository
    from tenant_service.ports.tenant_scoped_clients import TenantScopedClients
    from tenant_service.ports.token_verifier import TokenVerifier
    from tenant_service.ports.unit_of_work import UnitOfWorkFactory


class Settings(BaseModel):
    """Environment of the Lambda function, checked at cold start."""

    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="ignore")

    backend: Literal["memory", "dynamodb"] = Field("dynamodb", alias="BACKEND")
    region: str = Field("us-east-1", alias="AWS_REGION")
    aws_endpoint_url: str | None = Field(None, alias="AWS_ENDPOINT_URL")
    event_bus_name: str = Field("saas", alias="EVENT_BUS_NAME")
    tenant_table_name: str = Field("saas-tenants", alias="TENANT_TABLE_NAME")
    service_table_name: str = Field("saas-tenant-service", alias="SERVICE_TABLE_NAME")
    idempotency_table_name: str = Field("saas-tenant-idempotency", alias="IDEMPOTENCY_TABLE_NAME")
    dlq_name: str = Field("saas-tenant-events-dlq", alias="DLQ_NAME")
    # Set on the tenant-serving function alone (TenantScopedApiFunction): every tenant item is
    # then reached as this role, in a session tagged with the one tenant, never with the
    # function's own role (which has no DynamoDB permission). Unset: the control plane, whose
    # own role may touch every tenant (README, "Tenant isolation").
    tenant_access_role_arn: str | None = Field(None, alias="TENANT_ACCESS_ROLE_ARN")
    user_pool_id: str = Field("", alias="USER_POOL_ID")
    # Comma-separated app client ids whose ID tokens are accepted (the token's `aud`).
    user_pool_client_ids: str = Field("", alias="USER_POOL_CLIENT_IDS")
    cognito_issuer: str | None = Field(None, alias="COGNITO_ISSUER")
    cognito_jwks_url: str | None = Field(None, alias="COGNITO_JWKS_URL")
    token_leeway_seconds: int = Field(30, ge=0, le=300, alias="TOKEN_LEEWAY_SECONDS")
    jwks_refetch_cooldown_seconds: float = Field(300, ge=0, alias="JWKS_REFETCH_COOLDOWN_SECONDS")
    # Bounds how long a change of a tenant's or a user's standing takes to reach every token
    # (app/access.py).
    tenant_cache_ttl_seconds: float = Field(5, ge=0, le=300, alias="TENANT_CACHE_TTL_SECONDS")
    # API Gateway's ReauthorizeEvery of the APIs: a token asked about again sooner on one stage
    # means that stage's cache was flushed, and its tenant's standing is read again (0: off).
    authorizer_result_ttl_seconds: float = Field(
        300, ge=0, le=3600, alias="AUTHORIZER_RESULT_TTL_SECONDS"
    )
    # Per-tenant API keys up to this many (API Gateway: 10,000 per account and region), then
    # tenants share one of USAGE_KEY_SHARDS keys of their tier.
    usage_key_bound: int = Field(9000, ge=0, le=10_000, alias="USAGE_KEY_BOUND")
    usage_key_shards: int = Field(16, ge=1, le=1000, alias="USAGE_KEY_SHARDS")
    # The deployed services' route permissions (one SSM parameter each, under this path), re-read
    # after the TTL: a service deployed alone is let in within it.
    route_permissions_path: str = Field(
        "/saas/permissions/", pattern=r"^/.*/$", alias="ROUTE_PERMISSIONS_PATH"
    )
    route_permissions_ttl_seconds: float = Field(
        60, ge=0, le=3600, alias="ROUTE_PERMISSIONS_TTL_SECONDS"
    )
    # "file": write invitations to INVITATION_OUTBOX_DIR (local); "cognito": Cognito emails them.
    invitations: Literal["file", "cognito"] | None = Field(None, alias="INVITATIONS")
    invitation_outbox_dir: Path = Field(Path(".local/outbox"), alias="INVITATION_OUTBOX_DIR")

    @model_validator(mode="after")
    def _local_invitations_by_default(self) -> Settings:
        if self.invitations is None:
            # Behind the local platform (an endpoint override) nobody can receive Cognito's email.
            mode = "file" if self.aws_endpoint_url else "cognito"
            object.__setattr__(self, "invitations", mode)
        return self

    @property
    def issuer(self) -> str:
        return (
            self.cognito_issuer
            or f"https://cognito-idp.{self.region}.amazonaws.com/{self.user_pool_id}"
        )

    @property
    def jwks_url(self) -> str:
        if self.cognito_jwks_url:
            return self.cognito_jwks_url
        base = self.aws_endpoint_url or f"https://cognito-idp.{self.region}.amazonaws.com"
        return f"{base.rstrip('/')}/{self.user_pool_id}/.well-known/jwks.json"

    @property
    def audiences(self) -> list[str]:
        return [c.strip() for c in self.user_pool_client_ids.split(",") if c.strip()]

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> Settings:
        return cls.model_validate(dict(os.environ if environ is None else environ))


class Container:
    """The service's dependencies, each built on first use and then reused. Tests assign a
    dependency before its first use (`c.publisher = MemoryEventPublisher()`)."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings.from_environ()

    @property
    def _memory(self) -> bool:
        return self.settings.backend == "memory"

    @cached_property
    def aws(self) -> AwsClients:
        from tenant_service.adapters.aws_clients import AwsClients

        return AwsClients(self.settings.region, self.settings.aws_endpoint_url)

    @cached_property
    def memory_store(self) -> MemoryTenantRepository:
        """The memory backend's one store: what its repository reads and its unit of work
        writes."""
        from tenant_service.adapters.memory_tenant_repository import MemoryTenantRepository

        return MemoryTenantRepository()

    # adapters
    @cached_property
    def clock(self) -> Clock:
        from tenant_service.adapters.system_clock import SystemClock

        return SystemClock()

    @cached_property
    def ids(self) -> IdGenerator:
        from tenant_service.adapters.uuid_generator import UuidGenerator

        return UuidGenerator()

    @cached_property
    def repository(self) -> TenantRepository:
        if self._memory:
            return self.memory_store
        from tenant_service.adapters.dynamodb_tenant_repository import DynamoDBTenantRepository

        return DynamoDBTenantRepository(
            self.aws.client("dynamodb"),
            tenant_table=self.settings.tenant_table_name,
            service_table=self.settings.service_table_name,
            scoped=self._scoped,
        )

    @cached_property
    def unit_of_work(self) -> UnitOfWorkFactory:
        if self._memory:
            from tenant_service.adapters.memory_unit_of_work import MemoryUnitOfWorkFactory

            return MemoryUnitOfWorkFactory(self.memory_store)
        from tenant_service.adapters.dynamodb_unit_of_work import DynamoDBUnitOfWorkFactory

        return DynamoDBUnitOfWorkFactory(
            self.aws.client("dynamodb"),
            tenant_table=self.settings.tenant_table_name,
            service_table=self.settings.service_table_name,
            scoped=self._scoped,
        )

    @cached_property
    def tenant_clients(self) -> TenantScopedClients:
        """DynamoDB clients scoped to one tenant each (the tenant-serving function)."""
        from tenant_service.adapters.sts_tenant_scoped_clients import StsTenantScopedClients

        role_arn = self.settings.tenant_access_role_arn
        if not role_arn:
            raise ValueError(
                "scoped clients need TENANT_ACCESS_ROLE_ARN: the tenant-access role whose "
                "sessions reach one tenant's items"
            )
        return StsTenantScopedClients(self.aws, role_arn=role_arn, region=self.settings.region)

    @property
    def _scoped(self) -> TenantScopedClients | None:
        """The tenant-serving function's scoped clients; None for the control plane."""
        return self.tenant_clients if self.settings.tenant_access_role_arn else None

    @cached_property
    def tenant_directory(self) -> TenantDirectory:
        if self._memory:
            return self.memory_store
        from tenant_service.adapters.dynamodb_tenant_directory import DynamoDBTenantDirectory

        return DynamoDBTenantDirectory(
            self.aws.client("dynamodb"), tenant_table=self.settings.tenant_table_name
        )

    @cached_property
    def user_directory(self) -> UserDirectory:
        if self._memory:
            return self.memory_store
        from tenant_service.adapters.dynamodb_tenant_directory import DynamoDBUserDirectory

        return DynamoDBUserDirectory(
            self.aws.client("dynamodb"), service_table=self.settings.service_table_name
        )

    @cached_property
    def route_permissions(self) -> RoutePermissionsSource:
        if self._memory:
            # No parameter store: the routes of this service alone, from its own file.
            from tenant_context.permissions import RoutePermissions
            from tenant_service.adapters.memory_route_permissions import MemoryRoutePermissions

            own = Path(__file__).with_name("entrypoints") / "permissions.json"
            return MemoryRoutePermissions([RoutePermissions.load(own)])
        from tenant_service.adapters.ssm_route_permissions import SsmRoutePermissions

        def get_parameters_by_path(request: Mapping[str, Any]) -> dict[str, Any]:
            return self.aws.call_json("ssm", "AmazonSSM.GetParametersByPath", request)

        return SsmRoutePermissions(
            get_parameters_by_path, path=self.settings.route_permissions_path
        )

    @cached_property
    def identity(self) -> IdentityProvider:
        if self._memory:
            from tenant_service.adapters.memory_identity_provider import MemoryIdentityProvider

            return MemoryIdentityProvider()
        from tenant_service.adapters.cognito_identity_provider import CognitoIdentityProvider

        return CognitoIdentityProvider(
            self.aws.client("cognito-idp"),
            user_pool_id=self.settings.user_pool_id,
            send_invitation=self.settings.invitations == "cognito",
        )

    @cached_property
    def invitations(self) -> InvitationSender:
        if self._memory:
            from tenant_service.adapters.memory_invitation_sender import MemoryInvitationSender

            return MemoryInvitationSender()
        if self.settings.invitations == "file":
            from tenant_service.adapters.file_invitation_sender import FileInvitationSender

            return FileInvitationSender(self.settings.invitation_outbox_dir)
        from tenant_service.adapters.cognito_invitation_sender import CognitoInvitationSender

        return CognitoInvitationSender()

    @cached_property
    def publisher(self) -> EventPublisher:
        if self._memory:
            from tenant_service.adapters.memory_event_publisher import MemoryEventPublisher

            return MemoryEventPublisher()
        from tenant_service.adapters.eventbridge_event_publisher import EventBridgeEventPublisher

        return EventBridgeEventPublisher(
            self.aws.client("events"), bus_name=self.settings.event_bus_name
        )

    @cached_property
    def dead_letters(self) -> DeadLetters:
        if self._memory:
            from tenant_service.adapters.memory_dead_letters import MemoryDeadLetters

            return MemoryDeadLetters()
        from tenant_service.adapters.sqs_dead_letters import SqsDeadLetters

        return SqsDeadLetters(self.aws.client("sqs"), queue_name=self.settings.dlq_name)

    @cached_property
    def idempotency_store(self) -> BasePersistenceLayer:
        if self._memory:
            from tenant_service.adapters.memory_idempotency_store import MemoryIdempotencyStore

            return MemoryIdempotencyStore()
        from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

        return DynamoDBPersistenceLayer(
            table_name=self.settings.idempotency_table_name,
            boto3_client=self.aws.client("dynamodb"),
        )

    @cached_property
    def usage_plans(self) -> UsagePlans:
        if self._memory:
            from tenant_service.adapters.memory_api_gateway import MemoryUsagePlans

            return MemoryUsagePlans()
        from tenant_service.adapters.apigateway_usage_plans import ApiGatewayUsagePlans

        return ApiGatewayUsagePlans(self.aws.client("apigateway"))

    @cached_property
    def authorizer_caches(self) -> AuthorizerCaches:
        if self._memory:
            from tenant_service.adapters.memory_api_gateway import MemoryAuthorizerCaches

            return MemoryAuthorizerCaches()
        from tenant_service.adapters.apigateway_usage_plans import ApiGatewayAuthorizerCaches

        return ApiGatewayAuthorizerCaches(self.aws.client("apigateway"))

    @cached_property
    def jwks(self) -> JwksFetcher:
        from tenant_service.adapters.http_jwks_fetcher import HttpJwksFetcher

        return HttpJwksFetcher(self.settings.jwks_url)

    @cached_property
    def verifier(self) -> TokenVerifier:
        from tenant_service.adapters.pyjwt_token_verifier import PyJwtTokenVerifier

        return PyJwtTokenVerifier(
            jwks=self.jwks,
            issuer=self.settings.issuer,
            audiences=self.settings.audiences,
            monotonic=self.clock.monotonic,
            leeway_seconds=self.settings.token_leeway_seconds,
            refetch_cooldown=self.settings.jwks_refetch_cooldown_seconds,
        )

    # use cases
    @cached_property
    def tenants(self) -> TenantUseCases:
        from tenant_service.app.tenants import TenantUseCases

        return TenantUseCases(self.repository, self.unit_of_work, self.clock, self.ids)

    @cached_property
    def users(self) -> UserUseCases:
        from tenant_service.app.users import UserUseCases

        return UserUseCases(
            self.repository, self.unit_of_work, self.identity, self.invitations, self.clock
        )

    @cached_property
    def access(self) -> TenantAccess:
        from tenant_service.app.access import TenantAccess

        return TenantAccess(
            self.usage_plans,
            self.authorizer_caches,
            self.clock,
            key_bound=self.settings.usage_key_bound,
            shards=self.settings.usage_key_shards,
            tenant_cache_ttl=self.settings.tenant_cache_ttl_seconds,
        )

    @cached_property
    def reactions(self) -> ProvisioningReactions:
        from tenant_service.app.provisioning import ProvisioningReactions

        return ProvisioningReactions(
            self.repository,
            self.unit_of_work,
            self.identity,
            self.invitations,
            self.clock,
            self.access,
        )

    @cached_property
    def outbox_relay(self) -> OutboxRelay:
        from tenant_service.app.outbox_relay import OutboxRelay

        return OutboxRelay(self.publisher)

    @cached_property
    def authorizer(self) -> Authorizer:
        from tenant_service.app.authorize import (
            Authorizer,
            CachedTenantDirectory,
            CachedUserDirectory,
            ReaskedTokens,
            RouteTable,
        )

        directory = CachedTenantDirectory(
            self.tenant_directory, self.clock, self.settings.tenant_cache_ttl_seconds
        )
        routes = RouteTable(
            self.route_permissions, self.clock, self.settings.route_permissions_ttl_seconds
        )
        reasked = ReaskedTokens(self.clock, self.settings.authorizer_result_ttl_seconds)
        users = CachedUserDirectory(
            self.user_directory, self.clock, self.settings.tenant_cache_ttl_seconds
        )
        return Authorizer(self.verifier, directory, routes, reasked, users)


_container: Container | None = None
_lock = threading.Lock()


def container() -> Container:
    """The process-wide Container, built on first use (settings checked then)."""
    global _container
    with _lock:
        if _container is None:
            _container = Container()
        return _container


def use_container(replacement: Container | None) -> None:
    """Install `replacement` as the process-wide Container (tests); None drops the current one."""
    global _container
    with _lock:
        _container = replacement
