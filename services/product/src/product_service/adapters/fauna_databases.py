"""The tenants' Fauna child databases, as the product adapters reach them.

Each tenant has its own child database; a query reaches it only through a scoped key
`<secret>:<child db>:<role>` (role `server`, which may manage collections), so it can never see
another tenant. The first query to a child database in this process applies the service's
schema (fauna_schema.APPLY: creates only what is missing), and the database is remembered as
ready for every later query of the warm container."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

from product_service.adapters import fauna_schema
from product_service.domain.errors import ConcurrentChange
from tenant_context import TenantContext
from tenant_context.metering import add_fauna_stats

CHILD_DATABASES = "Database.all().toArray() { name }"


class Aborted(Exception):
    """The query called abort(): nothing it did is kept. `value` is what it aborted with."""

    def __init__(self, value: Any) -> None:
        super().__init__(str(value))
        self.value = value


class FaunaDatabases:
    def __init__(
        self,
        *,
        secret: str,
        endpoint: str | None = None,
        child_db_pattern: str = "tenant_{tenant_id}",
        role: str = "server",
        http_client: Any = None,
        ready: Iterable[str] = (),
    ) -> None:
        """`ready`: child databases known to carry the schema already (tests)."""
        self._secret = secret
        self._endpoint = endpoint
        self._child_db_pattern = child_db_pattern
        self._role = role
        self._http_client = http_client
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._ready: set[str] = set(ready)
        self._schema_lock = threading.Lock()

    def child_database(self, tenant: TenantContext) -> str:
        # The provisioner creates it under the same pattern (FAUNA_CHILD_DB_PATTERN).
        return self._child_db_pattern.format(tenant_id=tenant.tenant_id)

    def scoped_secret(self, tenant: TenantContext) -> str:
        return f"{self._secret}:{self.child_database(tenant)}:{self._role}"

    def is_tenant_database(self, name: str) -> bool:
        return name.startswith(self._child_db_pattern.split("{", 1)[0])

    def children(self) -> list[str]:
        """Every tenant's child database (listed with the parent key), sorted."""
        rows = self._run(None, CHILD_DATABASES)
        return sorted(row["name"] for row in rows if self.is_tenant_database(row["name"]))

    def query(self, tenant: TenantContext, text: str, **arguments: Any) -> Any:
        return self.query_child(self.child_database(tenant), text, **arguments)

    def query_child(self, child: str, text: str, **arguments: Any) -> Any:
        self.ensure_schema(child)
        return self._run(child, text, **arguments)

    def ensure_schema(self, child: str) -> None:
        """Apply the schema to the child database once per process (idempotent in Fauna too:
        another process doing the same at the same time creates nothing twice)."""
        if child in self._ready:
            return
        with self._schema_lock:
            if child in self._ready:
                return
            self._run(child, fauna_schema.APPLY, collections=list(fauna_schema.COLLECTIONS))
            self._ready.add(child)

    def _client(self, child: str | None) -> Any:
        """The client of one child database (scoped key), or of the parent (None)."""
        key = child or ""
        client = self._clients.get(key)
        if client is None:
            with self._lock:
                client = self._clients.get(key)
                if client is None:
                    from fauna.client import Client

                    secret = f"{self._secret}:{child}:{self._role}" if child else self._secret
                    client = Client(
                        endpoint=self._endpoint, secret=secret, http_client=self._http_client
                    )
                    self._clients[key] = client
        return client

    def _run(self, child: str | None, text: str, **arguments: Any) -> Any:
        from fauna import fql
        from fauna.errors import AbortError, ContendedTransactionError

        try:
            answer = self._client(child).query(fql(text, **arguments))
            add_fauna_stats(answer.stats)  # the tenant's compute and I/O ops (metering)
            return answer.data
        except AbortError as exc:
            raise Aborted(exc.abort) from None
        except ContendedTransactionError as exc:
            raise ConcurrentChange(f"contended transaction: {exc}") from None
