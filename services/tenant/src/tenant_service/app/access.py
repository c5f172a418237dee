"""A tenant's access at the edge: its usage key (its limits) and how fast a change of its
standing reaches every token.

Usage keys: API Gateway meters a request by the `usageIdentifierKey` the authorizer returns.
Each tenant gets a key of its own (`saas-tenant-<id>`) in its tier's usage plans, up to
`key_bound` keys; past it (or when the account can hold no more: 10,000 keys per region,
a quota AWS does not raise) the tenant shares one of `shards` keys of its tier
(`saas-usage-<tier>-shard-NNN`, chosen by a stable hash of the tenant id), so onboarding never
fails for want of a key.

Revocation: API Gateway caches the authorizer's answer per token (`ReauthorizeEvery`), and each
authorizer container caches a tenant's standing for `tenant_cache_ttl` seconds. On a change of
standing, every API stage's authorizer cache is flushed at once, and again once every
authorizer container's standing of the tenant read before the change has expired (the change's
time + the TTL): after that second flush no token, already used or not, is answered from a
standing older than the change. The container that answered a token before usually learns
sooner: API Gateway asking it again after the first flush makes it re-read the tenant
(app/authorize.py, ReaskedTokens).
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Callable
from datetime import datetime

from tenant_service.ports.api_gateway import (
    TENANT_KEY_PREFIX,
    AuthorizerCaches,
    UsageKeyLimitReached,
    UsagePlans,
)
from tenant_service.ports.clock import Clock


def tenant_key_name(tenant_id: str) -> str:
    return f"{TENANT_KEY_PREFIX}{tenant_id}"


def shard_key_name(tier: str, tenant_id: str, shards: int) -> str:
    shard = zlib.crc32(tenant_id.encode()) % max(shards, 1)
    return f"saas-usage-{tier}-shard-{shard:03d}"


class TenantAccess:
    def __init__(
        self,
        plans: UsagePlans,
        caches: AuthorizerCaches,
        clock: Clock,
        *,
        key_bound: int,
        shards: int,
        tenant_cache_ttl: float,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._plans = plans
        self._caches = caches
        self._clock = clock
        self._key_bound = key_bound
        self._shards = shards
        self._ttl = tenant_cache_ttl
        self._sleep = sleep

    def usage_key(self, tenant_id: str, tier: str, current: str | None = None) -> str:
        """The tenant's usage key, in the plans of `tier`: its own while keys remain under the
        bound (or it already has one), else its tier's shard key."""
        own = tenant_key_name(tenant_id)
        if current == own or self._plans.tenant_key_count() < self._key_bound:
            try:
                return self._plans.put_key(own, tier)
            except UsageKeyLimitReached:
                pass
        return self._plans.put_key(shard_key_name(tier, tenant_id, self._shards), tier)

    def release(self, tenant_id: str) -> None:
        """The tenant is gone: its own key goes (a shard key stays for the others)."""
        self._plans.delete_key(tenant_key_name(tenant_id))

    def revoke(self, changed_at: datetime) -> int:
        """Make a change of standing made at `changed_at` reach every token; returns the number
        of stage flushes."""
        flushed = self._caches.flush()
        # Never more than the TTL, whatever the clocks of the event and of this function say.
        wait = min(self._ttl, changed_at.timestamp() + self._ttl - self._clock.now().timestamp())
        if wait > 0:
            self._sleep(wait)
            flushed += self._caches.flush()
        return flushed
