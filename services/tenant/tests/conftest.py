from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# The helpers beside this file (tenant_testkit) import as a module of their own.
sys.path.insert(0, str(Path(__file__).parent))

from tenant_testkit import Wiring

from tenant_service.container import use_container

# What each function's template sets (Powertools reads its names from the environment).
os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "tenant")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "saas")
os.environ.setdefault("AWS_REGION", "us-east-1")


@pytest.fixture
def wiring() -> Iterator[Wiring]:
    """Every adapter in memory, installed as the process-wide container for the test."""
    wired = Wiring()
    use_container(wired.container)
    yield wired
    use_container(None)


@pytest.fixture
def api(wiring: Wiring) -> Any:
    from tenant_service.entrypoints import api as module

    return module
