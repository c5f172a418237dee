"""Tenant enrichment for Powertools' Logger and Metrics, duck-typed so this package imports
neither: every log line carries tenant_id and correlation_id. And what X-Ray traces."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, Protocol

from tenant_context.context import require_tenant_id
from tenant_context.metering import serve_tenant


class AppendsKeys(Protocol):
    def append_keys(self, **additional_keys: Any) -> None: ...


class AddsMetadata(Protocol):
    def add_metadata(self, key: str, value: Any) -> None: ...


def enrich_logger(logger: AppendsKeys, *, tenant_id: str, correlation_id: str | None) -> None:
    logger.append_keys(tenant_id=require_tenant_id(tenant_id), correlation_id=correlation_id)


def enrich_metrics(metrics: AddsMetadata, *, tenant_id: str) -> None:
    # Metadata, not a dimension: one dimension per tenant would multiply metric cost by tenants.
    metrics.add_metadata(key="tenant_id", value=require_tenant_id(tenant_id))
    serve_tenant(tenant_id)  # the invocation's usage from now on is this tenant's


def traced_modules(environ: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """The libraries Powertools' Tracer patches (its `patch_modules`): the AWS SDK, and the Fauna
    driver's HTTP client (httpx) when BACKEND is fauna. Left to itself the Tracer patches every
    library the X-Ray SDK knows, importing each one that is installed: httpx (there for the
    Fauna driver) and asyncio cost a DynamoDB handler some 30 ms of cold start for nothing."""
    backend = (os.environ if environ is None else environ).get("BACKEND", "")
    return ("botocore", "httpx") if backend.strip().lower() == "fauna" else ("botocore",)
