"""Composition root: the only module that chooses adapters. Configuration enters here, once."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Mapping
from typing import Any, Literal

from dependency_injector import containers, providers
from pydantic import BaseModel, ConfigDict, Field, field_validator

from product_service.app.catalogue import Catalogue
from product_service.app.outbox_relay import OutboxRelay
from product_service.app.stock import StockKeeper

PRODUCER = "saas.product"
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

    @field_validator("fauna_secret", "fauna_secret_name", "fauna_endpoint", "aws_endpoint_url")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        return value or None

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> Settings:
        return cls.model_validate(dict(os.environ if environ is None else environ))


# Adapters are imported where they are built: a handler pays only for the backend it uses.
def _regional_clients(settings: Settings) -> Any:
    from product_service.adapters.aws_regional_clients import RegionalClients

    return RegionalClients(settings.region_map, settings.aws_endpoint_url)


def _memory_store() -> Any:
    from product_service.adapters.memory_product_store import MemoryProductStore

    return MemoryProductStore()


def _dynamodb_store(settings: Settings, clients: Any) -> Any:
    from product_service.adapters.dynamodb_product_store import DynamoDBProductStore

    return DynamoDBProductStore(
        clients,
        pooled_table=settings.products_table,
        premium_table_pattern=settings.premium_table_pattern,
    )


def _fauna_store(settings: Settings, clients: Any) -> Any:
    from product_service.adapters.fauna_product_store import FaunaProductStore

    secret = settings.fauna_secret
    if not secret and settings.fauna_secret_name:
        secrets = clients.client("secretsmanager", settings.region)
        secret = secrets.get_secret_value(SecretId=settings.fauna_secret_name)["SecretString"]
    if not secret:
        raise ValueError("BACKEND=fauna needs FAUNA_SECRET or FAUNA_SECRET_NAME")
    return FaunaProductStore(
        secret=secret,
        endpoint=settings.fauna_endpoint,
        child_db_pattern=settings.fauna_child_db_pattern,
    )


def _event_publisher(settings: Settings, clients: Any) -> Any:
    from product_service.adapters.eventbridge_event_publisher import EventBridgeEventPublisher

    # The relay publishes to the bus of its own region: the outbox table's region.
    return EventBridgeEventPublisher(
        clients.client("events", settings.region), bus_name=settings.event_bus_name
    )


# Thread-safe singletons: the local platform may run one process's handler on several threads.
class Container(containers.DeclarativeContainer):
    settings = providers.ThreadSafeSingleton(Settings.from_environ)
    regional_clients = providers.ThreadSafeSingleton(_regional_clients, settings)
    store = providers.Selector(
        providers.Callable(lambda s: s.backend, settings),
        memory=providers.ThreadSafeSingleton(_memory_store),
        dynamodb=providers.ThreadSafeSingleton(_dynamodb_store, settings, regional_clients),
        fauna=providers.ThreadSafeSingleton(_fauna_store, settings, regional_clients),
    )
    event_publisher = providers.ThreadSafeSingleton(_event_publisher, settings, regional_clients)
    # For stores polled rather than streamed (Fauna; the memory fake): see outbox_poller.py.
    outbox_relay = providers.Factory(OutboxRelay, store, event_publisher)
    catalogue = providers.Factory(Catalogue, store)
    stock_keeper = providers.Factory(StockKeeper, store)


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
