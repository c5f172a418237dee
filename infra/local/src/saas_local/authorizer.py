"""API Gateway's side of a Lambda authorizer: which policy allows which method ARN, and the
cache of answers per identity source for the authorizer's TTL."""

from __future__ import annotations

import fnmatch
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Decision(StrEnum):
    ALLOW = "allow"
    EXPLICIT_DENY = "explicit-deny"
    IMPLICIT_DENY = "implicit-deny"


class InvalidAuthorizerResponse(ValueError):
    """The authorizer returned something API Gateway would reject (a 500 to the caller)."""


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _matches(pattern: str, value: str) -> bool:
    # IAM wildcards: * any run of characters, ? one character; nothing else is special.
    regex = fnmatch.translate(pattern.replace("[", "[[]"))
    return re.match(regex, value) is not None


def _action_matches(action: str) -> bool:
    return any(_matches(action.lower(), candidate) for candidate in ("execute-api:invoke",))


def evaluate_policy(policy: Mapping[str, Any], arn: str) -> Decision:
    """IAM evaluation restricted to what API Gateway checks: an explicit Deny wins, then an
    Allow, otherwise the request is denied."""
    statements = _as_list(policy.get("Statement", []))
    allowed = False
    for statement in statements:
        if not isinstance(statement, Mapping):
            raise InvalidAuthorizerResponse("a policy statement is not an object")
        actions = [str(a) for a in _as_list(statement.get("Action", []))]
        resources = [str(r) for r in _as_list(statement.get("Resource", []))]
        if not any(_action_matches(a) for a in actions):
            continue
        if not any(_matches(r, arn) for r in resources):
            continue
        effect = str(statement.get("Effect", ""))
        if effect == "Deny":
            return Decision.EXPLICIT_DENY
        if effect == "Allow":
            allowed = True
    return Decision.ALLOW if allowed else Decision.IMPLICIT_DENY


@dataclass(frozen=True)
class AuthorizerAnswer:
    principal_id: str
    policy: Mapping[str, Any]
    context: Mapping[str, Any]
    usage_key: str | None = None  # usageIdentifierKey: the API key the request is metered by

    @classmethod
    def from_response(cls, response: Any) -> AuthorizerAnswer:
        if not isinstance(response, Mapping):
            raise InvalidAuthorizerResponse("the authorizer did not return an object")
        policy = response.get("policyDocument")
        if not isinstance(policy, Mapping) or "principalId" not in response:
            raise InvalidAuthorizerResponse("the answer lacks principalId or policyDocument")
        context = response.get("context") or {}
        if not isinstance(context, Mapping) or any(
            isinstance(v, dict | list) for v in context.values()
        ):
            raise InvalidAuthorizerResponse("context values must be strings, numbers or booleans")
        usage_key = response.get("usageIdentifierKey")
        if usage_key is not None and not isinstance(usage_key, str):
            raise InvalidAuthorizerResponse("usageIdentifierKey must be a string")
        return cls(str(response["principalId"]), policy, context, usage_key)

    def request_context(self) -> dict[str, Any]:
        """`requestContext.authorizer` as the integration sees it."""
        return {**self.context, "principalId": self.principal_id}


class AuthorizerCache:
    """API Gateway caches an authorizer's answer (its whole policy) per identity source value
    for the TTL, and evaluates the cached policy for every method it is used on."""

    def __init__(self, ttl_seconds: int, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl = ttl_seconds
        self._clock = clock
        self._answers: dict[tuple[str, ...], tuple[float, AuthorizerAnswer]] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple[str, ...]) -> AuthorizerAnswer | None:
        if self._ttl <= 0:
            return None
        with self._lock:
            found = self._answers.get(key)
            if found is None:
                return None
            expires, answer = found
            if self._clock() >= expires:
                del self._answers[key]
                return None
            return answer

    def clear(self) -> None:
        """FlushStageAuthorizersCache: every cached answer goes."""
        with self._lock:
            self._answers.clear()

    def put(self, key: tuple[str, ...], answer: AuthorizerAnswer) -> None:
        if self._ttl <= 0:
            return
        with self._lock:
            self._answers[key] = (self._clock() + self._ttl, answer)
