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

    def client(self, ctx: TenantContext) -> Any:
        with self._lock:
            client = self._clients.get(ctx.tenant_id)
            if client is None:
                from fauna.client import Client  # heavy: only on the Fauna backend

                client = Client(
                    endpoint=self._endpoint,
                    secret=self.scoped_secret(ctx),
                    http_client=self._http_client,
                )
                self._clients[ctx.tenant_id] = client
            return client

    def query(self, ctx: TenantContext, text: str, **arguments: Any) -> Any:
        """Run one FQL query (one transaction); abort(...) surfaces as FaunaAborted."""
        from fauna import fql
        from fauna.errors import AbortError

        try:
            return self.client(ctx).query(fql(text, **arguments)).data
        except AbortError as exc:
            raise FaunaAborted(str(exc.abort)) from None


class FaunaAborted(Exception):
    """The query called abort(reason): nothing it wrote is committed."""
