"""The composition root (docs/conventions.md): Settings, the Container, container().

Each dependency is a cached property typed with its port, built on first use and reused by
warm invocations; adapters are imported inside the property that builds them."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Mapping
from functools import cached_property
from importlib import resources
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict

from metering_service.app.usage import Metering
from metering_service.domain.cost import Prices
from metering_service.ports.tenant_directory import TenantDirectory
from metering_service.ports.usage_store import UsageStore

if TYPE_CHECKING:
    from metering_service.adapters.aws_clients import AwsClients
    from metering_service.ports.tenant_scoped_clients import TenantScopedClients


class Settings(BaseModel):
    """The function's environment (the template's variables), read once."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    BACKEND: Literal["memory", "dynamodb"] = "dynamodb"
    USAGE_TABLE_NAME: str = "saas-usage"
    TENANT_TABLE_NAME: str = "saas-tenants"
    AWS_REGION: str = "us-east-1"
    AWS_ENDPOINT_URL: str | None = None
    # Set on the tenant-serving function alone (TenantScopedApiFunction, GET
    # /tenants/{id}/usage): a tenant's usage rows and directory record are read as this role, in
    # a session tagged with that tenant; its own role has no DynamoDB permission.
    TENANT_ACCESS_ROLE_ARN: str | None = None

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        return cls.model_validate({name: env[name] for name in cls.model_fields if name in env})


def price_table() -> Prices:
    """The prices of prices.json, beside this module (its sources and date are in it)."""
    text = resources.files("metering_service").joinpath("prices.json").read_text("utf-8")
    return Prices.from_table(json.loads(text))


class Container:
    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings if settings is not None else Settings.from_environ()

    @cached_property
    def usage_store(self) -> UsageStore:
        if self.settings.BACKEND == "memory":
            from metering_service.adapters.memory_usage_store import MemoryUsageStore

            return MemoryUsageStore()
        from metering_service.adapters.dynamodb_usage_store import DynamoDBUsageStore

        return DynamoDBUsageStore(
            self.aws.client("dynamodb"), self.settings.USAGE_TABLE_NAME, scoped=self._scoped
        )

    @cached_property
    def tenant_directory(self) -> TenantDirectory:
        if self.settings.BACKEND == "memory":
            from metering_service.adapters.memory_tenant_directory import MemoryTenantDirectory

            return MemoryTenantDirectory()
        from metering_service.adapters.dynamodb_tenant_directory import DynamoDBTenantDirectory

        return DynamoDBTenantDirectory(
            self.aws.client("dynamodb"), self.settings.TENANT_TABLE_NAME, scoped=self._scoped
        )

    @cached_property
    def aws(self) -> AwsClients:
        from metering_service.adapters.aws_clients import AwsClients

        return AwsClients(self.settings.AWS_REGION, self.settings.AWS_ENDPOINT_URL)

    @cached_property
    def tenant_clients(self) -> TenantScopedClients:
        """DynamoDB clients scoped to one tenant each (the tenant-serving function)."""
        from metering_service.adapters.sts_tenant_scoped_clients import StsTenantScopedClients

        role_arn = self.settings.TENANT_ACCESS_ROLE_ARN
        if not role_arn:
            raise ValueError(
                "scoped clients need TENANT_ACCESS_ROLE_ARN: the tenant-access role whose "
                "sessions reach one tenant's usage"
            )
        return StsTenantScopedClients(self.aws, role_arn=role_arn, region=self.settings.AWS_REGION)

    @property
    def _scoped(self) -> TenantScopedClients | None:
        """The tenant-serving function's scoped clients; None for the control plane."""
        return self.tenant_clients if self.settings.TENANT_ACCESS_ROLE_ARN else None

    @cached_property
    def metering(self) -> Metering:
        return Metering(self.usage_store, price_table(), self.tenant_directory)


_lock = threading.Lock()
_container: Container | None = None


def container() -> Container:
    """The process-wide Container, built on first use."""
    global _container
    with _lock:
        if _container is None:
            _container = Container()
        return _container


def use_container(replacement: Container | None) -> None:
    """Tests: install a Container, or with None drop the current one."""
    global _container
    with _lock:
        _container = replacement
