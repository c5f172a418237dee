"""Usage plans as the local gateway enforces them, as API Gateway does: a token bucket per key
and plan (rate, burst), the quota per UTC day, API Gateway's 429 messages with the API's
gateway-response headers, 403 for a key in no plan of the stage; and the authorizer-cache flush."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from saas_local.authorizer import AuthorizerCache
from saas_local.gateway import (
    ApiResponses,
    AuthorizerFlushWatcher,
    Gateway,
    GatewayRoute,
    RouteAuthorizer,
)
from saas_local.usage_plans import PlanLimits, TokenBucket, UsagePlanEnforcer, Verdict


class Clocks:
    def __init__(self) -> None:
        self.seconds = 100.0
        self.day = datetime(2026, 1, 1, 23, 0, tzinfo=UTC)

    def monotonic(self) -> float:
        return self.seconds

    def wall(self) -> datetime:
        return self.day

    def advance(self, seconds: float) -> None:
        self.seconds += seconds
        self.day += timedelta(seconds=seconds)


PLANS = {
    ("key-basic", "api1", "prod"): PlanLimits("plan-basic", rate=2, burst=3, quota=10),
    ("key-premium", "api1", "prod"): PlanLimits("plan-premium", rate=50, burst=100, quota=None),
}


def _enforcer(clocks: Clocks) -> UsagePlanEnforcer:
    return UsagePlanEnforcer(
        lambda key, api, stage: PLANS.get((key, api, stage)), clocks.monotonic, clocks.wall
    )


def test_the_bucket_holds_burst_tokens_and_refills_at_the_rate() -> None:
    bucket = TokenBucket(rate=2, burst=3, now=0)

    taken = [bucket.take(0) for _ in range(4)]

    assert taken[:3] == [0, 0, 0]
    assert taken[3] == 0.5  # one token comes every 1/rate seconds
    assert bucket.take(0.5) == 0


def test_a_key_past_its_rate_is_throttled_and_another_key_is_not() -> None:
    clocks = Clocks()
    enforcer = _enforcer(clocks)

    basic = [enforcer.admit("key-basic", "api1", "prod").verdict for _ in range(5)]
    premium = [enforcer.admit("key-premium", "api1", "prod").verdict for _ in range(5)]

    assert basic == [Verdict.ALLOW] * 3 + [Verdict.THROTTLED] * 2
    assert premium == [Verdict.ALLOW] * 5


def test_the_quota_is_spent_by_admitted_requests_and_renewed_at_midnight_utc() -> None:
    clocks = Clocks()
    enforcer = _enforcer(clocks)
    admitted = 0
    while admitted < 10:
        clocks.advance(0.5)
        admitted += enforcer.admit("key-basic", "api1", "prod").verdict is Verdict.ALLOW

    clocks.advance(1)
    spent = enforcer.admit("key-basic", "api1", "prod")
    clocks.advance(3600)  # past 00:00 UTC
    renewed = enforcer.admit("key-basic", "api1", "prod")

    assert spent.verdict is Verdict.QUOTA_EXCEEDED
    assert 0 < spent.retry_after <= 3600
    assert renewed.verdict is Verdict.ALLOW


def test_a_key_in_no_plan_of_the_stage_has_no_plan() -> None:
    enforcer = _enforcer(Clocks())

    assert enforcer.admit("key-basic", "api2", "prod").verdict is Verdict.NO_PLAN
    assert enforcer.admit("unknown", "api1", "prod").verdict is Verdict.NO_PLAN


class Function:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, event: object) -> dict[str, object]:
        self.calls += 1
        return {"statusCode": 200, "body": "{}"}


def _authorizer(usage_key: str | None):  # type: ignore[no-untyped-def]
    def answer(event: object) -> dict[str, object]:
        response: dict[str, object] = {
            "principalId": "user-1",
            "policyDocument": {
                "Statement": [{"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": "*"}]
            },
            "context": {"tenant_id": "t1"},
        }
        if usage_key:
            response["usageIdentifierKey"] = usage_key
        answer.calls += 1  # type: ignore[attr-defined]
        return response

    answer.calls = 0  # type: ignore[attr-defined]
    return answer


def _metered_gateway(handler: Function, authorizer, clocks: Clocks) -> Gateway:  # type: ignore[no-untyped-def]
    route = GatewayRoute(
        "GET",
        "/products",
        handler,
        "api1",
        "prod",
        "us-east-1",
        RouteAuthorizer(authorizer, "TOKEN", ("Authorization",), AuthorizerCache(300)),
        usage=_enforcer(clocks),
        responses=ApiResponses(
            gateway_responses={
                "THROTTLED": {"Retry-After": "1"},
                "QUOTA_EXCEEDED": {"X-Quota-Resets": "00:00 UTC"},
            }
        ),
    )
    return Gateway([route])


def _get(gateway: Gateway, token: str = "Bearer t"):  # type: ignore[no-untyped-def]
    return gateway.handle("GET", "/products", [("Authorization", token)], b"")


def test_a_throttled_request_is_api_gateways_429_and_never_reaches_the_handler() -> None:
    handler = Function()
    gateway = _metered_gateway(handler, _authorizer("key-basic"), Clocks())

    answers = [_get(gateway) for _ in range(5)]

    assert [a.status for a in answers] == [200, 200, 200, 429, 429]
    throttled = answers[-1]
    assert json.loads(throttled.body) == {"message": "Too Many Requests"}
    assert ("Retry-After", "1") in throttled.headers
    assert ("x-amzn-ErrorType", "TooManyRequestsException") in throttled.headers
    assert handler.calls == 3
    assert gateway.invocations["key-basic"] == 3


def test_a_spent_quota_is_api_gateways_limit_exceeded() -> None:
    clocks = Clocks()
    handler = Function()
    gateway = _metered_gateway(handler, _authorizer("key-basic"), clocks)
    for _ in range(10):
        clocks.advance(1)
        assert _get(gateway).status == 200

    spent = _get(gateway)

    assert spent.status == 429
    assert json.loads(spent.body) == {"message": "Limit Exceeded"}
    assert ("X-Quota-Resets", "00:00 UTC") in spent.headers
    assert handler.calls == 10


def test_a_metered_method_without_a_usage_key_is_forbidden() -> None:
    handler = Function()
    gateway = _metered_gateway(handler, _authorizer(None), Clocks())

    answer = _get(gateway)

    assert answer.status == 403
    assert json.loads(answer.body) == {"message": "Forbidden"}
    assert handler.calls == 0


def test_a_flush_of_the_stage_drops_the_cached_answers_of_that_stage_only() -> None:
    authorizer = _authorizer("key-premium")
    gateway = _metered_gateway(Function(), authorizer, Clocks())
    counts = {"api1/prod": 0, "api2/prod": 0}
    watcher = AuthorizerFlushWatcher(gateway, lambda: dict(counts))
    watcher.poll()  # the flushes so far
    _get(gateway)
    _get(gateway)
    assert authorizer.calls == 1  # cached per token

    counts["api2/prod"] += 1
    watcher.poll()
    _get(gateway)
    counts["api1/prod"] += 1
    flushed = watcher.poll()
    _get(gateway)

    assert flushed == 1
    assert authorizer.calls == 2  # asked again after its own stage's flush only


def test_a_deny_answers_the_apis_access_denied_template_with_the_authorizers_context() -> None:
    def deny(event: object) -> dict[str, object]:
        return {
            "principalId": "user-1",
            "policyDocument": {
                "Statement": [{"Effect": "Deny", "Action": "execute-api:Invoke", "Resource": "*"}]
            },
            "context": {"tenant_id": "t1", "reason": "tenant t1 is SUSPENDED"},
        }

    route = GatewayRoute(
        "GET",
        "/products",
        Function(),
        "api1",
        "prod",
        "us-east-1",
        RouteAuthorizer(deny, "TOKEN", ("Authorization",), AuthorizerCache(300)),
        responses=ApiResponses(
            templates={"ACCESS_DENIED": '{"message": "$context.authorizer.reason"}'}
        ),
    )

    answer = _get(Gateway([route]))

    assert answer.status == 403
    assert json.loads(answer.body) == {"message": "tenant t1 is SUSPENDED"}
