"""What the tenant lifecycle asks of API Gateway: per-tenant usage keys in the tier's usage
plans, and flushing the authorizer caches of the APIs' stages when a tenant's access changes."""

from __future__ import annotations

from typing import Protocol

# Per-tenant keys are named (and valued) saas-tenant-<tenant id>.
TENANT_KEY_PREFIX = "saas-tenant-"


class UsageKeyLimitReached(Exception):
    """The account holds as many API keys as it may (10,000 per region, not raisable)."""


class UsagePlans(Protocol):
    def tenant_key_count(self) -> int:
        """How many per-tenant keys exist (named `saas-tenant-*`)."""
        ...

    def put_key(self, name: str, tier: str) -> str:
        """Create (or find) the key `name` (its value derived from the name) and make it a
        member of every usage plan of `tier` and of no other tier's plans; returns its value.
        UsageKeyLimitReached when the account can hold no more keys."""
        ...

    def delete_key(self, name: str) -> None:
        """Delete the key `name` (nothing when it does not exist)."""
        ...


class AuthorizerCaches(Protocol):
    def flush(self) -> int:
        """Flush the authorizer cache of every stage of every API; returns how many stages."""
        ...
