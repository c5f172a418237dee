"""Composition root: the only module that chooses adapters. Configuration enters here, once.

Settings, then Container (one typed cached property per dependency, built on first use and
reused by warm invocations; adapters imported inside the property that builds them, so a
handler pays at cold start only for what it uses), then container() / use_container()."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Mapping
from functools import cached_property
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from order_service.app.orders import Orders
from order_service.app.outbox_relay import OutboxRelay
from order_service.app.reactions import Reactions
from order_service.ports.event_publisher import EventPublisher
from order_service.ports.order_repository import OrderRepository
from order_service.ports.outbox_source import OutboxSource
from order_service.ports.unit_of_work import UnitOfWorkFactory

if TYPE_CHECKING:
    from order_service.adapters.aws_clients import AwsClients
    from order_service.adapters.dynamodb_tables import RegionalTables
    from order_service.adapters.fauna_databases import FaunaTenantDatabases
    from order_service.adapters.memory_order_repository import MemoryStore
    from order_service.ports.tenant_scoped_clients import TenantScopedClients

DEFAULT_REGION_MAP = {"us": "us-east-1", "eu": "eu-west-1", "global": "us-east-1"}


class Settings(BaseModel):
    """Environment of the Lambda function, checked at cold start."""

    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="ignore")

    backend: Literal["memory", "dynamodb", "fauna"] = Field("dynamodb", alias="BACKEND")
    region: str = Field("us-east-1", alias="AWS_REGION")
    aws_endpoint_url: str | None = Field(None, alias="AWS_ENDPOINT_URL")
    event_bus_name: str = Field("saas", alias="EVENT_BUS_NAME")
    region_map: dict[str, str] = Field(
        default_factory=lambda: dict(DEFAULT_REGION_MAP), alias="REGION_MAP"
    )
    orders_table: str = Field("saas-orders", alias="ORDERS_TABLE")
    # The role whose sessions, tagged with one tenant id, reach that tenant's items alone.
    tenant_access_role_arn: str | None = Field(None, alias="TENANT_ACCESS_ROLE_ARN")
    fauna_endpoint: str | None = Field(None, alias="FAUNA_ENDPOINT")
    fauna_secret: str | None = Field(None, alias="FAUNA_SECRET")
    # Where the parent database's key is kept when FAUNA_SECRET is not given (Secrets Manager).
    fauna_secret_name: str | None = Field(None, alias="FAUNA_SECRET_NAME")
    fauna_child_db_pattern: str = Field("tenant_{tenant_id}", alias="FAUNA_CHILD_DB_PATTERN")

    @field_validator("region_map", mode="before")
    @classmethod
    def _json_map(cls, value: object) -> object:
        return json.loads(value) if isinstance(value, str) else value

    @field_validator("aws_endpoint_url", "fauna_endpoint", "fauna_secret", "fauna_secret_name")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        return value or None

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> Settings:
        return cls.model_validate(dict(os.environ if environ is None else environ))


class Container:
    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings if settings is not None else Settings.from_environ()

    # -- what the adapters share -----------------------------------------------------------

    @cached_property
    def aws(self) -> AwsClients:
        from order_service.adapters.aws_clients import AwsClients

        return AwsClients(self.settings.aws_endpoint_url)

    @cached_property
    def memory_store(self) -> MemoryStore:
        from order_service.adapters.memory_order_repository import MemoryStore

        return MemoryStore()

    @cached_property
    def tables(self) -> RegionalTables:
        from order_service.adapters.dynamodb_tables import RegionalTables

        return RegionalTables(pooled_table=self.settings.orders_table, clients=self.tenant_clients)

    @cached_property
    def tenant_clients(self) -> TenantScopedClients:
        """DynamoDB clients scoped to one tenant each: the function's own role reaches no
        tenant item (README, "Tenant isolation")."""
        from order_service.adapters.sts_tenant_scoped_clients import StsTenantScopedClients

        role_arn = self.settings.tenant_access_role_arn
        if not role_arn:
            raise ValueError(
                "BACKEND=dynamodb needs TENANT_ACCESS_ROLE_ARN: tenant items are reached with "
                "credentials scoped to the tenant, never with the function's own role"
            )
        return StsTenantScopedClients(
            self.aws,
            role_arn=role_arn,
            sts_region=self.settings.region,
            region_map=self.settings.region_map,
        )

    @cached_property
    def fauna_databases(self) -> FaunaTenantDatabases:
        from order_service.adapters.fauna_databases import FaunaTenantDatabases

        return FaunaTenantDatabases(
            secret=self._fauna_secret(),
            endpoint=self.settings.fauna_endpoint,
            child_db_pattern=self.settings.fauna_child_db_pattern,
        )

    def _fauna_secret(self) -> str:
        if self.settings.fauna_secret:
            return self.settings.fauna_secret
        if not self.settings.fauna_secret_name:
            raise ValueError("BACKEND=fauna needs FAUNA_SECRET or FAUNA_SECRET_NAME")
        secrets = self.aws.client("secretsmanager", self.settings.region)
        value = str(
            secrets.get_secret_value(SecretId=self.settings.fauna_secret_name)["SecretString"]
        )
        # Either the key itself or {"secret": key} (the form the provisioner writes).
        return str(json.loads(value)["secret"]) if value.lstrip().startswith("{") else value

    # -- ports -----------------------------------------------------------------------------

    @cached_property
    def order_repository(self) -> OrderRepository:
        match self.settings.backend:
            case "memory":
                from order_service.adapters.memory_order_repository import MemoryOrderRepository

                return MemoryOrderRepository(self.memory_store)
            case "dynamodb":
                from order_service.adapters.dynamodb_order_repository import (
                    DynamoDBOrderRepository,
                )

                return DynamoDBOrderRepository(self.tables)
            case "fauna":
                from order_service.adapters.fauna_order_repository import FaunaOrderRepository

                return FaunaOrderRepository(self.fauna_databases)

    @cached_property
    def unit_of_work(self) -> UnitOfWorkFactory:
        match self.settings.backend:
            case "memory":
                from order_service.adapters.memory_unit_of_work import MemoryUnitOfWorkFactory

                return MemoryUnitOfWorkFactory(self.memory_store)
            case "dynamodb":
                from order_service.adapters.dynamodb_unit_of_work import (
                    DynamoDBUnitOfWorkFactory,
                )

                return DynamoDBUnitOfWorkFactory(self.tables)
            case "fauna":
                from order_service.adapters.fauna_unit_of_work import FaunaUnitOfWorkFactory

                return FaunaUnitOfWorkFactory(self.fauna_databases)

    @cached_property
    def outbox_source(self) -> OutboxSource | None:
        """Only a store without a change stream is polled (Fauna); DynamoDB's stream drives the
        outbox relay's handler instead."""
        if self.settings.backend != "fauna":
            return None
        from order_service.adapters.fauna_outbox_source import FaunaOutboxSource

        return FaunaOutboxSource(self.fauna_databases)

    @cached_property
    def event_publisher(self) -> EventPublisher:
        from order_service.adapters.eventbridge_event_publisher import EventBridgeEventPublisher

        # The relay publishes to the bus of its own region: the outbox table's region.
        client = self.aws.client("events", self.settings.region)
        return EventBridgeEventPublisher(client, self.settings.event_bus_name)

    # -- use cases -------------------------------------------------------------------------

    @cached_property
    def orders(self) -> Orders:
        return Orders(self.order_repository, self.unit_of_work)

    @cached_property
    def reactions(self) -> Reactions:
        return Reactions(self.order_repository, self.unit_of_work)

    @cached_property
    def outbox_relay(self) -> OutboxRelay:
        return OutboxRelay(self.event_publisher, self.outbox_source)


_container: Container | None = None
_lock = threading.Lock()


def container() -> Container:
    """The process-wide container (built on first use, reused by warm invocations)."""
    global _container
    if _container is None:
        with _lock:
            if _container is None:
                _container = Container()
    return _container


def use_container(replacement: Container | None) -> None:
    """Tests: install `replacement` as the process-wide container, or drop it (None)."""
    global _container
    with _lock:
        _container = replacement
