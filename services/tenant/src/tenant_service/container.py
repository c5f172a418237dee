"""Composition root: the only module that chooses adapters. Configuration enters here, once.

Adapters are imported inside the factories, so a handler pays at cold start only for what it
uses. The authorizer runs in front of every API, so it is wired by `build_authorizer` from the
same factories without dependency-injector: `Container` (and its import) is declared on first
use only.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

PRODUCER = "saas.tenant"


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
    user_pool_id: str = Field("", alias="USER_POOL_ID")
    # Comma-separated app client ids whose ID tokens are accepted (the token's `aud`).
    user_pool_client_ids: str = Field("", alias="USER_POOL_CLIENT_IDS")
    cognito_issuer: str | None = Field(None, alias="COGNITO_ISSUER")
    cognito_jwks_url: str | None = Field(None, alias="COGNITO_JWKS_URL")
    token_leeway_seconds: int = Field(30, ge=0, le=300, alias="TOKEN_LEEWAY_SECONDS")
    jwks_refetch_cooldown_seconds: float = Field(300, ge=0, alias="JWKS_REFETCH_COOLDOWN_SECONDS")
    tenant_cache_ttl_seconds: float = Field(30, ge=0, le=300, alias="TENANT_CACHE_TTL_SECONDS")
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


@cache
def _client(service: str, region: str, endpoint_url: str | None) -> Any:
    """One boto3 client per service and region per process, reused across invocations."""
    # botocore directly: boto3 would add its own import cost (s3transfer) and nothing we use.
    import botocore.session

    return botocore.session.get_session().create_client(
        service, region_name=region, endpoint_url=endpoint_url
    )


def _aws(settings: Settings, service: str) -> Any:
    return _client(service, settings.region, settings.aws_endpoint_url)


def _repository(settings: Settings) -> Any:
    if settings.backend == "memory":
        from tenant_service.adapters.memory_tenant_repository import MemoryTenantRepository

        return MemoryTenantRepository()
    from tenant_service.adapters.dynamodb_tenant_repository import DynamoDbTenantRepository

    return DynamoDbTenantRepository(
        _aws(settings, "dynamodb"),
        tenant_table=settings.tenant_table_name,
        service_table=settings.service_table_name,
    )


def _identity(settings: Settings) -> Any:
    if settings.backend == "memory":
        from tenant_service.adapters.memory_identity_provider import MemoryIdentityProvider

        return MemoryIdentityProvider()
    from tenant_service.adapters.cognito_identity_provider import CognitoIdentityProvider

    return CognitoIdentityProvider(
        _aws(settings, "cognito-idp"),
        user_pool_id=settings.user_pool_id,
        send_invitation=settings.invitations == "cognito",
    )


def _invitations(settings: Settings) -> Any:
    if settings.backend == "memory":
        from tenant_service.adapters.memory_invitation_sender import MemoryInvitationSender

        return MemoryInvitationSender()
    from tenant_service.adapters.cognito_invitation_sender import CognitoInvitationSender
    from tenant_service.adapters.file_invitation_sender import FileInvitationSender

    if settings.invitations == "file":
        return FileInvitationSender(settings.invitation_outbox_dir)
    return CognitoInvitationSender()


def _publisher(settings: Settings) -> Any:
    if settings.backend == "memory":
        from tenant_service.adapters.memory_event_publisher import MemoryEventPublisher

        return MemoryEventPublisher()
    from tenant_service.adapters.eventbridge_event_publisher import EventBridgeEventPublisher

    return EventBridgeEventPublisher(_aws(settings, "events"), bus_name=settings.event_bus_name)


def _dead_letters(settings: Settings) -> Any:
    if settings.backend == "memory":
        from tenant_service.adapters.memory_dead_letters import MemoryDeadLetters

        return MemoryDeadLetters()
    from tenant_service.adapters.sqs_dead_letters import SqsDeadLetters

    return SqsDeadLetters(_aws(settings, "sqs"), queue_name=settings.dlq_name)


def _idempotency_store(settings: Settings) -> Any:
    if settings.backend == "memory":
        from tenant_service.adapters.memory_idempotency_store import MemoryIdempotencyStore

        return MemoryIdempotencyStore()
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

    return DynamoDBPersistenceLayer(
        table_name=settings.idempotency_table_name,
        boto3_client=_aws(settings, "dynamodb"),
    )


def _clock() -> Any:
    from tenant_service.adapters.system_clock import SystemClock

    return SystemClock()


def _ids() -> Any:
    from tenant_service.adapters.system_clock import UuidGenerator

    return UuidGenerator()


def _jwks(settings: Settings) -> Any:
    from tenant_service.adapters.http_jwks_fetcher import HttpJwksFetcher

    return HttpJwksFetcher(settings.jwks_url)


def _verifier(settings: Settings, jwks: Any, clock: Any) -> Any:
    from tenant_service.adapters.pyjwt_token_verifier import PyJwtTokenVerifier

    return PyJwtTokenVerifier(
        jwks=jwks,
        issuer=settings.issuer,
        audiences=settings.audiences,
        monotonic=clock.monotonic,
        leeway_seconds=settings.token_leeway_seconds,
        refetch_cooldown=settings.jwks_refetch_cooldown_seconds,
    )


def _tenant_uses(repository: Any, clock: Any, ids: Any) -> Any:
    from tenant_service.app.tenants import TenantUseCases

    return TenantUseCases(repository, clock, ids)


def _user_uses(repository: Any, identity: Any, invitations: Any, clock: Any) -> Any:
    from tenant_service.app.users import UserUseCases

    return UserUseCases(repository, identity, invitations, clock)


def _reactions(repository: Any, identity: Any, invitations: Any, clock: Any) -> Any:
    from tenant_service.app.provisioning import ProvisioningReactions

    return ProvisioningReactions(repository, identity, invitations, clock)


def _authorizer(verifier: Any, repository: Any, clock: Any, settings: Settings) -> Any:
    from tenant_service.app.authorize import Authorizer, CachedTenantDirectory

    directory = CachedTenantDirectory(repository, clock, settings.tenant_cache_ttl_seconds)
    return Authorizer(verifier, directory)


def build_authorizer(settings: Settings | None = None) -> Any:
    """The authorizer's whole wiring (the same factories the Container uses)."""
    settings = settings or Settings.from_environ()
    clock = _clock()
    verifier = _verifier(settings, _jwks(settings), clock)
    return _authorizer(verifier, _repository(settings), clock, settings)


def _declare_container() -> Any:
    from dependency_injector import containers, providers

    class Container(containers.DeclarativeContainer):
        settings = providers.Singleton(Settings.from_environ)

        clock = providers.Singleton(_clock)
        ids = providers.Singleton(_ids)
        repository = providers.Singleton(_repository, settings)
        identity = providers.Singleton(_identity, settings)
        invitations = providers.Singleton(_invitations, settings)
        publisher = providers.Singleton(_publisher, settings)
        dead_letters = providers.Singleton(_dead_letters, settings)
        idempotency_store = providers.Singleton(_idempotency_store, settings)
        jwks = providers.Singleton(_jwks, settings)
        verifier = providers.Singleton(_verifier, settings, jwks, clock)

        tenants = providers.Singleton(_tenant_uses, repository, clock, ids)
        users = providers.Singleton(_user_uses, repository, identity, invitations, clock)
        reactions = providers.Singleton(_reactions, repository, identity, invitations, clock)

    return Container


if TYPE_CHECKING:
    Container: Any


def __getattr__(name: str) -> Any:
    if name == "Container":
        declared = _declare_container()
        globals()["Container"] = declared
        return declared
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
