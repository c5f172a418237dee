"""Composition root: the only module that chooses adapters. Configuration enters here, once."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Literal

from dependency_injector import containers, providers
from pydantic import BaseModel, ConfigDict, Field

PRODUCER = "saas.order"


class Settings(BaseModel):
    """Environment of the Lambda function, checked at cold start."""

    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="ignore")

    backend: Literal["memory", "dynamodb", "fauna"] = Field("dynamodb", alias="BACKEND")
    region: str = Field("us-east-1", alias="AWS_REGION")
    aws_endpoint_url: str | None = Field(None, alias="AWS_ENDPOINT_URL")
    event_bus_name: str = Field("saas", alias="EVENT_BUS_NAME")

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> Settings:
        return cls.model_validate(dict(os.environ if environ is None else environ))


class Container(containers.DeclarativeContainer):
    settings = providers.Singleton(Settings.from_environ)
