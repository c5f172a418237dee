"""Per-tenant limits through the local platform: the usage plans of the templates (test numbers
through the platform template's parameters, bench/noisy_neighbour.py says why), each tenant's
API key created by its lifecycle, the gateway enforcing them as API Gateway does.

A basic tenant sends at five times its rate while a premium tenant works at a steady rate: the
basic tenant gets API Gateway's 429 and none of its excess reaches a handler; the premium
tenant gets no 429 and keeps its latency (median and p95 within 1.5x of its latency alone,
measured in the same run, in windows interleaved with the noisy ones, while no other test runs;
a measurement that misses is taken again, up to three in all).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # bench/ holds the scenario, shared with `make bench`

from bench import noisy_neighbour  # noqa: E402
from bench.report import median_ms, p95_ms  # noqa: E402

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def platform() -> Iterator[Any]:
    with noisy_neighbour.start() as running:
        yield running


@pytest.fixture(scope="module")
def tenants(platform: Any) -> dict[str, tuple[str, str]]:
    return {tier: noisy_neighbour.onboard(platform, tier) for tier in ("basic", "premium")}


def test_each_tenant_gets_its_own_key_in_its_tiers_plans(
    platform: Any, tenants: dict[str, tuple[str, str]]
) -> None:
    apigateway = platform.client("apigateway")
    for tier, (tenant_id, _) in tenants.items():
        [key] = apigateway.get_api_keys(nameQuery=f"saas-tenant-{tenant_id}")["items"]
        plans = apigateway.get_usage_plans(keyId=key["id"])["items"]
        assert {p["name"] for p in plans} == {f"saas-product-{tier}"}
        assert {p["tags"]["saas:tier"] for p in plans} == {tier}


# A tail on a shared 2-core machine moves with a stall of a few hundred ms that lands in one
# condition's windows: CI once measured, with this test running alone, p95 83 ms beside the flood
# against 48 ms alone, a 121 ms sample among the alone ones. A measurement that misses the
# latency bound is taken again, up to ATTEMPTS in all; interference the platform lets through
# shows in every one. Every measurement must meet all the other assertions.
ATTEMPTS = 3


@pytest.mark.alone  # its latencies are its own, not another test's load (conftest.py)
def test_a_noisy_basic_tenant_is_throttled_and_a_premium_tenant_keeps_its_latency(
    platform: Any, tenants: dict[str, tuple[str, str]]
) -> None:
    # Given a basic and a premium tenant, each with its usage key
    _, basic = tenants["basic"]
    _, premium = tenants["premium"]
    ratios = []
    for _ in range(ATTEMPTS):
        # When the basic tenant sends at 5x its rate while the premium one works steadily
        figures = noisy_neighbour.measure(platform, basic, premium)

        # Then the basic tenant gets API Gateway's 429, with when to retry
        assert figures.basic_statuses.count(429) > len(figures.basic_statuses) / 2
        assert set(figures.basic_statuses) <= {200, 429}
        assert {json.loads(body)["message"] for body in figures.basic_429_bodies} == {
            "Too Many Requests"
        }
        assert figures.basic_retry_after == {"1"}
        # And none of its excess reached a handler: only what the bucket admitted was invoked
        admitted = figures.basic_statuses.count(200)
        assert figures.basic_invocations == admitted
        assert admitted <= noisy_neighbour.ceiling(figures) + 1
        # And the premium tenant got no 429 and kept its latency
        assert figures.premium_statuses.count(429) == 0
        assert set(figures.premium_statuses) == {200}
        median_ratio, p95_ratio = noisy_neighbour.latency_ratios(figures)
        print(
            f"premium median alone {median_ms(figures.alone):.1f} ms, "
            f"noisy {median_ms(figures.noisy):.1f} ms; "
            f"p95 alone {p95_ms(figures.alone):.1f} ms, noisy {p95_ms(figures.noisy):.1f} ms; "
            f"basic {figures.basic_statuses.count(429)}/{len(figures.basic_statuses)} 429, "
            f"{figures.basic_invocations} handler calls in {figures.noise_seconds:.1f} s"
            f" ({figures.noise_runs} noisy segments)"
        )
        ratios.append((round(median_ratio, 2), round(p95_ratio, 2)))
        if max(median_ratio, p95_ratio) <= noisy_neighbour.LATENCY_GOAL:
            break
    else:
        pytest.fail(
            "the premium tenant's latency beside the flood was over"
            f" {noisy_neighbour.LATENCY_GOAL}x its latency alone in each of {ATTEMPTS}"
            f" measurements; (median, p95) ratios: {ratios}"
        )
