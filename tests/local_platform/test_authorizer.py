"""API Gateway's evaluation of an authorizer's policy, and its cache of answers."""

from __future__ import annotations

import pytest

from saas_local.authorizer import (
    AuthorizerAnswer,
    AuthorizerCache,
    Decision,
    InvalidAuthorizerResponse,
    evaluate_policy,
)

ARN = "arn:aws:execute-api:us-east-1:123456789012:api1/Prod/GET/orders/42"


def _policy(*statements):
    return {"Version": "2012-10-17", "Statement": list(statements)}


def _statement(effect, resource, action="execute-api:Invoke"):
    return {"Effect": effect, "Action": action, "Resource": resource}


@pytest.mark.parametrize(
    ("resource", "decision"),
    [
        (ARN, Decision.ALLOW),
        ("arn:aws:execute-api:us-east-1:123456789012:api1/Prod/*/*", Decision.ALLOW),
        ("arn:aws:execute-api:us-east-1:123456789012:api1/*", Decision.ALLOW),
        ("arn:aws:execute-api:us-east-1:123456789012:api1/Prod/GET/orders/*", Decision.ALLOW),
        ("arn:aws:execute-api:us-east-1:123456789012:api1/Prod/GET/orders/4?", Decision.ALLOW),
        ("arn:aws:execute-api:us-east-1:123456789012:api1/Prod/POST/*", Decision.IMPLICIT_DENY),
        ("arn:aws:execute-api:us-east-1:123456789012:api2/*", Decision.IMPLICIT_DENY),
        ("arn:aws:execute-api:us-east-1:123456789012:api1/Prod/GET/orders", Decision.IMPLICIT_DENY),
    ],
)
def test_an_allow_matches_the_method_arn_with_iam_wildcards(resource, decision):
    assert evaluate_policy(_policy(_statement("Allow", resource)), ARN) is decision


def test_an_explicit_deny_wins_over_an_allow():
    policy = _policy(_statement("Allow", "*"), _statement("Deny", ARN))

    assert evaluate_policy(policy, ARN) is Decision.EXPLICIT_DENY


def test_a_deny_elsewhere_does_not_deny_this_method():
    policy = _policy(_statement("Allow", "*"), _statement("Deny", ARN.replace("GET", "PUT")))

    assert evaluate_policy(policy, ARN) is Decision.ALLOW


@pytest.mark.parametrize(
    ("action", "decision"),
    [
        ("execute-api:*", Decision.ALLOW),
        ("*", Decision.ALLOW),
        (["s3:GetObject", "execute-api:Invoke"], Decision.ALLOW),
        ("s3:GetObject", Decision.IMPLICIT_DENY),
    ],
)
def test_only_statements_for_execute_api_invoke_count(action, decision):
    assert evaluate_policy(_policy(_statement("Allow", "*", action)), ARN) is decision


def test_a_policy_without_statements_denies():
    assert evaluate_policy(_policy(), ARN) is Decision.IMPLICIT_DENY


def test_an_answer_is_read_with_its_context_and_principal():
    answer = AuthorizerAnswer.from_response(
        {"principalId": "u1", "policyDocument": _policy(), "context": {"tenant_id": "t1", "n": 2}}
    )

    assert answer.request_context() == {"tenant_id": "t1", "n": 2, "principalId": "u1"}


@pytest.mark.parametrize(
    "response",
    [
        None,
        {"policyDocument": {}},
        {"principalId": "u1"},
        {"principalId": "u1", "policyDocument": {}, "context": {"nested": {"a": 1}}},
    ],
)
def test_an_answer_api_gateway_would_reject_is_invalid(response):
    with pytest.raises(InvalidAuthorizerResponse):
        AuthorizerAnswer.from_response(response)


class _Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def _answer(principal="u1"):
    return AuthorizerAnswer(principal, _policy(), {})


def test_a_cached_answer_is_reused_until_the_ttl_passes():
    clock = _Clock()
    cache = AuthorizerCache(ttl_seconds=300, clock=clock)
    cache.put(("token-a",), _answer())

    clock.now += 299
    assert cache.get(("token-a",)) == _answer()
    clock.now += 1
    assert cache.get(("token-a",)) is None


def test_answers_are_cached_per_identity_source():
    cache = AuthorizerCache(ttl_seconds=300, clock=_Clock())
    cache.put(("token-a",), _answer("a"))

    assert cache.get(("token-b",)) is None
    assert cache.get(("token-a",)).principal_id == "a"


def test_a_ttl_of_zero_disables_the_cache():
    cache = AuthorizerCache(ttl_seconds=0, clock=_Clock())
    cache.put(("token-a",), _answer())

    assert cache.get(("token-a",)) is None
