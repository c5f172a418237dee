"""Reading a record of the tenant table's stream as Lambda delivers it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from provisioner.domain.changes import TenantChange


class StreamRecords(Protocol):
    def tenant_id_of(self, record: Mapping[str, Any]) -> str | None:
        """The record's key, readable even when its images are not (None when it has none)."""
        ...

    def change_of(self, record: Mapping[str, Any]) -> TenantChange:
        """The change the record describes; InvalidTenantRecord says why it is not a tenant."""
        ...
