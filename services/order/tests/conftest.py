from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

# The helpers beside this file (order_testkit) import as a module of their own.
sys.path.insert(0, str(Path(__file__).parent))
# Powertools in tests: no X-Ray daemon; the names the template gives every function (the
# handlers read them from the environment); boto3 has a default region.
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "1")
os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "order")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "saas")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")

from order_testkit import LambdaContextStub, tenant

from order_service.container import Container, Settings, use_container
from tenant_context import TenantContext


@pytest.fixture
def acme() -> TenantContext:
    return tenant("t-acme")


@pytest.fixture
def globex() -> TenantContext:
    return tenant("t-globex")


@pytest.fixture
def memory_container():
    """A fresh container on the memory backend, installed as the process container."""
    c = Container(Settings(BACKEND="memory"))
    use_container(c)
    yield c
    use_container(None)


@pytest.fixture
def lambda_context():
    return LambdaContextStub()
