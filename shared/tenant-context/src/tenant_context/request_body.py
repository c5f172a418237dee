"""The one rule for the body of every API's routes (docs/conventions.md): one JSON object of at
most MAX_BODY_BYTES. Each API plugs `json_object_body` into Powertools' resolver as its
`json_body_deserializer` and answers `BodyRefused` with its own Problem; the rule itself is
written once, here, and tests/e2e/test_bad_input_conformance.py holds every route to it."""

from __future__ import annotations

import json
from typing import Any

MAX_BODY_BYTES = 1024 * 1024  # every valid body of every API fits (the largest is ~620 KB)


class BodyRefused(Exception):
    """A body no route takes, refused before validation, with its HTTP status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def json_object_body(text: str) -> dict[str, Any]:
    """The body of a route that takes one. Without this, Powertools validates an array's first
    element and drops the rest, and json.loads fails with a 500 on nesting too deep or a number
    too long. Malformed JSON stays Powertools' 400, which says where."""
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_BODY_BYTES:
        raise BodyRefused(400, f"the body is {size} bytes: at most {MAX_BODY_BYTES} are accepted")
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError:
        raise
    except RecursionError:
        raise BodyRefused(400, "the body is JSON nested too deeply to read") from None
    except ValueError:  # an integer of more digits than Python converts (4300)
        raise BodyRefused(400, "the body holds a number with too many digits to read") from None
    if not isinstance(parsed, dict):
        raise BodyRefused(422, f"the body must be a JSON object, not {_kind(parsed)}")
    return parsed


def _kind(value: object) -> str:
    kinds = {list: "an array", str: "a string", bool: "true or false", type(None): "null"}
    return kinds.get(type(value), "a number")
