"""Every test gets a fresh in-memory Container, and the environment a template would give."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

# The service name is set by each test that needs it (tests of every service share one process
# in `make test`: a name set here would become the next service's).
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
