"""The error answer of every API (docs/conventions.md): one JSON Problem, its status, what is
wrong in words and, for validation, each problem. Written once here so the APIs answer alike;
each API turns it into Powertools' Response (tenant-context imports no Powertools) and
tests/e2e/test_bad_input_conformance.py holds every route of every template to it."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from pydantic import BaseModel


class ProblemDetail(BaseModel):
    loc: list[str | int]
    type: str
    msg: str


class Problem(BaseModel):
    """Every error: its status, what is wrong in words, and for validation each problem.
    (API Gateway's own 401 and 403 carry the message alone.)"""

    statusCode: int | None = None
    message: str
    detail: list[ProblemDetail] | None = None


def problem_json(status: int, message: str, detail: list[dict[str, Any]] | None = None) -> str:
    return json.dumps({"statusCode": status, "message": message, "detail": detail}, default=str)


def validation_problem(errors: Iterable[Mapping[str, Any]]) -> tuple[int, str]:
    """(status, body) for a request that failed validation (pydantic's errors, as Powertools'
    RequestValidationError gives them): malformed JSON is a 400, well-formed JSON with wrong
    fields a 422; the message names each field and what is wrong with it, in pydantic's words
    (they name the rule broken, never Python internals)."""
    detail = [
        {
            "loc": [part if isinstance(part, int) else str(part) for part in e.get("loc", ())],
            "type": str(e.get("type")),
            "msg": _words(e),
        }
        for e in errors
    ]
    summary = "; ".join(f"{'.'.join(map(str, d['loc']))}: {d['msg']}" for d in detail)
    status = 400 if any(d["type"] == "json_invalid" for d in detail) else 422
    return status, problem_json(status, f"invalid request: {summary}", detail)


def _words(error: Mapping[str, Any]) -> str:
    words = str(error.get("msg") or error.get("type"))
    if error.get("type") == "json_invalid":
        reason = (error.get("ctx") or {}).get("error")
        words += ": the body is not valid JSON" + (f" ({reason})" if reason else "")
    return words


def unsupported_media_type(
    event: Mapping[str, Any],
    cors_headers: Callable[[str | None], Mapping[str, str]] | None = None,
) -> dict[str, Any] | None:
    """The answer (415) for a body sent as anything but JSON, or None: checked before
    Powertools, which would try to parse form data and fail with a 500 on a multipart type
    without its boundary. `cors_headers(origin)` gives the CORS headers the API's resolver would
    put on its own answers."""
    headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
    media_type = headers.get("content-type", "").split(";")[0].strip().lower()
    if not event.get("body") or media_type in ("", "application/json"):
        return None
    message = f"Content-Type {media_type} is not supported: send application/json"
    cors = cors_headers(headers.get("origin")) if cors_headers else {}
    return {
        "statusCode": 415,
        "headers": {"Content-Type": "application/json", **cors},
        "body": problem_json(415, message),
    }
