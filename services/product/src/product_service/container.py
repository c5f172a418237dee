"""Composition root: the only module that chooses adapters. Configuration enters here, once.

`Settings` is the function's environment; `Container` builds each dependency on first use
(a cached property typed with its port) and keeps it for the warm invocations; `container()` is
the process-wide one. Adapters are imported inside the property that builds them, so a handler
pays at cold start only for what it uses (docs/conventions.md, "The composition root")."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Mapping
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from product_service.app.catalogue import Catalogue
from product_service.app.outbox_relay import OutboxRelay
from product_service.app.stock import StockKeeper

if TYPE_CHECKING:
    from product_service.adapters.aws_clients import AwsClients
    from product_service.adapters.dynamodb_product_store import DynamoDBProductStore
    from product_service.adapters.fauna_databases import FaunaDatabases
    from product_service.adapters.fauna_product_store import FaunaProductStore
    from product_service.adapters.memory_product_store import MemoryProductStore
    from product_service.ports.event_publisher import EventPublisher
    from product_service.ports.outbox_source import OutboxSource
    from product_service.ports.product_store import ProductStore
    from product_service.ports.tenant_scoped_clients import TenantScopedClients
    from product_service.ports.unit_of_work import UnitOfWorkFactory

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
    products_table: str = Field("saas-products", alias="PRODUCTS_TABLE")
    # The role whose sessions, tagged with one tenant id, reach that tenant's items alone.
    tenant_access_role_arn: str | None = Field(None, alias="TENANT_ACCESS_ROLE_ARN")
    premium_table_pattern: str = Field("tenant-{tenant_id}-products", alias="PREMIUM_TABLE_PATTERN")
    fauna_endpoint: str | None = Field(None, alias="FAUNA_ENDPOINT")
    fauna_secret: str | None = Field(None, alias="FAUNA_SECRET")
    # In AWS the parent key stays in Secrets Manager; FAUNA_SECRET is for local runs and tests.
    fauna_secret_name: str | None = Field(None, alias="FAUNA_SECRET_NAME")
    fauna_child_db_pattern: str = Field("tenant_{tenant_id}", alias="FAUNA_CHILD_DB_PATTERN")

    @field_validator("region_map", mode="before")
    @classmethod
    def _json_map(cls, value: Any) -> Any:
        return json.loads(value) if isinstance(value, str) else value

    @field_validator(
        "fauna_secret",
        "fauna_secret_name",
        "fauna_endpoint",
        "aws_endpoint_url",
        "tenant_access_role_arn",
    )
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        return value or None

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> Settings:
        return cls.model_validate(dict(os.environ if environ is None else environ))


class Container:
    """Every dependency of the service's handlers, each built once on first use. Tests swap one
    by assigning it before first use: `c.event_publisher = MemoryEventPublisher()`."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings if settings is not None else Settings.from_environ()

    @cached_property
    def aws(self) -> AwsClients:
        from product_service.adapters.aws_clients import AwsClients

        return AwsClients(self.settings.region_map, self.settings.aws_endpoint_url)

    @cached_property
    def fauna(self) -> FaunaDatabases:
        from product_service.adapters.fauna_databases import FaunaDatabases

        secret = self.settings.fauna_secret
        if not secret and self.settings.fauna_secret_name:
            secrets = self.aws.client("secretsmanager", self.settings.region)
            response = secrets.get_secret_value(SecretId=self.settings.fauna_secret_name)
            secret = str(response["SecretString"])
        if not secret:
            raise ValueError("BACKEND=fauna needs FAUNA_SECRET or FAUNA_SECRET_NAME")
        return FaunaDatabases(
            secret=secret,
            endpoint=self.settings.fauna_endpoint,
            child_db_pattern=self.settings.fauna_child_db_pattern,
        )

    @cached_property
    def tenant_clients(self) -> TenantScopedClients:
        """DynamoDB clients scoped to one tenant each: the function's own role reaches no
        tenant item (README, "Tenant isolation")."""
        from product_service.adapters.sts_tenant_scoped_clients import StsTenantScopedClients

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

    # -- the backend's store: reads (ProductStore) and, for a polled outbox, OutboxSource ----
    @cached_property
    def memory_store(self) -> MemoryProductStore:
        from product_service.adapters.memory_product_store import MemoryProductStore

        return MemoryProductStore()

    @cached_property
    def dynamodb_store(self) -> DynamoDBProductStore:
        from product_service.adapters.dynamodb_product_store import DynamoDBProductStore

        return DynamoDBProductStore(
            self.tenant_clients,
            pooled_table=self.settings.products_table,
            premium_table_pattern=self.settings.premium_table_pattern,
        )

    @cached_property
    def fauna_store(self) -> FaunaProductStore:
        from product_service.adapters.fauna_product_store import FaunaProductStore

        return FaunaProductStore(self.fauna)

    @cached_property
    def store(self) -> ProductStore:
        backend = self.settings.backend
        if backend == "memory":
            return self.memory_store
        if backend == "fauna":
            return self.fauna_store
        return self.dynamodb_store

    @cached_property
    def unit_of_work(self) -> UnitOfWorkFactory:
        backend = self.settings.backend
        if backend == "memory":
            from product_service.adapters.memory_unit_of_work import MemoryUnitOfWorkFactory

            return MemoryUnitOfWorkFactory(self.memory_store)
        if backend == "fauna":
            from product_service.adapters.fauna_unit_of_work import FaunaUnitOfWorkFactory

            return FaunaUnitOfWorkFactory(self.fauna_store)
        from product_service.adapters.dynamodb_unit_of_work import DynamoDBUnitOfWorkFactory

        return DynamoDBUnitOfWorkFactory(self.dynamodb_store)

    @cached_property
    def event_publisher(self) -> EventPublisher:
        from product_service.adapters.eventbridge_event_publisher import (
            EventBridgeEventPublisher,
        )

        # The outbox relay publishes to the bus of its own region: the outbox table's region.
        return EventBridgeEventPublisher(
            self.aws.client("events", self.settings.region), bus_name=self.settings.event_bus_name
        )

    @cached_property
    def outbox_source(self) -> OutboxSource:
        if self.settings.backend == "dynamodb":
            raise ValueError(
                "BACKEND=dynamodb has no polled outbox: its table's stream feeds "
                "entrypoints/outbox_relay.py"
            )
        if self.settings.backend == "memory":
            return self.memory_store
        return self.fauna_store

    @cached_property
    def outbox_relay(self) -> OutboxRelay:
        return OutboxRelay(self.event_publisher, self.outbox_source)

    @cached_property
    def stream_outbox_relay(self) -> OutboxRelay:
        """The outbox relay on the table's stream: it publishes what it is given, polls nothing."""
        return OutboxRelay(self.event_publisher)

    @cached_property
    def catalogue(self) -> Catalogue:
        return Catalogue(self.store, self.unit_of_work)

    @cached_property
    def stock_keeper(self) -> StockKeeper:
        return StockKeeper(self.store, self.unit_of_work)


_container: Container | None = None
_container_lock = threading.Lock()


def container() -> Container:
    """The process-wide container (built on first use, reused by warm invocations)."""
    global _container
    if _container is None:
        with _container_lock:
            if _container is None:
                _container = Container()
    return _container


def use_container(replacement: Container | None) -> None:
    """Install `replacement` as the process-wide container (tests); None drops the current one,
    so the next `container()` builds a fresh one from the environment."""
    global _container
    with _container_lock:
        _container = replacement
