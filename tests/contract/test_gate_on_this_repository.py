"""The compatibility gate on this repository's own history: what `make test` enforces.

Given every exported event schema in services/*/contracts/events and every consumer's reader,
when each schema is compared with every earlier committed version of the same file, then there
is no breaking change. A shallow clone lacks that history: the test skips and says so.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from saas_devtools.contracts.discovery import find_services
from saas_devtools.contracts.gate import (
    ShallowClone,
    check_history,
    contracts_in,
    ensure_full_history,
    workspace_readers,
)

ROOT = Path(__file__).resolve().parents[2]


def test_no_exported_schema_breaks_an_earlier_version_of_the_same_major() -> None:
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout: the schemas' history is not available")
    try:
        ensure_full_history(ROOT)
    except ShallowClone as exc:
        pytest.skip(f"compatibility gate not run: {exc}")
    contracts = contracts_in(ROOT)

    violations = check_history(ROOT, contracts, workspace_readers(find_services(ROOT)))

    assert [str(v) for v in violations] == []
