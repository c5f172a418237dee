"""In-memory UsagePlans and AuthorizerCaches: what the lifecycle asked of API Gateway."""

from __future__ import annotations

from tenant_service.ports.api_gateway import TENANT_KEY_PREFIX, UsageKeyLimitReached


class MemoryUsagePlans:
    def __init__(self, account_key_limit: int = 10_000) -> None:
        self.account_key_limit = account_key_limit
        self.keys: dict[str, str] = {}  # key name -> tier of the plans it is in

    def tenant_key_count(self) -> int:
        return sum(1 for name in self.keys if name.startswith(TENANT_KEY_PREFIX))

    def put_key(self, name: str, tier: str) -> str:
        if name not in self.keys and len(self.keys) >= self.account_key_limit:
            raise UsageKeyLimitReached(f"the account holds {len(self.keys)} API keys")
        self.keys[name] = tier
        return name

    def delete_key(self, name: str) -> None:
        self.keys.pop(name, None)


class MemoryAuthorizerCaches:
    def __init__(self) -> None:
        self.flushes = 0

    def flush(self) -> int:
        self.flushes += 1
        return 1
