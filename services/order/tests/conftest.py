from __future__ import annotations

import sys
from pathlib import Path

import pytest

# The helpers beside this file (order_testkit) import as a module of their own.
sys.path.insert(0, str(Path(__file__).parent))

from order_testkit import tenant

from tenant_context import TenantContext


@pytest.fixture
def acme() -> TenantContext:
    return tenant("t-acme")


@pytest.fixture
def globex() -> TenantContext:
    return tenant("t-globex")
