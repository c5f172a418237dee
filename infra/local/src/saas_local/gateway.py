"""The HTTP gateway: API Gateway's REST proxy integration on 127.0.0.1, with the Lambda
authorizer of each route (its answers cached per token until the TTL or a flush of the stage's
authorizer cache), the usage plans of the route's stage when the method requires an API key,
serving exactly the routes the templates declare."""

from __future__ import annotations

import base64
import collections
import contextlib
import json
import logging
import math
import re
import socket
import threading
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlsplit

from saas_local import lambda_events
from saas_local.authorizer import (
    AuthorizerAnswer,
    AuthorizerCache,
    Decision,
    InvalidAuthorizerResponse,
    evaluate_policy,
)
from saas_local.usage_plans import UsagePlanEnforcer, Verdict
from saas_local.workers import InvocationError

Invoke = Callable[[Any], Any]
log = logging.getLogger("saas_local.gateway")

# API Gateway's REST integration timeout (its default and, for edge APIs, its ceiling): past it
# the caller gets 504 "Endpoint request timed out" while the function runs on.
INTEGRATION_TIMEOUT_SECONDS = 29.0


@dataclass
class RouteAuthorizer:
    invoke: Invoke
    payload_type: str  # TOKEN or REQUEST
    identity_headers: tuple[str, ...]
    cache: AuthorizerCache


@dataclass(frozen=True)
class ApiResponses:
    """What the route's API answers by itself, as its template says: the CORS preflight of each
    resource (OPTIONS, SAM's mock integration for `Cors`: the headers it answers) and the headers
    of its gateway responses (`GatewayResponses`: DEFAULT_4XX, UNAUTHORIZED...), put on the
    errors the gateway itself answers."""

    preflight: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # resource -> headers
    gateway_responses: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    # application/json body templates by gateway response type (ACCESS_DENIED: the reason)
    templates: Mapping[str, str] = field(default_factory=dict)

    def error_headers(self, status: int, error_type: str) -> Mapping[str, str]:
        kind = "INTEGRATION_TIMEOUT" if status == 504 else GATEWAY_RESPONSE_TYPES.get(error_type)
        default = "DEFAULT_4XX" if status < 500 else "DEFAULT_5XX"
        for candidate in (kind, default):
            if candidate is not None and candidate in self.gateway_responses:
                return self.gateway_responses[candidate]
        return {}


# API Gateway's gateway response type for each error the gateway answers itself.
GATEWAY_RESPONSE_TYPES = {
    "UnauthorizedException": "UNAUTHORIZED",
    "AccessDeniedException": "ACCESS_DENIED",
    "MissingAuthenticationTokenException": "MISSING_AUTHENTICATION_TOKEN",
    "NotFoundException": "RESOURCE_NOT_FOUND",
    "AuthorizerConfigurationException": "AUTHORIZER_CONFIGURATION_ERROR",
    "InternalServerErrorException": "INTEGRATION_FAILURE",
    "TooManyRequestsException": "THROTTLED",
    "LimitExceededException": "QUOTA_EXCEEDED",
}


@dataclass
class GatewayRoute:
    method: str  # upper case or ANY
    resource: str  # /orders/{order_id}
    invoke: Invoke
    api_id: str
    stage: str
    region: str
    authorizer: RouteAuthorizer | None = None
    responses: ApiResponses | None = None  # its API's own answers (CORS, gateway responses)
    # The stage's usage plans, when the method requires an API key (the authorizer's).
    usage: UsagePlanEnforcer | None = None
    integration_timeout: float = INTEGRATION_TIMEOUT_SECONDS
    pattern: re.Pattern[str] = field(init=False)

    def __post_init__(self) -> None:
        self.pattern = resource_pattern(self.resource)


def resource_pattern(resource: str) -> re.Pattern[str]:
    """`/orders/{id}` matches one path segment per variable; `{proxy+}` matches the rest."""
    regex = ""
    for part in re.split(r"(\{[^}]+\})", resource):
        if part.startswith("{") and part.endswith("+}"):
            regex += "(.+)"
        elif part.startswith("{"):
            regex += "([^/]+)"
        else:
            regex += re.escape(part)
    return re.compile(f"^{regex}/?$" if resource != "/" else "^/$")


def _path_parameters(route: GatewayRoute, match: re.Match[str]) -> dict[str, str]:
    names = [n[1:-1].rstrip("+") for n in re.findall(r"\{[^}]+\}", route.resource)]
    return {name: unquote(value) for name, value in zip(names, match.groups(), strict=True)}


@dataclass
class HttpResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    error_type: str | None = None  # an answer of the gateway itself (a gateway response)


def _gateway_error(status: int, message: str | None, error_type: str) -> HttpResponse:
    body = json.dumps({"message": message}).encode()
    return HttpResponse(
        status,
        [("Content-Type", "application/json"), ("x-amzn-ErrorType", error_type)],
        body,
        error_type,
    )


def _specificity(route: GatewayRoute) -> tuple[int, int, int]:
    # API Gateway prefers literal segments over variables, and variables over greedy ones.
    greedy = route.resource.count("+}")
    variables = route.resource.count("{")
    return (greedy, variables, -len(route.resource))


class Gateway:
    """Routes requests; `handle` is the whole request path, independent of the HTTP server."""

    def __init__(self, routes: Sequence[GatewayRoute]) -> None:
        self.routes = self._checked(routes)
        # Handler invocations per usage key ("" without one): what got past the usage plans.
        self.invocations: collections.Counter[str] = collections.Counter()
        self._count_lock = threading.Lock()

    @staticmethod
    def _checked(routes: Sequence[GatewayRoute]) -> list[GatewayRoute]:
        seen: set[tuple[str, str]] = set()
        for route in routes:
            key = (route.method, route.resource)
            if key in seen:
                raise ValueError(f"two templates declare {route.method} {route.resource}")
            seen.add(key)
        return sorted(routes, key=_specificity)

    def replace_routes(self, routes: Sequence[GatewayRoute]) -> None:
        """Serve `routes` from now on (a redeploy): one assignment, so a request sees either
        the old list or the new one; a route left out answers as an unknown one."""
        self.routes = self._checked(routes)

    def match(self, method: str, path: str) -> tuple[GatewayRoute, re.Match[str]] | bool | None:
        """(route, match); False when the path exists with other methods; None when no path."""
        path_known = False
        for route in self.routes:
            found = route.pattern.match(path)
            if not found:
                continue
            path_known = True
            if route.method in (method, "ANY"):
                return route, found
        return False if path_known else None

    def _api_of(self, path: str) -> tuple[str, ApiResponses] | None:
        """The resource the path names and its API's own answers; for a path no route has,
        those of the first API that has any (locally every API shares one origin)."""
        for route in self.routes:
            if route.responses is not None and route.pattern.match(path):
                return route.resource, route.responses
        return next((("", r.responses) for r in self.routes if r.responses is not None), None)

    def handle(
        self,
        method: str,
        target: str,
        headers: Sequence[tuple[str, str]],
        body: bytes,
        source_ip: str = "127.0.0.1",
    ) -> HttpResponse:
        path = urlsplit(target).path or "/"
        api = self._api_of(path)
        if (
            method == "OPTIONS"
            and api is not None
            and api[0] in api[1].preflight
            and not isinstance(self.match(method, path), tuple)
        ):
            # The CORS preflight: a mock integration, no authorizer (SAM's `Cors`).
            preflight = list(api[1].preflight[api[0]].items())
            return HttpResponse(200, [("Content-Type", "application/json"), *preflight], b"{}")
        response = self._handle(method, target, headers, body, source_ip)
        if response.error_type is not None and api is not None:
            extra = api[1].error_headers(response.status, response.error_type)
            present = {name.lower() for name, _ in response.headers}
            response.headers.extend((k, v) for k, v in extra.items() if k.lower() not in present)
        return response

    def _handle(
        self,
        method: str,
        target: str,
        headers: Sequence[tuple[str, str]],
        body: bytes,
        source_ip: str,
    ) -> HttpResponse:
        parts = urlsplit(target)
        path = parts.path or "/"
        found = self.match(method, path)
        if found is None:
            return _gateway_error(404, "Not Found", "NotFoundException")
        if found is False:
            # API Gateway's answer to a method the resource does not have.
            return _gateway_error(
                403, "Missing Authentication Token", "MissingAuthenticationTokenException"
            )
        assert not isinstance(found, bool)
        route, match = found
        request_id = str(uuid.uuid4())
        header_map = {k.lower(): v for k, v in headers}
        context = lambda_events.request_context(
            resource=route.resource,
            path=path,
            method=method,
            stage=route.stage,
            api_id=route.api_id,
            source_ip=source_ip,
            user_agent=header_map.get("user-agent"),
            request_id=request_id,
        )
        event = lambda_events.rest_proxy_event(
            method=method,
            path=path,
            resource=route.resource,
            query=parts.query,
            headers=headers,
            body=body,
            path_parameters=_path_parameters(route, match),
            context=context,
        )
        usage_key = ""
        if route.authorizer is not None:
            outcome = self._authorize(route, event, header_map)
            if isinstance(outcome, HttpResponse):
                return outcome
            event["requestContext"]["authorizer"] = outcome.request_context()
            usage_key = outcome.usage_key or ""
            if route.usage is not None:
                refused = self._meter(route, outcome.usage_key)
                if refused is not None:
                    return refused
        with self._count_lock:
            self.invocations[usage_key] += 1
        try:
            result = _invoke_within(route, event)
        except TimeoutError:
            log.warning(
                "%s %s -> 504: no answer within the integration timeout (%.0f s)",
                method,
                route.resource,
                route.integration_timeout,
            )
            return _gateway_error(504, "Endpoint request timed out", "InternalServerErrorException")
        except InvocationError as exc:
            # What CloudWatch would show for the 502: the function's error (a crash: Runtime.
            # ExitError) or its own timeout (Sandbox.Timedout) when that came first.
            log.warning("%s %s -> 502: %s", method, route.resource, exc)
            return _gateway_error(502, "Internal server error", "InternalServerErrorException")
        response = _proxy_response(result)
        if response.status == 502 and not (
            isinstance(result, Mapping) and result.get("statusCode") == 502
        ):
            log.warning("%s %s -> 502: malformed Lambda proxy response", method, route.resource)
        return response

    def flush_authorizer_caches(self, api_id: str, stage: str) -> None:
        """FlushStageAuthorizersCache of one API stage."""
        for route in self.routes:
            if route.authorizer is not None and (route.api_id, route.stage) == (api_id, stage):
                route.authorizer.cache.clear()

    def _meter(self, route: GatewayRoute, usage_key: str | None) -> HttpResponse | None:
        assert route.usage is not None
        if not usage_key:
            return _gateway_error(403, "Forbidden", "ForbiddenException")
        admission = route.usage.admit(usage_key, route.api_id, route.stage)
        if admission.verdict is Verdict.ALLOW:
            return None
        if admission.verdict is Verdict.NO_PLAN:
            return _gateway_error(403, "Forbidden", "ForbiddenException")
        throttled = admission.verdict is Verdict.THROTTLED
        response = _gateway_error(
            429,
            "Too Many Requests" if throttled else "Limit Exceeded",
            "TooManyRequestsException" if throttled else "LimitExceededException",
        )
        kind = "THROTTLED" if throttled else "QUOTA_EXCEEDED"  # its headers: handle() adds them
        log.info(
            "%s %s -> 429 %s (a request could pass in %d s)",
            route.method,
            route.resource,
            kind,
            math.ceil(admission.retry_after),
        )
        return response

    def _authorize(
        self, route: GatewayRoute, event: dict[str, Any], headers: Mapping[str, str]
    ) -> AuthorizerAnswer | HttpResponse:
        authorizer = route.authorizer
        assert authorizer is not None
        identity = tuple(headers.get(h.lower(), "") for h in authorizer.identity_headers)
        if not all(identity):
            return _gateway_error(401, "Unauthorized", "UnauthorizedException")
        arn = lambda_events.method_arn(
            route.region, route.api_id, route.stage, event["httpMethod"], event["path"]
        )
        answer = authorizer.cache.get(identity)
        if answer is None:
            request = (
                lambda_events.token_authorizer_event(identity[0], arn)
                if authorizer.payload_type == "TOKEN"
                else lambda_events.request_authorizer_event(event, arn)
            )
            try:
                answer = AuthorizerAnswer.from_response(authorizer.invoke(request))
            except InvocationError as exc:
                if exc.error_message == "Unauthorized":
                    return _gateway_error(401, "Unauthorized", "UnauthorizedException")
                log.warning("authorizer failed -> 500: %s", exc)
                return _gateway_error(500, None, "AuthorizerConfigurationException")
            except InvalidAuthorizerResponse as exc:
                log.warning("authorizer answer rejected -> 500: %s", exc)
                return _gateway_error(500, None, "AuthorizerConfigurationException")
            authorizer.cache.put(identity, answer)
        try:
            decision = evaluate_policy(answer.policy, arn)
        except InvalidAuthorizerResponse:
            return _gateway_error(500, None, "AuthorizerConfigurationException")
        if decision is Decision.ALLOW:
            return answer
        denied = _gateway_error(
            403,
            "User is not authorized to access this resource with an explicit deny"
            if decision is Decision.EXPLICIT_DENY
            else "User is not authorized to access this resource",
            "AccessDeniedException",
        )
        template = route.responses.templates.get("ACCESS_DENIED") if route.responses else None
        if template is not None:
            denied.body = _render(template, answer.context).encode()
        return denied  # the gateway response's headers: handle() adds them


def _invoke_within(route: GatewayRoute, event: dict[str, Any]) -> Any:
    """The integration's answer, or TimeoutError past the route's integration timeout (the
    invocation goes on in its thread, as the function runs on in Lambda)."""
    outcome: dict[str, Any] = {}
    answered = threading.Event()

    def run() -> None:
        try:
            outcome["result"] = route.invoke(event)
        except BaseException as exc:  # handed to the request's thread
            outcome["error"] = exc
        finally:
            answered.set()

    threading.Thread(target=run, name="saas-integration", daemon=True).start()
    if not answered.wait(route.integration_timeout):
        raise TimeoutError
    if "error" in outcome:
        raise outcome["error"]
    return outcome["result"]


def _render(template: str, authorizer_context: Mapping[str, Any]) -> str:
    """A gateway response template with `$context.authorizer.<key>` filled in from the
    authorizer's answer (what the templates use; no other VTL)."""
    return re.sub(
        r"\$context\.authorizer\.([A-Za-z0-9_]+)",
        lambda m: str(authorizer_context.get(m.group(1), "")),
        template,
    )


def _proxy_response(result: Any) -> HttpResponse:
    """The HTTP response for a proxy integration result; a malformed one is a 502, as in AWS."""
    if not isinstance(result, Mapping) or not isinstance(result.get("statusCode"), int):
        return _gateway_error(502, "Internal server error", "InternalServerErrorException")
    headers: list[tuple[str, str]] = []
    multi = result.get("multiValueHeaders") or {}
    single = result.get("headers") or {}
    for name, values in multi.items():
        headers.extend((name, str(v)) for v in values)
    for name, value in single.items():
        if name not in multi:
            headers.append((name, str(value)))
    body = result.get("body") or ""
    data = base64.b64decode(body) if result.get("isBase64Encoded") else str(body).encode()
    if not any(name.lower() == "content-type" for name, _ in headers):
        headers.append(("Content-Type", "application/json"))
    return HttpResponse(int(result["statusCode"]), headers, data)


class AuthorizerFlushWatcher:
    """Drops a stage's cached authorizer answers once the lifecycle flushed that stage's cache
    in the embedded AWS (`counts` reads every stage's count of flushes; moto gap
    AUTHORIZER_CACHE_FLUSH), within `interval` seconds."""

    def __init__(
        self,
        gateway: Gateway,
        counts: Callable[[], Mapping[str, int]],
        interval: float = 0.5,
    ) -> None:
        self._gateway = gateway
        self._counts = counts
        self._interval = interval
        self._seen: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name="saas-authorizer-flushes", daemon=True
        )

    def poll(self) -> int:
        """Apply the flushes made since the last poll; returns how many stages were flushed."""
        flushed = 0
        for stage_key, count in self._counts().items():
            if count != self._seen.get(stage_key):
                self._seen[stage_key] = count
                api_id, _, stage = stage_key.partition("/")
                self._gateway.flush_authorizer_caches(api_id, stage)
                flushed += 1
        return flushed

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self.poll()
            except Exception as exc:  # the embedded AWS stopping: try again, quietly
                log.debug("authorizer flushes unread: %s", exc)

    def start(self) -> None:
        self._seen = dict(self._counts())  # flushes before the start concern no cached answer
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=2 * self._interval + 5)


class _RequestHandler(BaseHTTPRequestHandler):
    gateway: Gateway
    protocol_version = "HTTP/1.1"

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        response = self.gateway.handle(
            self.command, self.path, list(self.headers.items()), body, self.client_address[0]
        )
        try:
            self.send_response(response.status)
            for name, value in response.headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(response.body)))
            self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(response.body)
        except (BrokenPipeError, ConnectionResetError):
            log.warning("%s %s: the client left before the answer", self.command, self.path)
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve

    def __getattr__(self, name: str) -> Any:
        # Any other method (TRACE, QUERY, ...) is routed too: one no resource declares gets
        # API Gateway's 403, never http.server's bare 501.
        if name.startswith("do_"):
            return self._serve
        raise AttributeError(name)

    def setup(self) -> None:
        super().setup()
        self.server.connections.add(self.connection)  # type: ignore[attr-defined]

    def finish(self) -> None:
        super().finish()
        self.server.connections.discard(self.connection)  # type: ignore[attr-defined]

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: the handlers log what matters


class _Server(ThreadingHTTPServer):
    # The default listen backlog (5) drops connections when hundreds of clients arrive at once.
    request_queue_size = 512


class GatewayServer:
    """A threaded HTTP server in front of a Gateway (one thread per connection)."""

    def __init__(self, gateway: Gateway, host: str = "127.0.0.1", port: int = 8080) -> None:
        handler = type("RequestHandler", (_RequestHandler,), {"gateway": gateway})
        self._server = _Server((host, port), handler)
        # Request threads are joined on stop; idle keep-alive connections are cut first.
        self._server.daemon_threads = False
        self._server.block_on_close = True
        self._server.connections = set()  # type: ignore[attr-defined]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.2}, name="saas-gateway"
        )

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        for connection in list(self._server.connections):  # type: ignore[attr-defined]
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        self._server.server_close()
        self._thread.join()
