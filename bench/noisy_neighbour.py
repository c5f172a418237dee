"""Noisy neighbour through the local platform: a basic tenant sends GET /products at five times
its rate while a premium tenant works at a steady rate; the premium tenant's latency with the
noise is set against its latency alone, measured in the same run.

The two are measured in short interleaved windows (alone, noisy, noisy, alone, ...), not one
after the other: whatever else loads the machine (another test process, a build) then falls on
both alike, and the ratio measures the neighbour, not the machine's load at the time.

The usage plans are the templates' own, with test numbers set through the platform template's
parameters (LIMITS): the tier defaults (10 and 100 requests/s) are more than a 2-core CI
machine serves through moto, and the point is the ratio, not the size.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from bench.report import Row, median_ms, p95_ms
from bench.templates import ROOT, fresh_function_log

# Test numbers for the platform template's tier parameters (per tenant, per service API).
BASIC_RATE, BASIC_BURST = 2, 2
PREMIUM_RATE, PREMIUM_BURST = 20, 40
LIMITS = {
    "BasicRateLimit": str(BASIC_RATE),
    "BasicBurstLimit": str(BASIC_BURST),
    "BasicDailyQuota": "100000",
    "PremiumRateLimit": str(PREMIUM_RATE),
    "PremiumBurstLimit": str(PREMIUM_BURST),
    "PremiumDailyQuota": "100000",
}
NOISE_FACTOR = 5  # the basic tenant sends at five times its rate
PREMIUM_RATE_SENT = 8.0  # requests/s of the premium tenant, steady (two fifths of its rate)
SECONDS = float(os.environ.get("BENCH_NOISY_SECONDS", "10"))  # of each, alone and noisy
WINDOW_SECONDS = 1.0  # one window of the interleaving
PAIRS = max(1, round(SECONDS / WINDOW_SECONDS))
PASSWORD = "Noisy-Passw0rd-1"
TIMEOUT = 180.0
TEMPLATES = ("tenant", "provisioner", "product")


@dataclass
class Figures:
    alone: list[float] = field(default_factory=list)  # premium latencies (s), nobody else
    noisy: list[float] = field(default_factory=list)  # premium latencies (s), basic flooding
    premium_statuses: list[int] = field(default_factory=list)
    basic_statuses: list[int] = field(default_factory=list)
    basic_429_bodies: set[str] = field(default_factory=set)
    basic_retry_after: set[str] = field(default_factory=set)
    basic_invocations: int = 0  # handler invocations of the basic tenant during the noise
    noise_seconds: float = 0.0  # the basic tenant's flooding, all its segments together
    noise_runs: int = 0  # its segments: a full bucket at the start of each


def start(function_log: Any = None) -> Any:
    """The platform (tenant, provisioner, product) with the test limits."""
    from saas_local.testing import start_platform

    templates = [ROOT / "services" / name / "template.yaml" for name in TEMPLATES]
    return start_platform(
        ROOT,
        templates,
        region_map={"us": "us-east-1"},
        parameters={"platform": LIMITS},
        function_log=function_log,
    )


def onboard(platform: Any, tier: str) -> tuple[str, str]:
    """A new ACTIVE tenant of `tier` through the API: (tenant id, its TenantUser's ID token)."""
    root = platform.login(*platform.system_admin)
    suffix = uuid.uuid4().hex[:8]
    answer = platform.api(
        "POST",
        "/tenants",
        token=root,
        json={
            "name": f"Noisy {suffix}",
            "tier": tier,
            "region_group": "us",
            "admin_email": f"noisy-{suffix}@shop.test",
        },
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )
    if answer.status != 202:
        raise RuntimeError(f"onboarding refused: {answer.status} {answer.text}")
    tenant_id = str(answer.json()["id"])
    platform.wait_until(
        lambda: (
            platform.api("GET", f"/tenants/{tenant_id}", token=root).json()["status"] == "ACTIVE"
        ),
        timeout=TIMEOUT,
    )
    username = f"noisy-user-{suffix}"
    platform.create_user(username, PASSWORD, "TenantUser", tenant_id)
    return tenant_id, platform.login(username, PASSWORD)


WARM_CONCURRENCY = 4  # the flood's thread pool


def _steady(platform: Any, token: str, rate: float, seconds: float) -> list[tuple[int, float]]:
    """GET /products at `rate` per second, one after another: (status, latency) each."""
    answers = []
    start = time.perf_counter()
    for n in range(int(rate * seconds)):
        time.sleep(max(0.0, start + n / rate - time.perf_counter()))
        sent = time.perf_counter()
        response = platform.api("GET", "/products", token=token)
        answers.append((response.status, time.perf_counter() - sent))
    return answers


def schedule(pairs: int) -> list[tuple[bool, int]]:
    """Windows in pairs alternately (alone, noisy) and (noisy, alone), so a drift in the
    machine's load weighs on both alike; a run of windows of one kind becomes one segment:
    (noisy, number of windows) each."""
    windows = [
        noisy for n in range(pairs) for noisy in ((False, True) if n % 2 == 0 else (True, False))
    ]
    segments: list[tuple[bool, int]] = []
    for noisy in windows:
        if segments and segments[-1][0] == noisy:
            segments[-1] = (noisy, segments[-1][1] + 1)
        else:
            segments.append((noisy, 1))
    return segments


LATENCY_GOAL = 1.5  # the premium tenant's median and p95 beside the flood, at most this x alone


def latency_ratios(figures: Figures) -> tuple[float, float]:
    """The premium tenant's median and p95 beside the flood, each against its own alone."""
    return (
        median_ms(figures.noisy) / median_ms(figures.alone),
        p95_ms(figures.noisy) / p95_ms(figures.alone),
    )


def ceiling(figures: Figures) -> float:
    """The most a token bucket admits of the basic tenant's noise: a full burst at the start of
    each noisy segment (the quiet windows between refill it), then its rate."""
    return BASIC_BURST * figures.noise_runs + BASIC_RATE * figures.noise_seconds


def measure(platform: Any, basic_token: str, premium_token: str) -> Figures:
    figures = Figures()
    # Warm: tokens in the authorizer cache, and as many workers started as the noisy windows run
    # at once (the basic tenant's admitted requests beside the premium one's): otherwise the
    # first concurrent request pays a new worker's cold start, which is scale-out, not
    # interference. Then the buckets refill.
    for token in (basic_token, premium_token):
        for _ in range(2):
            platform.api("GET", "/products", token=token)
    with ThreadPoolExecutor(max_workers=WARM_CONCURRENCY) as pool:
        for _ in range(2):
            list(
                pool.map(
                    lambda _: platform.api("GET", "/products", token=premium_token),
                    range(WARM_CONCURRENCY),
                )
            )
    time.sleep(2)

    gateway = platform.platform.gateway
    basic_key = _usage_key(platform, basic_token)
    before = gateway.invocations[basic_key]
    noise_rate = BASIC_RATE * NOISE_FACTOR
    with ThreadPoolExecutor(max_workers=WARM_CONCURRENCY, thread_name_prefix="noisy") as pool:

        def flood(stop: threading.Event) -> None:
            start = time.perf_counter()
            n = 0
            while not stop.is_set():
                time.sleep(max(0.0, start + n / noise_rate - time.perf_counter()))
                if stop.is_set():
                    break
                pool.submit(_basic_request, platform, basic_token, figures)
                n += 1
            figures.noise_seconds += time.perf_counter() - start
            figures.noise_runs += 1

        for noisy, windows in schedule(PAIRS):
            seconds = WINDOW_SECONDS * windows
            if not noisy:
                answers = _steady(platform, premium_token, PREMIUM_RATE_SENT, seconds)
                figures.alone += [latency for _, latency in answers]
                figures.premium_statuses += [status for status, _ in answers]
                continue
            stop = threading.Event()
            noise = threading.Thread(target=flood, args=(stop,), name="noisy-basic-tenant")
            noise.start()
            try:
                answers = _steady(platform, premium_token, PREMIUM_RATE_SENT, seconds)
            finally:
                stop.set()
                noise.join()
            figures.noisy += [latency for _, latency in answers]
            figures.premium_statuses += [status for status, _ in answers]
    figures.basic_invocations = gateway.invocations[basic_key] - before
    return figures


_lock = threading.Lock()


def _basic_request(platform: Any, token: str, figures: Figures) -> None:
    response = platform.api("GET", "/products", token=token)
    with _lock:
        figures.basic_statuses.append(response.status)
        if response.status == 429:
            figures.basic_429_bodies.add(response.text)
            headers = {k.lower(): v for k, v in response.headers.items()}
            figures.basic_retry_after.add(headers.get("retry-after", ""))


def _usage_key(platform: Any, token: str) -> str:
    """The tenant's usage key, as the gateway's cached authorizer answer holds it."""
    for route in platform.platform.gateway.routes:
        if route.authorizer is None:
            continue
        answer = route.authorizer.cache.get((f"Bearer {token}",))
        if answer is not None and answer.usage_key:
            return str(answer.usage_key)
    raise RuntimeError("no cached authorizer answer with a usage key for this token")


def run() -> list[Row]:
    with start(fresh_function_log()) as platform:
        _, basic = onboard(platform, "basic")
        _, premium = onboard(platform, "premium")
        figures = measure(platform, basic, premium)
    return rows(figures)


def rows(figures: Figures) -> list[Row]:
    throttled = figures.basic_statuses.count(429)
    sent = len(figures.basic_statuses)
    most = ceiling(figures)
    median_ratio, p95_ratio = latency_ratios(figures)
    premium_429 = figures.premium_statuses.count(429)
    return [
        Row(
            "noisy neighbour",
            f"premium GET /products at {PREMIUM_RATE_SENT:g}/s, median",
            median_ms(figures.noisy),
            "alone",
            median_ms(figures.alone),
            f"<= {LATENCY_GOAL}x",
            median_ratio <= LATENCY_GOAL and premium_429 == 0,
        ),
        Row(
            "noisy neighbour",
            f"premium GET /products at {PREMIUM_RATE_SENT:g}/s, p95",
            p95_ms(figures.noisy),
            "alone",
            p95_ms(figures.alone),
            f"<= {LATENCY_GOAL}x",
            p95_ratio <= LATENCY_GOAL and premium_429 == 0,
        ),
        Row(
            "noisy neighbour",
            f"basic at {NOISE_FACTOR}x its {BASIC_RATE}/s: handler calls",
            float(figures.basic_invocations),
            f"{figures.noise_runs} x burst + rate x {figures.noise_seconds:.1f} s",
            most,
            "<= 1x",
            figures.basic_invocations <= most,
            note=f"{throttled} of {sent} basic requests got 429; premium 429s: {premium_429}",
        ),
    ]
