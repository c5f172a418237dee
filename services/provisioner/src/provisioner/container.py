"""Composition root: the only module that chooses adapters. Configuration enters here, once."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any, Literal

from dependency_injector import containers, providers
from pydantic import BaseModel, ConfigDict, Field, field_validator

from provisioner.app.reconcile import Reconciler
from provisioner.app.stack_waiter import StackWaiter, WaitPolicy
from provisioner.domain.environment import DEFAULT_REGION_MAP

PRODUCER = "saas.provisioner"


class RoleSetting(BaseModel):
    model_config = ConfigDict(frozen=True)

    role_arn: str = Field(min_length=20)
    external_id: str = Field(min_length=2)


class Settings(BaseModel):
    """Environment of the Lambda function, checked at cold start."""

    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="ignore")

    # Where tenant data lives beyond the stack: Fauna child databases, or DynamoDB.
    backend: Literal["memory", "dynamodb", "fauna"] = Field("dynamodb", alias="BACKEND")
    region: str = Field("us-east-1", alias="AWS_REGION")
    aws_endpoint_url: str | None = Field(None, alias="AWS_ENDPOINT_URL")
    event_bus_name: str = Field("saas", alias="EVENT_BUS_NAME")
    region_map: dict[str, str] = Field(
        default_factory=lambda: dict(DEFAULT_REGION_MAP), alias="REGION_MAP"
    )
    # Region group -> the role CloudFormation work is done as, and its ExternalId.
    deployment_roles: dict[str, RoleSetting] = Field(default_factory=dict, alias="DEPLOYMENT_ROLES")
    max_attempts: int = Field(3, ge=1, le=10, alias="MAX_ATTEMPTS")
    # Tenants of one batch handled at once (each tenant's records stay in order).
    tenant_concurrency: int = Field(10, ge=1, le=50, alias="TENANT_CONCURRENCY")
    stack_wait_seconds: float = Field(600.0, gt=0, alias="STACK_WAIT_SECONDS")
    stack_poll_seconds: float = Field(2.0, gt=0, alias="STACK_POLL_SECONDS")
    dead_letter_queue_url: str | None = Field(None, alias="DEAD_LETTER_QUEUE_URL")
    # A template file used instead of the packaged one (a drill with a template that fails).
    tenant_template_path: str | None = Field(None, alias="TENANT_TEMPLATE_PATH")
    fauna_endpoint: str | None = Field(None, alias="FAUNA_ENDPOINT")
    fauna_secret: str | None = Field(None, alias="FAUNA_SECRET")
    fauna_child_db_pattern: str = Field("tenant_{tenant_id}", alias="FAUNA_CHILD_DB_PATTERN")

    @field_validator("region_map", "deployment_roles", mode="before")
    @classmethod
    def _json(cls, value: Any) -> Any:
        return json.loads(value) if isinstance(value, str) else value

    @field_validator("fauna_secret", "dead_letter_queue_url", "tenant_template_path")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        return value or None

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> Settings:
        return cls.model_validate(dict(os.environ if environ is None else environ))


# Adapters are imported where they are built: a handler pays only for the backend it uses.
def _regional_clients(settings: Settings) -> Any:
    from provisioner.adapters.aws_regional_clients import RegionalClients

    return RegionalClients(settings.aws_endpoint_url)


def _template_body(settings: Settings) -> str:
    from provisioner.adapters.cloudformation_tenant_stacks import packaged_template_body

    if settings.tenant_template_path:
        with open(settings.tenant_template_path, encoding="utf-8") as template:
            return template.read()
    return packaged_template_body()


def _tenant_stacks(settings: Settings, clients: Any) -> Any:
    from provisioner.adapters.cloudformation_tenant_stacks import (
        CloudFormationTenantStacks,
        DeploymentRole,
        DeploymentSessions,
    )

    roles = {
        group: DeploymentRole(role.role_arn, role.external_id)
        for group, role in settings.deployment_roles.items()
    }
    sessions = DeploymentSessions(clients.client("sts", settings.region), roles, clients.new_client)
    return CloudFormationTenantStacks(sessions, _template_body(settings))


def _memory_data_space() -> Any:
    from provisioner.adapters.memory_tenant_data_space import MemoryTenantDataSpace

    return MemoryTenantDataSpace()


def _dynamodb_data_space(clients: Any) -> Any:
    from provisioner.adapters.dynamodb_tenant_data_space import DynamoDbTenantDataSpace

    return DynamoDbTenantDataSpace(lambda region: clients.client("dynamodb", region))


def _fauna_data_space(settings: Settings, clients: Any) -> Any:
    from fauna.client import Client

    from provisioner.adapters.fauna_tenant_data_space import FaunaTenantDataSpace

    if not settings.fauna_secret:
        raise ValueError("BACKEND=fauna needs FAUNA_SECRET")
    secret, endpoint = settings.fauna_secret, settings.fauna_endpoint
    admin = Client(endpoint=endpoint, secret=secret)
    return FaunaTenantDataSpace(
        admin=admin,
        # A scoped secret: the admin key acting inside one child database only.
        child_admin=lambda database: Client(endpoint=endpoint, secret=f"{secret}:{database}:admin"),
        secrets_client_for=lambda region: clients.client("secretsmanager", region),
        child_db_pattern=settings.fauna_child_db_pattern,
    )


def _event_publisher(settings: Settings, clients: Any) -> Any:
    from provisioner.adapters.eventbridge_event_publisher import EventBridgeEventPublisher

    # The provisioner runs in the home region, beside the tenant table: it publishes there.
    return EventBridgeEventPublisher(
        clients.client("events", settings.region), settings.event_bus_name
    )


def _dead_letters(settings: Settings, clients: Any) -> Any:
    if not settings.dead_letter_queue_url:
        from provisioner.adapters.memory_dead_letters import MemoryDeadLetters

        return MemoryDeadLetters()
    from provisioner.adapters.sqs_dead_letters import SqsDeadLetters

    return SqsDeadLetters(clients.client("sqs", settings.region), settings.dead_letter_queue_url)


def _stream_records() -> Any:
    from provisioner.adapters import dynamodb_stream_records

    return dynamodb_stream_records


def _clock() -> Any:
    from provisioner.adapters.system_clock import SystemClock

    return SystemClock()


def _wait_policy(settings: Settings) -> WaitPolicy:
    return WaitPolicy(
        timeout_seconds=settings.stack_wait_seconds,
        first_delay_seconds=settings.stack_poll_seconds,
    )


class Container(containers.DeclarativeContainer):
    settings = providers.Singleton(Settings.from_environ)
    regional_clients = providers.Singleton(_regional_clients, settings)
    tenant_stacks = providers.Singleton(_tenant_stacks, settings, regional_clients)
    data_space = providers.Selector(
        providers.Callable(lambda s: s.backend, settings),
        memory=providers.Singleton(_memory_data_space),
        dynamodb=providers.Singleton(_dynamodb_data_space, regional_clients),
        fauna=providers.Singleton(_fauna_data_space, settings, regional_clients),
    )
    event_publisher = providers.Singleton(_event_publisher, settings, regional_clients)
    dead_letters = providers.Singleton(_dead_letters, settings, regional_clients)
    stream_records = providers.Singleton(_stream_records)
    clock = providers.Singleton(_clock)
    waiter = providers.Singleton(
        StackWaiter, tenant_stacks, clock, providers.Callable(_wait_policy, settings)
    )
    reconciler = providers.Singleton(
        Reconciler,
        stacks=tenant_stacks,
        waiter=waiter,
        data_space=data_space,
        publisher=event_publisher,
        region_map=providers.Callable(lambda s: s.region_map, settings),
        max_attempts=providers.Callable(lambda s: s.max_attempts, settings),
    )


_container: Container | None = None


def container() -> Container:
    """The process-wide container (built on first use, reused by warm invocations)."""
    global _container
    if _container is None:
        _container = Container()
    return _container
