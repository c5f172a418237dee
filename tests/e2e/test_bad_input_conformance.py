"""Every API refuses alike what no API may accept, over every route of every service template.

The routes are read from each `services/*/template.yaml`'s `Api` events; each request goes
through one local platform's gateway (`Gateway.handle`: the real authorizer and handlers, no
socket). tests/e2e/test_api_conformance.py fuzzes each API from its own document; this sends
what a fuzzer seldom builds, and holds every API to one rule (docs/conventions.md, "Inside a
service"):

- a body that is not UTF-8, not JSON, JSON nested too deeply or with a number too long to read,
  or larger than MAX_BODY_BYTES (1 MiB, the one limit of every API): 400;
- JSON that is not one object (an array, even `[<valid body>, "junk"]`, a scalar, null): 422;
- an object with wrong-typed, nested junk or unknown fields: 422, naming the field;
- a body sent as anything but application/json: 415;
- no token, or one the authorizer refuses: 401; a role the route does not allow: 403;
  an unknown id: 404; a method the resource does not have: API Gateway's 403 "Missing
  Authentication Token"; a path no template declares: 404.

Every answer is a status the route documents in its service's `contracts/openapi.json`, with a
JSON body of the schema documented for that status whose `message` says what is wrong; and
nothing was written (the route's collection reads the same before and after). A failure names
the service, the route and the case.
"""

from __future__ import annotations

import json
import re
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from cfnlint.decode import cfn_yaml
from jsonschema import Draft202012Validator

sys.path.insert(0, str(Path(__file__).parent))

from tenant_e2e_kit import onboard, tenant_status

ROOT = Path(__file__).resolve().parents[2]
MAX_BODY_BYTES = 1024 * 1024
PASSWORD = "Conformance-Passw0rd-1"
ROLES = ("SystemAdmin", "TenantAdmin", "TenantUser")  # a route is called as the first allowed
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")

pytestmark = pytest.mark.slow


# -- the routes, their documents and their permissions --------------------------------------


@dataclass(frozen=True)
class Route:
    service: str
    method: str
    path: str  # as the template writes it: /orders/{order_id}

    @property
    def key(self) -> tuple[str, str]:
        return route_key(self.method, self.path)

    def __str__(self) -> str:
        return f"{self.service}:{self.method} {self.path}"


def route_key(method: str, path: str) -> tuple[str, str]:
    """(METHOD, path with each parameter written `{}`): parameter names do not matter."""
    return method.upper(), re.sub(r"\{[^/}]+\}", "{}", path)


def template_routes() -> list[Route]:
    routes = []
    for template in sorted(ROOT.glob("services/*/template.yaml")):
        resources = dict(cfn_yaml.load(str(template))).get("Resources") or {}
        for resource in resources.values():
            if resource.get("Type") != "AWS::Serverless::Function":
                continue
            for event in ((resource.get("Properties") or {}).get("Events") or {}).values():
                if event.get("Type") == "Api":
                    props = event["Properties"]
                    routes.append(
                        Route(template.parent.name, str(props["Method"]).upper(), props["Path"])
                    )
    return routes


@cache
def openapi(service: str) -> dict[str, Any]:
    path = ROOT / "services" / service / "contracts" / "openapi.json"
    return dict(json.loads(path.read_text())) if path.is_file() else {"paths": {}}


def operations(service: str, path: str) -> dict[str, dict[str, Any]]:
    """The documented operations of the path, by upper-case method."""
    for documented, ops in openapi(service)["paths"].items():
        if route_key("GET", documented) == route_key("GET", path):
            return {method.upper(): op for method, op in ops.items()}
    return {}


def operation(route: Route) -> dict[str, Any]:
    return operations(route.service, route.path).get(route.method, {})


def route_roles() -> dict[tuple[str, str], frozenset[str]]:
    """Who may call each route: the services' own permission files (docs/conventions.md,
    "Route permissions"), or, where no service has one, the authorizer's table."""
    files = sorted(ROOT.glob("services/*/src/*/entrypoints/permissions.json"))
    if files:
        return {
            route_key(entry["method"], entry["path"]): frozenset(entry["roles"])
            for file in files
            for entry in json.loads(file.read_text())["routes"]
        }
    from tenant_service.domain.permissions import PERMISSIONS

    return {route_key(p.method, p.path): frozenset(p.roles) for p in PERMISSIONS}


ROUTES = template_routes()
ROLES_OF = route_roles()
BODY_ROUTES = [r for r in ROUTES if "requestBody" in operation(r)]


def forbids_unknown_fields(route: Route) -> bool:
    """Whether the route's documented body schema is closed (additionalProperties: false)."""
    schema = operation(route)["requestBody"]["content"]["application/json"]["schema"]
    while "$ref" in schema:
        schema = openapi(route.service)["components"]["schemas"][schema["$ref"].split("/")[-1]]
    return schema.get("additionalProperties") is False


ITEM_ROUTES = [r for r in ROUTES if "{" in r.path]
RESOURCES = sorted({(r.service, r.path) for r in ROUTES})


def caller_of(method: str, path: str) -> str:
    allowed = ROLES_OF.get(route_key(method, path), frozenset())
    return next(role for role in ROLES if role in allowed)


# -- valid bodies, from which the bad ones are made --------------------------------------------

PRODUCT = {"name": "Conformance mug", "sku": "CONF-1", "price": "12.50", "stock": 5}
VALID_BODIES: dict[tuple[str, str], Callable[[dict[str, str]], dict[str, Any]]] = {
    ("POST", "/orders"): lambda ids: {"lines": [{"product_id": ids["product_id"], "quantity": 1}]},
    ("POST", "/products"): lambda ids: PRODUCT,
    ("PUT", "/products/{}"): lambda ids: {**PRODUCT, "stock": 7},
    ("POST", "/tenants"): lambda ids: {
        "name": "Never",
        "tier": "basic",
        "region_group": "us",
        "admin_email": "never@conformance.test",
    },
    ("PATCH", "/tenants/{}"): lambda ids: {"tier": "premium"},
    ("POST", "/users"): lambda ids: {"email": "never@conformance.test", "role": "TenantUser"},
}


def _json(value: Any) -> bytes:
    return json.dumps(value).encode()


def _junk_fields(valid: dict[str, Any], junk: Any) -> bytes:
    return _json({name: junk for name in valid})


def _nested(depth: int) -> Any:
    value: Any = {"a": [1, None, {"b": "c"}]}
    for _ in range(depth):
        value = [value]
    return value


def _long_number(valid: dict[str, Any]) -> bytes:
    first = next(iter(valid))
    return _json({**valid, first: 0}).replace(b": 0", b": " + b"9" * 5000, 1)


def _padded(body: bytes, size: int) -> bytes:
    """The JSON object `body`, `size` bytes long (spaces before its closing brace)."""
    return body[:-1] + b" " * (size - len(body)) + b"}"


@dataclass(frozen=True)
class Case:
    name: str
    body: Callable[[dict[str, Any]], bytes]
    status: int
    says: tuple[str, ...]  # the message names one of these (case-insensitive); () = the fields
    content_type: str = "application/json"
    closed: bool = False  # only for a body whose document forbids unknown fields


BODY_CASES = [
    Case("array of a valid body and junk", lambda v: _json([v, "junk"]), 422, ("object",)),
    Case("array of a valid body", lambda v: _json([v]), 422, ("object",)),
    Case("empty array", lambda v: b"[]", 422, ("object",)),
    Case("number", lambda v: b"42", 422, ("object",)),
    Case("string", lambda v: b'"a string"', 422, ("object",)),
    Case("true", lambda v: b"true", 422, ("object",)),
    Case("null", lambda v: b"null", 422, ("object",)),
    Case(
        "unknown field",
        lambda v: _json({**v, "unexpected_field": 1}),
        422,
        ("unexpected",),
        closed=True,
    ),
    Case("fields of the wrong type", lambda v: _junk_fields(v, {"$ne": None}), 422, ()),
    Case("fields of nested junk", lambda v: _junk_fields(v, _nested(40)), 422, ()),
    Case("fields of text where numbers go", lambda v: _junk_fields(v, "1e999"), 422, ()),
    Case("nesting too deep", lambda v: b"[" * 100_000 + b"]" * 100_000, 400, ("deep",)),
    Case(
        "objects nested too deep",
        lambda v: b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
        400,
        ("deep",),
    ),
    Case("a number too long", _long_number, 400, ("digits",)),
    Case("malformed JSON", lambda v: b'{"name": ', 400, ("JSON",)),
    Case("JSON then junk", lambda v: _json(v) + b" junk", 400, ("JSON",)),
    Case("not UTF-8", lambda v: b"\xff\xfe" + _json(v), 400, ("UTF-8",)),
    Case(
        "Latin-1 text",
        lambda v: json.dumps({**v, "caf\xe9": "\xe9"}, ensure_ascii=False).encode("latin-1"),
        400,
        ("UTF-8",),
    ),
    Case("text/plain", _json, 415, ("Content-Type",), "text/plain"),
    Case("multipart without boundary", _json, 415, ("Content-Type",), "multipart/form-data"),
    Case(
        "form data",
        lambda v: b"a=1&b=2",
        415,
        ("Content-Type",),
        "application/x-www-form-urlencoded",
    ),
    Case(
        f"valid, over {MAX_BODY_BYTES} bytes",
        lambda v: _padded(_json(v), MAX_BODY_BYTES + 1),
        400,
        (str(MAX_BODY_BYTES),),
    ),
    # At the limit the body is read: its unknown field is what is refused, not its size.
    Case(
        f"{MAX_BODY_BYTES} bytes with an unknown field",
        lambda v: _padded(_json({**v, "unexpected_field": 1}), MAX_BODY_BYTES),
        422,
        ("unexpected",),
        closed=True,
    ),
]


# -- one platform for the module ---------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    status: int
    raw: bytes
    body: Any = field(default=None)


@dataclass
class World:
    platform: Any
    tokens: dict[str, str]  # role -> ID token
    ids: dict[str, str]  # path parameter -> an existing id

    def call(
        self,
        method: str,
        path: str,
        token: str | None,
        body: bytes = b"",
        content_type: str | None = "application/json",
    ) -> Answer:
        headers = [("Authorization", f"Bearer {token}")] if token is not None else []
        if content_type and body:
            headers.append(("Content-Type", content_type))
        response = self.platform.platform.gateway.handle(method, path, headers, body)
        try:
            parsed = json.loads(response.body)
        except ValueError:
            parsed = None
        return Answer(response.status, response.body, parsed)

    def target(self, path: str, ids: dict[str, str] | None = None) -> str:
        """The template path with each parameter an existing id (or one from `ids`)."""
        chosen = {**self.ids, **(ids or {})}
        return re.sub(r"\{([^/}]+)\}", lambda m: chosen[m.group(1)], path)

    def collection(self, route: Route) -> dict[str, Any]:
        """What the route could write, read back: its collection's listing (and the item)."""
        collection = "/" + route.path.strip("/").split("/")[0]
        token = self.tokens[caller_of("GET", collection)]
        answer = self.call("GET", f"{collection}?limit=100", token)
        assert answer.status == 200, (collection, answer.raw[:300])
        if collection == "/usage":
            # The usage routes write nothing; their figures count every call, refused ones too
            # (the authorizer's run is metered under _shared), so what must not change is which
            # tenants have usage, not the counts.
            return {"tenants": sorted(t["tenant_id"] for t in answer.body["tenants"])}
        return dict(answer.body)


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    from saas_local.testing import start_platform

    with start_platform(ROOT, region_map={"us": "us-east-1"}) as platform:
        root = platform.login(*platform.system_admin)
        suffix = uuid.uuid4().hex[:8]
        tenant_id = onboard(platform, root, f"owner-{suffix}@conformance.test")
        platform.wait_until(
            lambda: tenant_status(platform, root, tenant_id) == "ACTIVE", timeout=120
        )
        tokens = {"SystemAdmin": root}
        for role in ("TenantAdmin", "TenantUser"):
            platform.create_user(f"{role.lower()}-{suffix}", PASSWORD, role, tenant_id)
            tokens[role] = platform.login(f"{role.lower()}-{suffix}", PASSWORD)
        created = platform.api("POST", "/products", token=tokens["TenantAdmin"], json=PRODUCT)
        assert created.status == 201, created.text
        product_id = created.json()["id"]
        order_id = _settled_order(platform, tokens["TenantAdmin"], product_id)
        member = {"email": f"member-{suffix}@conformance.test", "role": "TenantUser"}
        invited = platform.api("POST", "/users", token=tokens["TenantAdmin"], json=member)
        assert invited.status == 201, invited.text
        ids = {
            "tenant_id": tenant_id,
            "product_id": product_id,
            "order_id": order_id,
            "username": invited.json()["username"],
        }
        yield World(platform, tokens, ids)


def _settled_order(platform: Any, token: str, product_id: str) -> str:
    """An order the saga has decided: the order service knows the product, and nothing moves
    while the cases run (a bad body accepted would show as a change)."""
    lines = {"lines": [{"product_id": product_id, "quantity": 1}]}

    def placed() -> str | None:
        answer = platform.api("POST", "/orders", token=token, json=lines)
        return str(answer.json()["id"]) if answer.status == 202 else None

    order_id = str(platform.wait_until(placed, timeout=60, interval=0.2))

    def decided() -> bool:
        answer = platform.api("GET", f"/orders/{order_id}", token=token)
        return bool(answer.json().get("status") != "PENDING")

    platform.wait_until(decided, timeout=60, interval=0.2)
    return order_id


# -- what every answer must be ---------------------------------------------------------------


def assert_documented_problem(
    answer: Answer, status: int, documented: dict[str, Any], service: str, says: tuple[str, ...]
) -> None:
    """The expected 4xx, documented for the operation, a JSON body of its documented schema
    with a `message` naming one of `says`."""
    assert answer.status == status, answer.raw[:500]
    assert str(status) in documented["responses"], (
        f"{status} is not documented: {sorted(documented['responses'])}"
    )
    assert isinstance(answer.body, dict), answer.raw[:500]
    message = answer.body.get("message")
    assert isinstance(message, str), answer.body
    assert message.strip(), answer.body
    assert "Traceback" not in message
    assert "Internal server error" not in message
    if says:
        assert any(word.lower() in message.lower() for word in says), (message, says)
    content = documented["responses"][str(status)].get("content", {})
    schema = content.get("application/json", {}).get("schema")
    assert schema is not None, f"{status} documents no JSON body"
    validator = Draft202012Validator({**schema, "components": openapi(service)["components"]})
    errors = [e.message for e in validator.iter_errors(answer.body)]
    assert errors == [], errors


# -- the structure the cases rely on ---------------------------------------------------------


def test_the_templates_declare_the_apis() -> None:
    assert {r.service for r in ROUTES} >= {"order", "product", "tenant"}
    assert {r.service for r in BODY_ROUTES} >= {"order", "product", "tenant"}


@pytest.mark.parametrize("route", ROUTES, ids=str)
def test_every_route_is_documented_and_has_its_permissions(route: Route) -> None:
    assert operation(route), f"{route} is not in services/{route.service}/contracts/openapi.json"
    assert ROLES_OF.get(route.key), f"{route} has no permission entry"


@pytest.mark.parametrize("route", BODY_ROUTES, ids=str)
def test_every_route_that_takes_a_body_has_a_valid_one_here(route: Route) -> None:
    assert route.key in VALID_BODIES, f"add a valid body of {route} to VALID_BODIES"


# -- the bodies no API may accept ------------------------------------------------------------


@pytest.mark.parametrize(
    ("route", "case"),
    [
        pytest.param(r, c, id=f"{r}:{c.name}")
        for r in BODY_ROUTES
        for c in BODY_CASES
        if forbids_unknown_fields(r) or not c.closed
    ],
)
def test_a_body_no_api_may_accept_is_refused_alike_and_writes_nothing(
    world: World, route: Route, case: Case
) -> None:
    valid = VALID_BODIES[route.key](world.ids)
    says = case.says or tuple(valid)  # a field's problem names the field
    before = world.collection(route)

    answer = world.call(
        route.method,
        world.target(route.path),
        world.tokens[caller_of(route.method, route.path)],
        case.body(valid),
        case.content_type,
    )

    assert_documented_problem(answer, case.status, operation(route), route.service, says)
    assert world.collection(route) == before, "the refused request wrote something"


# -- the answers every API gives alike -------------------------------------------------------


def _valid_body(world: World, route: Route) -> bytes:
    maker = VALID_BODIES.get(route.key)
    return _json(maker(world.ids)) if maker else b""


@pytest.mark.parametrize(
    ("route", "token"),
    [
        pytest.param(r, t, id=f"{r}:{name}")
        for r in ROUTES
        for name, t in (("no token", None), ("a token that is not one", "not-a-jwt"))
    ],
)
def test_a_call_without_a_valid_token_is_401(world: World, route: Route, token: str | None) -> None:
    before = world.collection(route)

    answer = world.call(route.method, world.target(route.path), token, _valid_body(world, route))

    assert_documented_problem(answer, 401, operation(route), route.service, ("Unauthorized",))
    assert world.collection(route) == before


@pytest.mark.parametrize(
    ("route", "role"),
    [
        pytest.param(r, role, id=f"{r}:{role}")
        for r in ROUTES
        for role in ROLES
        if role not in ROLES_OF.get(r.key, frozenset(ROLES))
    ],
)
def test_a_role_the_route_does_not_allow_is_403(world: World, route: Route, role: str) -> None:
    before = world.collection(route)

    answer = world.call(
        route.method, world.target(route.path), world.tokens[role], _valid_body(world, route)
    )

    assert_documented_problem(answer, 403, operation(route), route.service, ("not",))
    assert world.collection(route) == before


@pytest.mark.parametrize("route", ITEM_ROUTES, ids=str)
def test_an_unknown_id_is_404(world: World, route: Route) -> None:
    unknown = {name: f"unknown-{uuid.uuid4().hex}" for name in world.ids}
    before = world.collection(route)

    answer = world.call(
        route.method,
        world.target(route.path, unknown),
        world.tokens[caller_of(route.method, route.path)],
        _valid_body(world, route),
    )

    sent = tuple(unknown[name] for name in re.findall(r"\{([^/}]+)\}", route.path))
    assert_documented_problem(answer, 404, operation(route), route.service, sent)
    assert world.collection(route) == before


@pytest.mark.parametrize(
    ("service", "path", "method"),
    [
        pytest.param(s, p, m, id=f"{s}:{m} {p}")
        for s, p in RESOURCES
        for m in METHODS
        if Route(s, m, p) not in ROUTES
    ],
)
def test_a_method_the_resource_lacks_is_api_gateways_403(
    world: World, service: str, path: str, method: str
) -> None:
    token = world.tokens["TenantAdmin"]

    answer = world.call(method, world.target(path), token, b"{}")

    documented = next(iter(operations(service, path).values()))  # any: they all document 403
    assert_documented_problem(answer, 403, documented, service, ("Missing Authentication Token",))


@pytest.mark.parametrize("service", sorted({r.service for r in ROUTES}))
def test_a_path_no_template_declares_is_404(world: World, service: str) -> None:
    collection = next(r.path for r in ROUTES if r.service == service).split("/")[1]

    answer = world.call("GET", f"/{collection}/some-id/no-such-thing", world.tokens["TenantAdmin"])

    assert answer.status == 404
    assert isinstance(answer.body, dict), answer.raw
    assert answer.body.get("message"), answer.raw
