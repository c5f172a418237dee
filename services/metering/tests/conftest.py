"""Every test gets a fresh in-memory Container, and the environment a template would give."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "metering")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "saas")
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")

from metering_service.container import Container, Settings, use_container


@pytest.fixture(autouse=True)
def fresh_container() -> Iterator[Container]:
    built = Container(Settings(BACKEND="memory"))
    use_container(built)
    yield built
    use_container(None)
