"""Usage keys (a key per tenant up to a bound, then a shard key of its tier) and the revocation
that brings every token into line with a change of standing."""

from __future__ import annotations

from datetime import timedelta

from tenant_testkit import FakeClock

from tenant_service.adapters.memory_api_gateway import MemoryAuthorizerCaches, MemoryUsagePlans
from tenant_service.app.access import TenantAccess, shard_key_name, tenant_key_name


def _access(
    plans: MemoryUsagePlans,
    clock: FakeClock | None = None,
    caches: MemoryAuthorizerCaches | None = None,
) -> TenantAccess:
    clock = clock or FakeClock()
    return TenantAccess(
        plans,
        caches or MemoryAuthorizerCaches(),
        clock,
        key_bound=2,
        shards=4,
        tenant_cache_ttl=5,
        sleep=clock.advance,
    )


def test_each_tenant_gets_its_own_key_in_its_tiers_plans_up_to_the_bound() -> None:
    plans = MemoryUsagePlans()
    access = _access(plans)

    first = access.usage_key("t-1", "basic")
    second = access.usage_key("t-2", "premium")

    assert (first, second) == (tenant_key_name("t-1"), tenant_key_name("t-2"))
    assert plans.keys == {first: "basic", second: "premium"}


def test_past_the_bound_a_tenant_shares_a_shard_key_of_its_tier() -> None:
    plans = MemoryUsagePlans()
    access = _access(plans)
    access.usage_key("t-1", "basic")
    access.usage_key("t-2", "basic")

    third = access.usage_key("t-3", "premium")

    assert third == shard_key_name("premium", "t-3", 4)
    assert third.startswith("saas-usage-premium-shard-")
    assert plans.keys[third] == "premium"
    assert tenant_key_name("t-3") not in plans.keys
    assert access.usage_key("t-3", "premium") == third  # stable: the same shard every time


def test_when_the_account_holds_no_more_keys_the_tenant_is_sharded_not_refused() -> None:
    # The bound leaves room for the shard keys; here the rest of the account is full.
    plans = MemoryUsagePlans(account_key_limit=2)
    plans.keys["someone-elses-key"] = "basic"
    plans.keys[shard_key_name("basic", "t-1", 4)] = "basic"

    key = _access(plans).usage_key("t-1", "basic")

    assert key == shard_key_name("basic", "t-1", 4)
    assert tenant_key_name("t-1") not in plans.keys


def test_a_tenant_with_its_own_key_keeps_it_past_the_bound_and_moves_tier() -> None:
    plans = MemoryUsagePlans()
    access = _access(plans)
    own = access.usage_key("t-1", "basic")
    access.usage_key("t-2", "basic")

    moved = access.usage_key("t-1", "premium", current=own)

    assert moved == own
    assert plans.keys[own] == "premium"


def test_offboarding_releases_the_tenants_own_key_only() -> None:
    plans = MemoryUsagePlans()
    access = _access(plans)
    access.usage_key("t-1", "basic")
    access.usage_key("t-2", "basic")
    shard = access.usage_key("t-3", "basic")

    access.release("t-1")
    access.release("t-3")

    assert set(plans.keys) == {tenant_key_name("t-2"), shard}


def test_a_change_is_flushed_at_once_and_again_once_every_cached_standing_is_stale() -> None:
    clock = FakeClock()
    caches = MemoryAuthorizerCaches()
    access = _access(MemoryUsagePlans(), clock, caches)
    changed_at = clock.now() - timedelta(seconds=2)  # the event took 2 s to arrive

    flushed = access.revoke(changed_at)

    assert flushed == 2
    assert caches.flushes == 2
    assert clock.now() == changed_at + timedelta(seconds=5)  # the TTL after the change


def test_a_change_older_than_the_tenant_cache_is_flushed_once() -> None:
    clock = FakeClock()
    caches = MemoryAuthorizerCaches()

    _access(MemoryUsagePlans(), clock, caches).revoke(clock.now() - timedelta(seconds=60))

    assert caches.flushes == 1
