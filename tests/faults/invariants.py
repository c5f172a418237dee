"""What the platform promises under faults, checked through a running local platform; used by
tests/faults/ (CI size, fixed seed) and bench/faults.py (full size).

Each run turns a fault plan on (`set_faults`), drives the platform through its APIs the way a
client does (a 5xx or a timeout is retried with the same Idempotency-Key), turns the faults off
(`set_faults(FaultPlan())`) and measures how long the platform takes to reach a final state.
Then it reads what the platform holds and lists every broken promise (an empty list: all kept):

- saga: N orders against stock S end with exactly S CONFIRMED and N-S REJECTED and stock 0.
  "Never below 0": the reservation is a conditional write that refuses to go below 0, and the
  event log's stock movements of the product (StockReserved, StockReleased), summed in the order
  they occurred from the stock it was created with, never go below 0 either.
- onboarding/offboarding: each POST /tenants registers one tenant however often it is retried
  (no tenant of the run's requests that no answer named); every tenant ends ACTIVE, or
  PROVISIONING_FAILED with its reason and then ACTIVE after
  POST /tenants/{id}/retry-provisioning; one live stack per tenant while it is
  active, none left after offboarding, and none of its items left in the order and product
  services' pooled tables (their purge is their effect of TenantDeprovisioned).
- events: every outbox item (the services' tables) is in the event log (so it was published); the
  event log holds each event_id once; each consumer's effect happened once per event, counted
  from the events the effects themselves publish: one stock decision per OrderPlaced (by
  causation_id), one OrderConfirmed/OrderRejected per order, one TenantProvisioned per
  provisioning run, one TenantDeprovisioned per tenant; and the consumer's processed marker of
  each OrderPlaced is there.
- dead letters: every message in a dead-letter queue or failure destination says why it is there
  (its reason attribute or body, Lambda's on-failure record, or the consumer's log line naming it).

Why a module under tests/ that the benchmark imports (as the e2e tests import tenant_e2e_kit):
these are assertions about the system, so they live with the tests and are run by `make test`
on every change; the benchmark reuses them so its figures are those of a run that kept them.
"""

from __future__ import annotations

import concurrent.futures
import json
import re
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from saas_local.faults import FaultPlan, FaultRule

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "Fault-Passw0rd-1"
TENANT_TABLE = "saas-tenants"
EVENT_LOG_TABLE = "saas-event-log"
DECISIONS = ("StockReserved", "StockReservationRejected")
OUTCOMES = ("OrderConfirmed", "OrderRejected")

# The mix `make test` runs: every kind the platform injects in the middle of the saga and of
# onboarding, at the shares the issue names.
MIXED_SHARES: tuple[tuple[str, float], ...] = (
    ("dynamodb.throttle", 0.1),
    ("dynamodb.transaction_conflict", 0.05),
    ("eventbridge.entry_failure", 0.2),
    ("eventbridge.throttle", 0.05),
    ("sts.error", 0.1),
    ("cloudformation.error", 0.1),
    ("lambda.crash", 0.05),
    ("delivery.duplicate", 0.2),
    ("delivery.reorder", 0.5),
)


def mixed_plan(seed: int = 15) -> FaultPlan:
    return FaultPlan(seed, tuple(FaultRule(kind, share) for kind, share in MIXED_SHARES))


# -- a client that retries as clients do --------------------------------------------------------


def call(
    platform: Any,
    method: str,
    path: str,
    *,
    token: str,
    json_body: Any = None,
    idempotent: bool = False,
    timeout: float = 180.0,
) -> Any:
    """One request, retried while the answer is a 5xx or none came (a crashed or timed-out
    function behind the gateway), or a 409 saying the resource changed meanwhile (a DynamoDB
    TransactionConflict is answered so: "changed concurrently; retry") or that the same
    Idempotency-Key is still in progress (a crashed attempt holds it until its timeout); a POST
    carries one Idempotency-Key across its retries."""
    headers = {"Idempotency-Key": str(uuid.uuid4())} if idempotent else None
    deadline = time.monotonic() + timeout
    while True:
        try:
            answer = platform.api(method, path, token=token, json=json_body, headers=headers)
        except OSError:
            answer = None
        conflict = (
            answer is not None
            and answer.status == 409
            and ("changed" in answer.text or "still in progress" in answer.text)
        )
        if answer is not None and answer.status < 500 and not conflict:
            return answer
        if time.monotonic() > deadline:
            said = "no answer" if answer is None else f"{answer.status} {answer.text}"
            raise AssertionError(f"{method} {path}: {said} for {timeout:.0f} s")
        time.sleep(0.5)


@dataclass(frozen=True)
class Shop:
    tenant_id: str
    admin: str
    user: str


def onboard_shop(platform: Any, timeout: float = 180.0) -> Shop:
    """An ACTIVE basic tenant with a TenantAdmin and a TenantUser (their ID tokens)."""
    root = platform.login(*platform.system_admin)
    suffix = uuid.uuid4().hex[:8]
    body = {
        "name": f"Shop {suffix}",
        "tier": "basic",
        "region_group": "us",
        "admin_email": f"owner-{suffix}@shop.test",
    }
    answer = call(platform, "POST", "/tenants", token=root, json_body=body, idempotent=True)
    assert answer.status == 202, answer.text
    tenant_id = str(answer.json()["id"])
    platform.wait_until(
        lambda: _status(platform, root, tenant_id) == "ACTIVE", timeout=timeout, interval=0.5
    )
    tokens = {}
    for group in ("TenantAdmin", "TenantUser"):
        username = f"{group.lower()}-{suffix}"
        platform.create_user(username, PASSWORD, group, tenant_id)
        tokens[group] = platform.login(username, PASSWORD)
    return Shop(tenant_id, tokens["TenantAdmin"], tokens["TenantUser"])


def _status(platform: Any, token: str, tenant_id: str) -> str:
    answer = platform.api("GET", f"/tenants/{tenant_id}", token=token)
    return str(answer.json().get("status", f"HTTP {answer.status}"))


def _set_faults(platform: Any, plan: FaultPlan) -> dict[str, int]:
    """Switch the plan; what was injected until now, by kind."""
    counts: dict[str, int] = platform.platform.set_faults(plan)["counts"]
    return counts


# -- the saga ---------------------------------------------------------------------------------


@dataclass
class SagaRun:
    tenant_id: str
    product_id: str
    orders: int
    stock: int
    confirmed: int = 0
    rejected: int = 0
    pending: int = 0
    final_stock: int | None = None
    lowest_stock_seen: int | None = None
    placing_s: float = 0.0
    settle_s: float = 0.0  # from the faults' end to every order final
    injected: dict[str, int] = field(default_factory=dict)
    violations: list[str] = field(default_factory=list)


def saga_under_faults(
    platform: Any,
    plan: FaultPlan,
    *,
    orders: int,
    stock: int,
    settle_bound: float,
    workers: int = 8,
) -> SagaRun:
    """`orders` orders of one unit each, placed concurrently under `plan`, against `stock`."""
    shop = onboard_shop(platform)
    created = call(
        platform,
        "POST",
        "/products",
        token=shop.admin,
        json_body={
            "name": "Mug",
            "sku": f"MUG-{uuid.uuid4().hex[:6]}",
            "price": "9.90",
            "stock": stock,
        },
    )
    assert created.status == 201, created.text
    product_id = str(created.json()["id"])
    run = SagaRun(shop.tenant_id, product_id, orders, stock)
    body = {"lines": [{"product_id": product_id, "quantity": 1}]}

    def place(_: int) -> str:
        answer = call(platform, "POST", "/orders", token=shop.user, json_body=body, idempotent=True)
        assert answer.status == 202, answer.text
        return str(answer.json()["id"])

    seen_stock: list[int] = []

    def sample_stock() -> int | None:
        try:
            answer = platform.api("GET", f"/products/{product_id}", token=shop.admin)
        except OSError:
            return None
        if answer.status != 200:
            return None
        value = int(answer.json()["stock"])
        seen_stock.append(value)
        return value

    _set_faults(platform, plan)
    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        ids = set(pool.map(place, range(orders)))
    run.placing_s = time.monotonic() - started
    sample_stock()
    run.injected = _set_faults(platform, FaultPlan())
    if len(ids) != orders:
        run.violations.append(f"{orders} orders placed, {len(ids)} distinct ids answered")

    faults_off = time.monotonic()
    statuses: Counter[str] = Counter()
    while True:
        sample_stock()
        try:
            mine = [o for o in _all_orders(platform, shop.user) if o["id"] in ids]
        except AssertionError:
            mine = []
        statuses = Counter(o["status"] for o in mine)
        if mine and statuses["PENDING"] == 0 and len(mine) == len(ids):
            break
        if time.monotonic() - faults_off > settle_bound:
            run.violations.append(
                f"not every order final {settle_bound:.0f} s after the faults stopped: "
                f"{dict(statuses)}"
            )
            break
        time.sleep(0.5)
    run.settle_s = time.monotonic() - faults_off
    run.confirmed, run.rejected = statuses["CONFIRMED"], statuses["REJECTED"]
    run.pending = statuses["PENDING"]
    run.final_stock = sample_stock()
    run.lowest_stock_seen = min(seen_stock) if seen_stock else None

    expected = (min(stock, orders), max(orders - stock, 0))
    if (run.confirmed, run.rejected) != expected:
        run.violations.append(
            f"CONFIRMED/REJECTED {run.confirmed}/{run.rejected}, expected {expected[0]}/"
            f"{expected[1]}"
        )
    if run.final_stock != stock - expected[0]:
        run.violations.append(f"stock {run.final_stock}, expected {stock - expected[0]}")
    if run.lowest_stock_seen is not None and run.lowest_stock_seen < 0:
        run.violations.append(f"stock seen at {run.lowest_stock_seen}")
    return run


def _all_orders(platform: Any, token: str) -> list[dict[str, Any]]:
    orders: list[dict[str, Any]] = []
    next_token = None
    while True:
        path = "/orders?limit=100" + (f"&next_token={next_token}" if next_token else "")
        page = platform.api("GET", path, token=token)
        assert page.status == 200, page.text
        orders += page.json()["items"]
        next_token = page.json().get("next_token")
        if not next_token:
            return orders


# -- onboarding and offboarding ------------------------------------------------------------------


@dataclass
class OnboardingRun:
    tenants: int
    tenant_ids: list[str] = field(default_factory=list)
    active: int = 0
    failed: int = 0  # PROVISIONING_FAILED before the retry
    retried_to_active: int = 0
    onboarding_s: float = 0.0
    settle_s: float = 0.0  # from the faults' end to every tenant ACTIVE
    offboarding_s: float = 0.0
    stacks_while_active: int = 0
    stacks_left: int = 0
    injected: dict[str, int] = field(default_factory=dict)
    violations: list[str] = field(default_factory=list)


def observer(platform: Any, service: str, region: str | None = None) -> Any:
    """A client for the harness's own reads, which the plan's throttling and errors hit as they hit
    the services (moto cannot tell them apart): it retries long enough to see through them (a
    full-size run scans while 10 % of DynamoDB requests are throttled)."""
    import boto3
    from botocore.config import Config

    return boto3.client(
        service,
        region_name=region or platform.platform.config.home_region,
        endpoint_url=platform.platform.aws_endpoint_url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"mode": "standard", "max_attempts": 40}),
    )


def _tenant_items(platform: Any, ids: set[str]) -> dict[str, dict[str, Any]]:
    client = observer(platform, "dynamodb")
    found: dict[str, dict[str, Any]] = {}
    for page in client.get_paginator("scan").paginate(TableName=TENANT_TABLE):
        for item in page["Items"]:
            tenant_id = item.get("tenant_id", {}).get("S")
            if tenant_id in ids:
                found[tenant_id] = item
    return found


def _registered_unanswered(platform: Any, emails: set[str], answered: set[str]) -> list[str]:
    """Tenants of these requests (by their admin's email, one per request) that no answer named:
    an attempt that committed and died, then a retry that registered the tenant again."""
    client = observer(platform, "dynamodb")
    found = []
    for page in client.get_paginator("scan").paginate(TableName=TENANT_TABLE):
        for item in page["Items"]:
            email = item.get("admin_email", {}).get("S")
            tenant_id = item.get("tenant_id", {}).get("S")
            if email in emails and tenant_id not in answered:
                found.append(str(tenant_id))
    return found


def _statuses(platform: Any, ids: set[str]) -> dict[str, str]:
    return {t: item["status"]["S"] for t, item in _tenant_items(platform, ids).items()}


def _stacks(platform: Any, ids: Iterable[str]) -> Counter[str]:
    """Live stacks (not DELETE_COMPLETE) per tenant, in every region of the platform."""
    names = {f"tenant-{t}": t for t in ids}
    live: Counter[str] = Counter()
    for region in set(platform.platform.config.region_map.values()):
        paginator = observer(platform, "cloudformation", region).get_paginator("list_stacks")
        for page in paginator.paginate():
            for stack in page["StackSummaries"]:
                if stack["StackName"] in names and stack["StackStatus"] != "DELETE_COMPLETE":
                    live[names[stack["StackName"]]] += 1
    return live


def _wait_statuses(
    platform: Any, ids: set[str], done: Callable[[dict[str, str]], bool], bound: float
) -> dict[str, str]:
    deadline = time.monotonic() + bound
    while True:
        statuses = _statuses(platform, ids)
        if done(statuses) or time.monotonic() > deadline:
            return statuses
        time.sleep(1.0)


def onboarding_under_faults(
    platform: Any,
    plan: FaultPlan,
    *,
    tenants: int,
    settle_bound: float,
    workers: int = 4,
) -> OnboardingRun:
    """`tenants` tenants registered and later offboarded under `plan`."""
    run = OnboardingRun(tenants)
    root = platform.login(*platform.system_admin)
    emails: set[str] = set()

    def register(n: int) -> str:
        suffix = uuid.uuid4().hex[:8]
        body = {
            "name": f"Tenant {n}",
            "tier": "premium" if n % 4 == 0 else "basic",
            "region_group": "us",
            "admin_email": f"admin-{suffix}@faults.test",
        }
        emails.add(body["admin_email"])
        answer = call(platform, "POST", "/tenants", token=root, json_body=body, idempotent=True)
        assert answer.status == 202, answer.text
        return str(answer.json()["id"])

    _set_faults(platform, plan)
    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        run.tenant_ids = list(pool.map(register, range(tenants)))
    ids = set(run.tenant_ids)
    twice = _registered_unanswered(platform, emails, ids)
    if twice:
        run.violations.append(f"tenants registered by a retried request but not answered: {twice}")
    settled = {"ACTIVE", "PROVISIONING_FAILED"}
    statuses = _wait_statuses(
        platform, ids, lambda s: len(s) == tenants and set(s.values()) <= settled, settle_bound
    )
    run.onboarding_s = time.monotonic() - started
    injected = _set_faults(platform, FaultPlan())
    faults_off = time.monotonic()

    failed = sorted(t for t, s in statuses.items() if s == "PROVISIONING_FAILED")
    run.failed = len(failed)
    items = _tenant_items(platform, set(failed))
    for tenant_id in failed:
        reason = items[tenant_id].get("status_reason", {}).get("S")
        if not reason:
            run.violations.append(f"tenant {tenant_id} is PROVISIONING_FAILED with no reason")
        answer = call(platform, "POST", f"/tenants/{tenant_id}/retry-provisioning", token=root)
        if answer.status != 202:
            run.violations.append(f"retry of {tenant_id}: {answer.status} {answer.text}")
    statuses = _wait_statuses(
        platform, ids, lambda s: list(s.values()).count("ACTIVE") == tenants, settle_bound
    )
    run.settle_s = time.monotonic() - faults_off
    run.active = list(statuses.values()).count("ACTIVE")
    run.retried_to_active = sum(1 for t in failed if statuses.get(t) == "ACTIVE")
    if run.active != tenants:
        left = Counter(statuses.values())
        run.violations.append(f"{run.active} of {tenants} tenants ACTIVE: {dict(left)}")
    live = _stacks(platform, ids)
    run.stacks_while_active = sum(live.values())
    several = {t: n for t, n in live.items() if n != 1}
    missing = [t for t in ids if statuses.get(t) == "ACTIVE" and live[t] == 0]
    if several or missing:
        run.violations.append(f"stacks per active tenant: {several or ''} missing {missing}")

    _set_faults(platform, plan)
    started = time.monotonic()

    def offboard(tenant_id: str) -> None:
        answer = call(platform, "DELETE", f"/tenants/{tenant_id}", token=root)
        assert answer.status == 202, answer.text

    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(offboard, run.tenant_ids))
    statuses = _wait_statuses(
        platform, ids, lambda s: list(s.values()).count("OFFBOARDED") == tenants, settle_bound
    )
    run.offboarding_s = time.monotonic() - started
    for kind, count in _set_faults(platform, FaultPlan()).items():
        injected[kind] = injected.get(kind, 0) + count
    run.injected = injected
    statuses = _wait_statuses(
        platform, ids, lambda s: list(s.values()).count("OFFBOARDED") == tenants, settle_bound
    )
    offboarded = list(statuses.values()).count("OFFBOARDED")
    if offboarded != tenants:
        run.violations.append(
            f"{offboarded} of {tenants} tenants OFFBOARDED: {dict(Counter(statuses.values()))}"
        )
    run.stacks_left = sum(_stacks(platform, ids).values())
    if run.stacks_left:
        run.violations.append(f"{run.stacks_left} stacks left after offboarding")
    left = _purge_left(platform, ids, settle_bound)
    if left:
        run.violations.append(f"items of offboarded tenants left (table: items): {left}")
    return run


# The pooled tables whose services purge a tenant on TenantDeprovisioned.
PURGED_TABLES = ("saas-orders", "saas-products")


def _purge_left(platform: Any, ids: set[str], bound: float) -> dict[str, int]:
    """Items of these (offboarded) tenants still in the pooled tables once the consumers have
    had `bound` seconds: each service's purge is its effect of TenantDeprovisioned."""
    client = observer(platform, "dynamodb")
    keys = {f"TENANT#{t}" for t in ids}
    deadline = time.monotonic() + bound
    while True:
        left: Counter[str] = Counter()
        for table in PURGED_TABLES:
            for page in client.get_paginator("scan").paginate(TableName=table):
                left[table] += sum(1 for i in page["Items"] if i.get("pk", {}).get("S") in keys)
        if not +left or time.monotonic() > deadline:
            return dict(+left)
        time.sleep(1.0)


# -- events: none lost, none applied twice -------------------------------------------------------


@dataclass
class EventCheck:
    outbox_items: int = 0
    logged_events: int = 0
    unpublished: list[str] = field(default_factory=list)
    decisions_per_order_placed: Counter[int] = field(default_factory=Counter)
    violations: list[str] = field(default_factory=list)


def _logged(platform: Any, tenant_id: str) -> list[dict[str, Any]]:
    client = observer(platform, "dynamodb")
    events = []
    paginator = client.get_paginator("query")
    for page in paginator.paginate(
        TableName=EVENT_LOG_TABLE,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"TENANT#{tenant_id}"}},
    ):
        events += [json.loads(item["event"]["S"]) for item in page["Items"]]
    return events


def _detail(event: dict[str, Any]) -> dict[str, Any]:
    detail = event["detail"]
    return dict(json.loads(detail) if isinstance(detail, str) else detail)


def _table_items(platform: Any, tenant_ids: set[str]) -> list[tuple[str, dict[str, Any]]]:
    """(table, item) of every item of these tenants in the home region's tables."""
    client = observer(platform, "dynamodb")
    keys = {f"TENANT#{t}" for t in tenant_ids}
    found = []
    for table in client.list_tables()["TableNames"]:
        if table in (EVENT_LOG_TABLE, TENANT_TABLE):
            continue
        for page in client.get_paginator("scan").paginate(TableName=table):
            found += [(table, i) for i in page["Items"] if i.get("pk", {}).get("S") in keys]
    return found


def check_events(
    platform: Any,
    tenant_ids: Sequence[str],
    *,
    provisioning_runs: dict[str, int] | None = None,
    bound: float = 60.0,
) -> EventCheck:
    """No event lost, none applied twice, for these tenants (see the module's docstring).
    `provisioning_runs`: tenant -> how many provisioning runs it had (1, or 2 after a retry)."""
    ids = set(tenant_ids)
    deadline = time.monotonic() + bound
    while True:  # the event log's consumer may still be catching up
        items = _table_items(platform, ids)
        outbox = {
            i["event_id"]["S"]
            for _, i in items
            if i.get("sk", {}).get("S", "").startswith("OUTBOX#")
        }
        logged = [e for t in ids for e in _logged(platform, t)]
        logged_ids = Counter(_detail(e)["metadata"]["event_id"] for e in logged)
        unpublished = sorted(outbox - set(logged_ids))
        if not unpublished or time.monotonic() > deadline:
            break
        time.sleep(1.0)
    return judge_events(items, logged, provisioning_runs or {})


def judge_events(
    items: Sequence[tuple[str, dict[str, Any]]],
    logged: Sequence[dict[str, Any]],
    provisioning_runs: dict[str, int],
) -> EventCheck:
    """The promises about events, judged from the services' items ((table, item) of the
    tenants') and the event log's events (EventBridge events)."""
    check = EventCheck()
    outbox = {
        i["event_id"]["S"] for _, i in items if i.get("sk", {}).get("S", "").startswith("OUTBOX#")
    }
    logged_ids = Counter(_detail(e)["metadata"]["event_id"] for e in logged)
    unpublished = sorted(outbox - set(logged_ids))
    check.outbox_items, check.logged_events = len(outbox), len(logged)
    check.unpublished = unpublished
    if unpublished:
        check.violations.append(
            f"{len(unpublished)} outbox items never reached the event log: {unpublished[:5]}"
        )
    twice = [e for e, n in logged_ids.items() if n > 1]
    if twice:
        check.violations.append(f"event ids logged more than once: {twice[:5]}")

    by_type: dict[str, list[dict[str, Any]]] = {}
    for event in logged:
        by_type.setdefault(event["detail-type"], []).append(_detail(event))
    placed = {d["metadata"]["event_id"]: d for d in by_type.get("OrderPlaced", [])}
    decisions = Counter(
        d["metadata"]["causation_id"] for kind in DECISIONS for d in by_type.get(kind, [])
    )
    check.decisions_per_order_placed = Counter(decisions[e] for e in placed)
    wrong = {e: decisions[e] for e in placed if decisions[e] != 1}
    if wrong:
        check.violations.append(
            f"OrderPlaced events not decided exactly once (event_id: decisions): "
            f"{dict(list(wrong.items())[:5])}"
        )
    outcomes = Counter(d["data"]["order_id"] for kind in OUTCOMES for d in by_type.get(kind, []))
    orders = {d["data"]["order_id"] for d in placed.values()}
    wrong_orders = {o: outcomes[o] for o in orders if outcomes[o] != 1}
    if wrong_orders:
        check.violations.append(f"orders not concluded exactly once: {wrong_orders}")
    markers = {
        i["event_id"]["S"]
        for table, i in items
        if "product" in table and i.get("sk", {}).get("S", "").startswith("EVENT#")
    }
    unmarked = sorted(set(placed) - markers)
    if unmarked:
        check.violations.append(
            f"OrderPlaced without the product consumer's marker: {unmarked[:5]}"
        )
    _stock_never_below_zero(by_type, check)
    for tenant_id, runs in provisioning_runs.items():
        provisioned = [
            d for d in by_type.get("TenantProvisioned", []) if d["data"]["tenant_id"] == tenant_id
        ]
        if len(provisioned) > runs:
            check.violations.append(
                f"tenant {tenant_id}: {len(provisioned)} TenantProvisioned for {runs} runs"
            )
    deprovisioned = Counter(d["data"]["tenant_id"] for d in by_type.get("TenantDeprovisioned", []))
    if any(n > 1 for n in deprovisioned.values()):
        check.violations.append(f"TenantDeprovisioned more than once: {deprovisioned}")
    return check


def _stock_never_below_zero(by_type: dict[str, list[dict[str, Any]]], check: EventCheck) -> None:
    """Each product's stock, replayed from ProductCreated through every movement in the order
    they occurred, never goes below 0."""
    start = {
        d["data"]["product_id"]: int(d["data"]["stock"])
        for d in by_type.get("ProductCreated", [])
        if "stock" in d["data"]
    }
    moves: list[tuple[str, str, int]] = []
    for kind, sign in (("StockReserved", -1), ("StockReleased", 1)):
        for d in by_type.get(kind, []):
            for line in d["data"]["lines"]:
                moves.append(
                    (d["metadata"]["occurred_at"], line["product_id"], sign * int(line["quantity"]))
                )
    level = dict(start)
    for _, product, delta in sorted(moves):
        if product not in level:
            continue
        level[product] += delta
        if level[product] < 0:
            check.violations.append(f"product {product}'s stock went to {level[product]}")
            return


# -- dead letters -------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeadLetter:
    queue: str
    message_id: str
    reason: str


def dead_letters(platform: Any, function_log: Path | None = None) -> list[DeadLetter]:
    """Every message in the templates' dead-letter queues and failure destinations (left there,
    visible again), with why it is there."""
    from saas_devtools.redrive.destinations import destinations
    from saas_devtools.redrive.mover import dead_letter_reason

    sqs = platform.client("sqs")
    log_text = (
        function_log.read_text(errors="replace") if function_log and function_log.is_file() else ""
    )
    found = []
    for destination in destinations(ROOT):
        try:
            url = sqs.get_queue_url(QueueName=destination.queue)["QueueUrl"]
        except sqs.exceptions.QueueDoesNotExist:
            continue
        handles, seen = [], set()
        while True:
            messages = sqs.receive_message(
                QueueUrl=url,
                MaxNumberOfMessages=10,
                VisibilityTimeout=30,
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
            ).get("Messages", [])
            fresh = [m for m in messages if m["MessageId"] not in seen]
            handles += [m["ReceiptHandle"] for m in messages]
            if not fresh:
                break
            for message in fresh:
                seen.add(message["MessageId"])
                reason = dead_letter_reason(message)
                if reason.startswith("failed ") and message["MessageId"] in log_text:
                    line = next(x for x in log_text.splitlines() if message["MessageId"] in x)
                    reason = f"{reason}: {line.strip()[:300]}"
                found.append(DeadLetter(destination.queue, message["MessageId"], reason))
        for handle in handles:
            sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=0)
    return found


# What a function may fail with while the plan injects its faults: the errors the faults answer
# (past the SDK's retries) and the services' own error for a PutEvents entry refused.
INJECTED_ERRORS = frozenset(
    {
        "ThrottlingException",
        "ProvisionedThroughputExceededException",
        "TransactionCanceledException",
        "TransactionConflictException",
        "Throttling",
        "InternalFailure",
        "PublishFailed",
    }
)
_ERROR_CODE = re.compile(r"An error occurred \((\w+)\)")


def unexpected_failures(function_log: Path | None) -> dict[str, int]:
    """Failures the functions logged that no injected fault explains ("service: error: message"
    -> how many): a consumer failing on its own (a bug) under faults is caught here at once,
    before its message has been received often enough to reach a dead-letter queue."""
    found: Counter[str] = Counter()
    if function_log is None or not function_log.is_file():
        return {}
    for line in function_log.read_text(errors="replace").splitlines():
        if '"exception_name"' not in line:
            continue
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            continue
        name = str(entry.get("exception_name"))
        code = _ERROR_CODE.search(str(entry.get("exception", "")))
        if (code.group(1) if name == "ClientError" and code else name) in INJECTED_ERRORS:
            continue
        found[f"{entry.get('service')}: {name}: {str(entry.get('message'))[:80]}"] += 1
    return dict(found)


def unexplained(letters: Iterable[DeadLetter], function_log: Path | None) -> list[DeadLetter]:
    """Dead letters whose reason cannot be found (no attribute, no body, no log line)."""
    return [
        d
        for d in letters
        if d.reason.startswith("failed ") and (function_log is None or ": " not in d.reason)
    ]
