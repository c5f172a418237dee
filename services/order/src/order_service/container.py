"""Composition root: the only module that chooses adapters. Configuration enters here, once."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any, Literal

from dependency_injector import containers, providers
from pydantic import BaseModel, ConfigDict, Field, field_validator

from order_service.app.orders import Orders
from order_service.app.outbox_relay import OutboxRelay
from order_service.app.reactions import Reactions
from order_service.app.relay import Relay

PRODUCER = "saas.order"
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
    fauna_endpoint: str | None = Field(None, alias="FAUNA_ENDPOINT")
    fauna_secret: str | None = Field(None, alias="FAUNA_SECRET")
    # Where the parent database's key is kept when FAUNA_SECRET is not given (Secrets Manager).
    fauna_secret_name: str | None = Field(None, alias="FAUNA_SECRET_NAME")
    fauna_child_db_pattern: str = Field("tenant_{tenant_id}", alias="FAUNA_CHILD_DB_PATTERN")

    @field_validator("region_map", mode="before")
    @classmethod
    def _json_map(cls, value: Any) -> Any:
        return json.loads(value) if isinstance(value, str) else value

    @field_validator("aws_endpoint_url", "fauna_endpoint", "fauna_secret", "fauna_secret_name")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        return value or None

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> Settings:
        return cls.model_validate(dict(os.environ if environ is None else environ))


# Adapters are imported where they are built: a handler pays only for the backend it uses.
def _memory_store() -> Any:
    from order_service.adapters.memory_order_repository import MemoryStore

    return MemoryStore()


def _memory_repository(store: Any) -> Any:
    from order_service.adapters.memory_order_repository import MemoryOrderRepository

    return MemoryOrderRepository(store)


def _memory_catalogue(store: Any) -> Any:
    from order_service.adapters.memory_product_catalogue import MemoryProductCatalogue

    return MemoryProductCatalogue(store)


def _tables(settings: Settings) -> Any:
    from order_service.adapters.dynamodb_tables import RegionalTables, boto3_client_factory

    return RegionalTables(
        pooled_table=settings.orders_table,
        region_map=settings.region_map,
        client_factory=boto3_client_factory("dynamodb", settings.aws_endpoint_url),
    )


def _dynamodb_repository(tables: Any) -> Any:
    from order_service.adapters.dynamodb_order_repository import DynamoDBOrderRepository

    return DynamoDBOrderRepository(tables)


def _dynamodb_catalogue(tables: Any) -> Any:
    from order_service.adapters.dynamodb_product_catalogue import DynamoDBProductCatalogue

    return DynamoDBProductCatalogue(tables)


def _fauna_secret(settings: Settings) -> str:
    if settings.fauna_secret:
        return settings.fauna_secret
    if not settings.fauna_secret_name:
        raise ValueError("BACKEND=fauna needs FAUNA_SECRET or FAUNA_SECRET_NAME")
    from order_service.adapters.dynamodb_tables import boto3_client_factory

    secrets = boto3_client_factory("secretsmanager", settings.aws_endpoint_url)(settings.region)
    value = secrets.get_secret_value(SecretId=settings.fauna_secret_name)["SecretString"]
    # Either the key itself or {"secret": key} (the form the provisioner writes).
    return str(json.loads(value)["secret"]) if value.lstrip().startswith("{") else value


def _fauna_databases(settings: Settings) -> Any:
    from order_service.adapters.fauna_databases import FaunaTenantDatabases

    return FaunaTenantDatabases(
        secret=_fauna_secret(settings),
        endpoint=settings.fauna_endpoint,
        child_db_pattern=settings.fauna_child_db_pattern,
    )


def _fauna_repository(databases: Any) -> Any:
    from order_service.adapters.fauna_order_repository import FaunaOrderRepository

    return FaunaOrderRepository(databases)


def _fauna_catalogue(databases: Any) -> Any:
    from order_service.adapters.fauna_product_catalogue import FaunaProductCatalogue

    return FaunaProductCatalogue(databases)


def _fauna_outbox_source(databases: Any) -> Any:
    from order_service.adapters.fauna_outbox_source import FaunaOutboxSource

    return FaunaOutboxSource(databases)


def _event_publisher(settings: Settings) -> Any:
    from order_service.adapters.dynamodb_tables import boto3_client_factory
    from order_service.adapters.eventbridge_event_publisher import EventBridgeEventPublisher

    # The relay publishes to the bus of its own region: the outbox table's region.
    client = boto3_client_factory("events", settings.aws_endpoint_url)(settings.region)
    return EventBridgeEventPublisher(client, settings.event_bus_name)


class Container(containers.DeclarativeContainer):
    settings = providers.Singleton(Settings.from_environ)
    backend = providers.Callable(lambda s: s.backend, settings)

    memory_store = providers.Singleton(_memory_store)
    tables = providers.Singleton(_tables, settings)
    fauna_databases = providers.Singleton(_fauna_databases, settings)

    repository = providers.Selector(
        backend,
        memory=providers.Singleton(_memory_repository, memory_store),
        dynamodb=providers.Singleton(_dynamodb_repository, tables),
        fauna=providers.Singleton(_fauna_repository, fauna_databases),
    )
    catalogue = providers.Selector(
        backend,
        memory=providers.Singleton(_memory_catalogue, memory_store),
        dynamodb=providers.Singleton(_dynamodb_catalogue, tables),
        fauna=providers.Singleton(_fauna_catalogue, fauna_databases),
    )
    # Only a store without a change stream is polled (Fauna); DynamoDB's stream drives relay.py.
    outbox_source = providers.Selector(
        backend,
        fauna=providers.Singleton(_fauna_outbox_source, fauna_databases),
    )
    event_publisher = providers.Singleton(_event_publisher, settings)

    orders = providers.Factory(Orders, repository, catalogue)
    reactions = providers.Factory(Reactions, repository, catalogue)
    relay = providers.Factory(Relay, event_publisher)
    # The Fauna backend's relay (entrypoints/outbox_poller.py, on a schedule).
    outbox_relay = providers.Factory(OutboxRelay, outbox_source, event_publisher)


_container: Container | None = None


def container() -> Container:
    """The process-wide container (built on first use, reused by warm invocations)."""
    global _container
    if _container is None:
        _container = Container()
    return _container
