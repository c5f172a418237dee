from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

# The helpers beside this file (order_testkit) import as a module of their own.
sys.path.insert(0, str(Path(__file__).parent))
# Powertools in tests: no X-Ray daemon, metrics namespace set; boto3 has a default region.
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "1")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "saas")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")

from order_testkit import LambdaContextStub, tenant

from order_service.container import Settings, container
from tenant_context import TenantContext


@pytest.fixture
def acme() -> TenantContext:
    return tenant("t-acme")


@pytest.fixture
def globex() -> TenantContext:
    return tenant("t-globex")


@pytest.fixture
def memory_container():
    """The process container on the memory backend, fresh for each test."""
    c = container()
    c.reset_singletons()
    c.settings.override(Settings(BACKEND="memory"))
    yield c
    c.settings.reset_override()
    c.reset_singletons()


@pytest.fixture
def lambda_context():
    return LambdaContextStub()
