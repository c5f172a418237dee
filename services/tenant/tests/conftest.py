from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

# The helpers beside this file (tenant_testkit) import as a module of their own.
sys.path.insert(0, str(Path(__file__).parent))

from tenant_testkit import Wiring


@pytest.fixture
def wiring() -> Wiring:
    return Wiring()


@pytest.fixture
def api(wiring: Wiring, monkeypatch: pytest.MonkeyPatch) -> Any:
    from tenant_service.entrypoints import api as module

    monkeypatch.setattr(module, "container", wiring.container)
    return module
