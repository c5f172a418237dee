"""API Gateway's usage plans, as the local gateway enforces them: a token bucket per API key and
plan (the plan's rate and burst), the plan's quota per period (DAY: the UTC day), and the plans
looked up by the key the authorizer returned (`usageIdentifierKey`, API key source AUTHORIZER).

What API Gateway answers, and so the gateway: 429 {"message": "Too Many Requests"} when the
bucket is empty (gateway response THROTTLED), 429 {"message": "Limit Exceeded"} when the quota
is spent (QUOTA_EXCEEDED), 403 {"message": "Forbidden"} when the key is in no plan of the stage.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any


@dataclass(frozen=True)
class PlanLimits:
    plan_id: str
    rate: float  # tokens per second
    burst: int  # the bucket's size
    quota: int | None  # requests per period
    period: str = "DAY"


class Verdict(StrEnum):
    ALLOW = "allow"
    THROTTLED = "throttled"
    QUOTA_EXCEEDED = "quota-exceeded"
    NO_PLAN = "no-plan"


@dataclass(frozen=True)
class Admission:
    verdict: Verdict
    retry_after: float = 0.0  # seconds until a request could be admitted


class TokenBucket:
    def __init__(self, rate: float, burst: int, now: float) -> None:
        self.rate = rate
        self.capacity = max(burst, 1)
        self.tokens = float(self.capacity)
        self.at = now

    def take(self, now: float) -> float:
        """0 when a token was taken; otherwise the seconds until one is there."""
        self.tokens = min(self.capacity, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate if self.rate > 0 else 86400.0


def _period_end(period: str, at: datetime) -> datetime:
    day = at.replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "WEEK":
        return day + timedelta(days=7 - day.weekday())
    if period == "MONTH":
        return (day.replace(day=1) + timedelta(days=32)).replace(day=1)
    return day + timedelta(days=1)


# (key value, api id, stage) -> the limits of the key's plan on that stage, or None
PlanLookup = Callable[[str, str, str], PlanLimits | None]


class UsagePlanEnforcer:
    def __init__(
        self,
        lookup: PlanLookup,
        monotonic: Callable[[], float] = time.monotonic,
        wall: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._lookup = lookup
        self._monotonic = monotonic
        self._wall = wall
        self._buckets: dict[tuple[str, str], TokenBucket] = {}
        self._used: dict[tuple[str, str], tuple[datetime, int]] = {}
        self._lock = threading.Lock()

    def admit(self, key: str, api_id: str, stage: str) -> Admission:
        limits = self._lookup(key, api_id, stage)
        if limits is None:
            return Admission(Verdict.NO_PLAN)
        slot = (limits.plan_id, key)
        with self._lock:
            now, today = self._monotonic(), self._wall()
            if limits.quota is not None:
                ends, used = self._used.get(slot, (_period_end(limits.period, today), 0))
                if today >= ends:
                    ends, used = _period_end(limits.period, today), 0
                if used >= limits.quota:
                    return Admission(Verdict.QUOTA_EXCEEDED, (ends - today).total_seconds())
            bucket = self._buckets.get(slot)
            if bucket is None or (bucket.rate, bucket.capacity) != (limits.rate, limits.burst):
                bucket = self._buckets[slot] = TokenBucket(limits.rate, limits.burst, now)
            wait = bucket.take(now)
            if wait > 0:
                return Admission(Verdict.THROTTLED, wait)
            if limits.quota is not None:
                self._used[slot] = (ends, used + 1)
            return Admission(Verdict.ALLOW)


class ApiGatewayPlanLookup:
    """Keys and plans as the lifecycle set them in the embedded AWS (API Gateway's own API),
    read again after `ttl_seconds`: a new or deleted key is seen within it."""

    def __init__(
        self,
        client: Any,
        ttl_seconds: float = 1.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._ttl = ttl_seconds
        self._monotonic = monotonic
        self._cache: dict[str, tuple[float, list[dict[str, Any]]]] = {}
        self._lock = threading.Lock()

    def _plans_of(self, key: str) -> list[dict[str, Any]]:
        now = self._monotonic()
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None and now - cached[0] < self._ttl:
                return cached[1]
        pages = self._client.get_paginator("get_api_keys").paginate(includeValues=True)
        key_id = next(
            (k["id"] for p in pages for k in p.get("items", []) if k.get("value") == key), None
        )
        plans: list[dict[str, Any]] = []
        if key_id is not None:
            pages = self._client.get_paginator("get_usage_plans").paginate(keyId=key_id)
            plans = [plan for page in pages for plan in page.get("items", [])]
        with self._lock:
            self._cache[key] = (now, plans)
        return plans

    def __call__(self, key: str, api_id: str, stage: str) -> PlanLimits | None:
        for plan in self._plans_of(key):
            stages = plan.get("apiStages") or []
            if not any(s.get("apiId") == api_id and s.get("stage") == stage for s in stages):
                continue
            throttle = plan.get("throttle") or {}
            quota = plan.get("quota") or {}
            return PlanLimits(
                plan_id=plan["id"],
                rate=float(throttle.get("rateLimit", 10_000)),
                burst=int(throttle.get("burstLimit", 5_000)),
                quota=int(quota["limit"]) if "limit" in quota else None,
                period=str(quota.get("period", "DAY")),
            )
        return None
