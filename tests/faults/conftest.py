"""One local platform for the fault-injected invariant tests (the real templates, one region, a
short consumer visibility timeout), and the harness on the path."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from invariants import ROOT


@pytest.fixture(scope="module")
def faulty_platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from saas_local.testing import platform_parameters, start_platform

    log = tmp_path_factory.mktemp("faults") / "functions.log"
    with start_platform(
        ROOT,
        region_map={"us": "us-east-1"},
        parameters=platform_parameters(),
        function_log=log,
    ) as platform:
        platform.function_log = log
        yield platform
