"""The tenant's child database on Fauna, reached only through a key scoped to it.

`<secret>:<child db>:<role>` is a key that sees the child database alone, so a query the order
service sends for one tenant can never read or write another's. One driver client per database,
built on first use and reused by warm invocations; the first use of a child database also
applies the order service's schema to it (fauna_schema.ENSURE), once per warm container."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from order_service.adapters.fauna_schema import COLLECTIONS, ENSURE
from tenant_context import TenantContext
from tenant_context.metering import add_fauna_stats

if TYPE_CHECKING:
    from fauna.client import Client
    from fauna.http import HTTPClient


class FaunaTenantDatabases:
    def __init__(
        self,
        *,
        secret: str,
        endpoint: str | None = None,
        child_db_pattern: str = "tenant_{tenant_id}",
        role: str = "server",
        http_client: HTTPClient | None = None,
    ) -> None:
        self._secret = secret
        self._endpoint = endpoint
        self._pattern = child_db_pattern
        self._role = role
        self._http_client = http_client
        self._clients: dict[str, Client] = {}
        self._lock = threading.Lock()
        # The child databases this container has applied the schema to.
        self._schema_applied: set[str] = set()
        self._schema_lock = threading.Lock()

    def database_name(self, ctx: TenantContext) -> str:
        return self._pattern.format(tenant_id=ctx.tenant_id)

    def scoped_secret(self, ctx: TenantContext) -> str:
        return f"{self._secret}:{self.database_name(ctx)}:{self._role}"

    def child_prefix(self) -> str:
        """What every tenant's database name starts with (the pattern up to its tenant id)."""
        return self._pattern.split("{", 1)[0]

    def _client(self, database: str | None) -> Client:
        """The client of one child database (scoped key), or of the parent database (None)."""
        key = database or ""
        with self._lock:
            client = self._clients.get(key)
            if client is None:
                from fauna.client import Client  # heavy: only on the Fauna backend

                secret = f"{self._secret}:{database}:{self._role}" if database else self._secret
                client = Client(
                    endpoint=self._endpoint, secret=secret, http_client=self._http_client
                )
                self._clients[key] = client
            return client

    def query(self, ctx: TenantContext, text: str, **arguments: Any) -> Any:
        """Run one FQL query (one transaction); abort(...) surfaces as FaunaAborted."""
        return self.query_database(self.database_name(ctx), text, **arguments)

    def query_database(self, database: str | None, text: str, **arguments: Any) -> Any:
        """One query in a child database named outright, or in the parent database (None):
        for the outbox poller, which serves every tenant and so has no tenant context."""
        if database is not None and database not in self._schema_applied:
            self._apply_schema(database)
        return self._run(database, text, **arguments)

    def _apply_schema(self, database: str) -> None:
        with self._schema_lock:
            if database not in self._schema_applied:
                self._run(database, ENSURE, collections=list(COLLECTIONS))
                self._schema_applied.add(database)

    def _run(self, database: str | None, text: str, **arguments: Any) -> Any:
        from fauna import fql
        from fauna.errors import AbortError, QueryRuntimeError

        try:
            answer = self._client(database).query(fql(text, **arguments))
            add_fauna_stats(answer.stats)  # the tenant's compute and I/O ops (metering)
            return answer.data
        except AbortError as exc:
            raise FaunaAborted(str(exc.abort)) from None
        except QueryRuntimeError as exc:
            # A unique constraint refused a write a concurrent transaction made first.
            if exc.code == "constraint_failure":
                raise FaunaAborted("conflict") from None
            raise


class FaunaAborted(Exception):
    """The query called abort(reason), or a constraint refused it: nothing it wrote is
    committed."""
