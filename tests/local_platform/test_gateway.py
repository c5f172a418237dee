"""The gateway's request path without a server: routing as API Gateway routes, the authorizer's
outcomes as API Gateway answers them, and the proxy response mapping."""

from __future__ import annotations

import json

import pytest

from saas_local.authorizer import AuthorizerCache
from saas_local.gateway import Gateway, GatewayRoute, RouteAuthorizer
from saas_local.workers import InvocationError


class Function:
    """A stand-in for a deployed function: records its events, answers with `answer`."""

    def __init__(self, answer=None, error=None):
        self.events = []
        self.answer = answer if answer is not None else {"statusCode": 200, "body": "ok"}
        self.error = error

    def __call__(self, event):
        self.events.append(event)
        if self.error:
            raise InvocationError("Exception", self.error)
        return self.answer(event) if callable(self.answer) else self.answer


def _allow(resource="*", context=None):
    return {
        "principalId": "user-1",
        "policyDocument": {
            "Statement": [{"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": resource}]
        },
        "context": context or {"tenant_id": "t1"},
    }


def _gateway(handler, authorizer=None, payload_type="TOKEN", ttl=300):
    auth = None
    if authorizer is not None:
        auth = RouteAuthorizer(authorizer, payload_type, ("Authorization",), AuthorizerCache(ttl))
    routes = [
        GatewayRoute("GET", "/orders", handler, "api1", "Prod", "us-east-1", auth),
        GatewayRoute("POST", "/orders", handler, "api1", "Prod", "us-east-1", auth),
        GatewayRoute("GET", "/orders/{order_id}", handler, "api1", "Prod", "us-east-1", auth),
        GatewayRoute("GET", "/orders/mine", handler, "api1", "Prod", "us-east-1", auth),
        GatewayRoute("ANY", "/files/{proxy+}", handler, "api1", "Prod", "us-east-1", auth),
    ]
    return Gateway(routes)


def _get(gateway, target, token="Bearer t", method="GET", body=b""):
    headers = [("Authorization", token)] if token else []
    return gateway.handle(method, target, headers, body)


def test_path_variables_and_greedy_paths_are_matched_as_api_gateway_does():
    handler = Function()
    gateway = _gateway(handler)

    _get(gateway, "/orders/o-1")
    _get(gateway, "/orders/mine")
    _get(gateway, "/files/a/b%20c.txt", method="PUT")

    resources = [(e["resource"], e["pathParameters"]) for e in handler.events]
    assert resources == [
        ("/orders/{order_id}", {"order_id": "o-1"}),
        ("/orders/mine", None),
        ("/files/{proxy+}", {"proxy": "a/b c.txt"}),
    ]


def test_no_resource_is_404_and_a_missing_method_is_api_gateways_403():
    gateway = _gateway(Function())

    assert _get(gateway, "/customers").status == 404
    missing_method = _get(gateway, "/orders", method="DELETE")
    assert missing_method.status == 403
    assert json.loads(missing_method.body) == {"message": "Missing Authentication Token"}


def test_a_body_that_is_not_text_arrives_base64_encoded():
    handler = Function()

    _get(_gateway(handler), "/orders", method="POST", body=b"\xff\x00")

    assert handler.events[0]["isBase64Encoded"] is True
    assert handler.events[0]["body"] == "/wA="


def test_the_proxy_response_becomes_the_http_response():
    answer = {
        "statusCode": 201,
        "headers": {"Location": "/orders/1"},
        "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"]},
        "body": "e30=",
        "isBase64Encoded": True,
    }

    response = _get(_gateway(Function(answer)), "/orders", method="POST")

    assert response.status == 201
    assert ("Location", "/orders/1") in response.headers
    assert [v for k, v in response.headers if k == "Set-Cookie"] == ["a=1", "b=2"]
    assert response.body == b"{}"


@pytest.mark.parametrize("answer", [{"body": "no status"}, "text", None])
def test_a_malformed_or_failed_handler_is_a_502(answer):
    handler = Function(answer) if answer is not None else Function(error="boom")

    response = _get(_gateway(handler), "/orders")

    assert response.status == 502
    assert json.loads(response.body) == {"message": "Internal server error"}


def test_the_authorizer_gets_a_token_event_and_its_context_reaches_the_handler():
    handler, authorizer = Function(), Function(_allow(context={"tenant_id": "t9", "tier": "basic"}))

    response = _get(_gateway(handler, authorizer), "/orders/o-1", token="Bearer abc")

    assert response.status == 200
    assert authorizer.events == [
        {
            "type": "TOKEN",
            "authorizationToken": "Bearer abc",
            "methodArn": "arn:aws:execute-api:us-east-1:123456789012:api1/Prod/GET/orders/o-1",
        }
    ]
    assert handler.events[0]["requestContext"]["authorizer"] == {
        "tenant_id": "t9",
        "tier": "basic",
        "principalId": "user-1",
    }


def test_a_request_authorizer_gets_the_whole_request():
    handler, authorizer = Function(), Function(_allow())

    _get(_gateway(handler, authorizer, payload_type="REQUEST"), "/orders?x=1")

    event = authorizer.events[0]
    assert event["type"] == "REQUEST"
    assert event["queryStringParameters"] == {"x": "1"}
    assert event["headers"]["Authorization"] == "Bearer t"


@pytest.mark.parametrize(
    ("authorizer", "token", "status"),
    [
        (Function(_allow()), None, 401),
        (Function(error="Unauthorized"), "Bearer t", 401),
        (Function(error="something else broke"), "Bearer t", 500),
        (Function({"principalId": "u"}), "Bearer t", 500),
        (Function(_allow(resource="arn:aws:execute-api:*:*:api1/Prod/POST/*")), "Bearer t", 403),
    ],
)
def test_the_authorizers_outcomes(authorizer, token, status):
    handler = Function()

    response = _get(_gateway(handler, authorizer), "/orders", token=token)

    assert response.status == status
    assert handler.events == []


def test_the_cached_policy_is_evaluated_for_each_method():
    # Given an authorizer that allows GET only, answering once per token
    authorizer = Function(_allow(resource="arn:aws:execute-api:*:*:api1/Prod/GET/*"))
    gateway = _gateway(Function(), authorizer)

    assert _get(gateway, "/orders").status == 200
    assert _get(gateway, "/orders", method="POST").status == 403
    assert _get(gateway, "/orders/o-2").status == 200
    assert len(authorizer.events) == 1


def test_without_a_ttl_the_authorizer_runs_on_every_request():
    authorizer = Function(_allow())
    gateway = _gateway(Function(), authorizer, ttl=0)

    _get(gateway, "/orders")
    _get(gateway, "/orders")

    assert len(authorizer.events) == 2


def test_two_templates_declaring_the_same_route_is_an_error():
    route = GatewayRoute("GET", "/orders", Function(), "api1", "Prod", "us-east-1")

    with pytest.raises(ValueError, match="GET /orders"):
        Gateway([route, GatewayRoute("GET", "/orders", Function(), "a2", "Prod", "us-east-1")])


def test_a_502_says_why_in_the_log(caplog):
    handler = Function(error="the database is down")

    with caplog.at_level("WARNING", logger="saas_local.gateway"):
        response = _get(_gateway(handler), "/orders")

    assert response.status == 502
    assert "GET /orders -> 502: Exception: the database is down" in caplog.text
