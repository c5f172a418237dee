"""Composition root: the only module that chooses adapters. Configuration enters here, once.

The shape of docs/conventions.md: `Settings` (the function's environment), `Container` (one typed
cached property per dependency, built on first use; adapters imported inside the property that
builds them, so a handler pays at cold start only for what it uses), `container()` and
`use_container()`."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Mapping
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from provisioner.app.reconcile import Reconciler
from provisioner.app.stack_waiter import StackWaiter, WaitPolicy
from provisioner.domain.environment import DEFAULT_REGION_MAP
from provisioner.ports.clock import Clock
from provisioner.ports.dead_letters import DeadLetters
from provisioner.ports.event_publisher import EventPublisher
from provisioner.ports.stream_records import StreamRecords
from provisioner.ports.tenant_data_space import TenantDataSpace
from provisioner.ports.tenant_stacks import TenantStacks

if TYPE_CHECKING:
    from provisioner.adapters.aws_clients import AwsClients


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


class Container:
    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings if settings is not None else Settings.from_environ()

    @cached_property
    def aws(self) -> AwsClients:
        from provisioner.adapters.aws_clients import AwsClients

        return AwsClients(self.settings.aws_endpoint_url)

    @cached_property
    def tenant_stacks(self) -> TenantStacks:
        from provisioner.adapters.cloudformation_tenant_stacks import CloudFormationTenantStacks
        from provisioner.adapters.sts_deployment_sessions import (
            DeploymentRole,
            DeploymentSessions,
        )
        from provisioner.adapters.tenant_template import template_body

        settings = self.settings
        roles = {
            group: DeploymentRole(role.role_arn, role.external_id)
            for group, role in settings.deployment_roles.items()
        }
        sessions = DeploymentSessions(self.aws.client("sts", settings.region), roles, self.aws)
        return CloudFormationTenantStacks(sessions, template_body(settings.tenant_template_path))

    @cached_property
    def data_space(self) -> TenantDataSpace:
        if self.settings.backend == "fauna":
            return self._fauna_data_space()
        if self.settings.backend == "dynamodb":
            from provisioner.adapters.dynamodb_tenant_data_space import DynamoDBTenantDataSpace

            aws = self.aws
            return DynamoDBTenantDataSpace(lambda region: aws.client("dynamodb", region))
        from provisioner.adapters.memory_tenant_data_space import MemoryTenantDataSpace

        return MemoryTenantDataSpace()

    def _fauna_data_space(self) -> TenantDataSpace:
        from fauna.client import Client

        from provisioner.adapters.fauna_tenant_data_space import FaunaTenantDataSpace

        settings = self.settings
        if not settings.fauna_secret:
            raise ValueError("BACKEND=fauna needs FAUNA_SECRET")
        aws = self.aws
        return FaunaTenantDataSpace(
            admin=Client(endpoint=settings.fauna_endpoint, secret=settings.fauna_secret),
            secrets_client_for=lambda region: aws.client("secretsmanager", region),
            child_db_pattern=settings.fauna_child_db_pattern,
        )

    @cached_property
    def event_publisher(self) -> EventPublisher:
        from provisioner.adapters.eventbridge_event_publisher import EventBridgeEventPublisher

        # The provisioner runs in the home region, beside the tenant table: it publishes there.
        return EventBridgeEventPublisher(
            self.aws.client("events", self.settings.region), self.settings.event_bus_name
        )

    @cached_property
    def dead_letters(self) -> DeadLetters:
        queue_url = self.settings.dead_letter_queue_url
        if not queue_url:
            from provisioner.adapters.memory_dead_letters import MemoryDeadLetters

            return MemoryDeadLetters()
        from provisioner.adapters.sqs_dead_letters import SqsDeadLetters

        return SqsDeadLetters(self.aws.client("sqs", self.settings.region), queue_url)

    @cached_property
    def stream_records(self) -> StreamRecords:
        from provisioner.adapters.dynamodb_stream_records import DynamoDBStreamRecords

        return DynamoDBStreamRecords()

    @cached_property
    def clock(self) -> Clock:
        from provisioner.adapters.system_clock import SystemClock

        return SystemClock()

    @cached_property
    def waiter(self) -> StackWaiter:
        policy = WaitPolicy(
            timeout_seconds=self.settings.stack_wait_seconds,
            first_delay_seconds=self.settings.stack_poll_seconds,
        )
        return StackWaiter(self.tenant_stacks, self.clock, policy)

    @cached_property
    def reconciler(self) -> Reconciler:
        return Reconciler(
            stacks=self.tenant_stacks,
            waiter=self.waiter,
            data_space=self.data_space,
            publisher=self.event_publisher,
            region_map=self.settings.region_map,
            max_attempts=self.settings.max_attempts,
        )


_container: Container | None = None
_lock = threading.Lock()


def container() -> Container:
    """The process-wide container (built on first use, reused by warm invocations)."""
    global _container
    with _lock:
        if _container is None:
            _container = Container()
        return _container


def use_container(replacement: Container | None) -> None:
    """Install `replacement` as the process-wide container (tests); None drops the current one."""
    global _container
    with _lock:
        _container = replacement
