"""The tenant's child database on Fauna, reached only through a key scoped to it.

`<secret>:<child db>:<role>` is a key that sees the child database alone, so a query the order
service sends for one tenant can never read or write another's. One driver client per tenant,
built on first use and reused by warm invocations."""

from __future__ import annotations

import threading
from typing import Any

from tenant_context import TenantContext


class FaunaTenantDatabases:
    def __init__(
        self,
        *,
        secret: str,
        endpoint: str | None = None,
        child_db_pattern: str = "tenant_{tenant_id}",
        role: str = "server",
        http_client: Any = None,
    ) -> None:
        self._secret = secret
        self._endpoint = endpoint
        self._pattern = child_db_pattern
        self._role = role
        self._http_client = http_client
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()

    def database_name(self, ctx: TenantContext) -> str:
        return self._pattern.format(tenant_id=ctx.tenant_id)

    def scoped_secret(self, ctx: TenantContext) -> str:
        return f"{self._secret}:{self.database_name(ctx)}:{self._role}"

    def child_prefix(self) -> str:
        """What every tenant's database name starts with (the pattern up to its tenant id)."""
        return self._pattern.split("{", 1)[0]

    def client(self, ctx: TenantContext) -> Any:
        return self._client(self.database_name(ctx))

    def _client(self, database: str | None) -> Any:
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
        from fauna import fql
        from fauna.errors import AbortError

        try:
            return self._client(database).query(fql(text, **arguments)).data
        except AbortError as exc:
            raise FaunaAborted(str(exc.abort)) from None


class FaunaAborted(Exception):
    """The query called abort(reason): nothing it wrote is committed."""
