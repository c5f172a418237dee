"""The error answer every API gives: one Problem shape, the status in it, a message in words."""

from __future__ import annotations

import json

from tenant_context.problems import (
    Problem,
    problem_json,
    unsupported_media_type,
    validation_problem,
)


def test_a_problem_carries_its_status_message_and_detail() -> None:
    body = json.loads(problem_json(404, "no such order: o-1"))

    assert body == {"statusCode": 404, "message": "no such order: o-1", "detail": None}
    assert Problem.model_validate(body).message == "no such order: o-1"


def test_wrong_fields_are_a_422_naming_each_field_and_rule() -> None:
    errors = [
        {"loc": ("body", "price"), "type": "greater_than_equal", "msg": "Input should be >= 0"},
        {"loc": ("body", "lines", 0, "quantity"), "type": "missing", "msg": "Field required"},
    ]

    status, body = validation_problem(errors)

    problem = json.loads(body)
    assert status == 422
    assert problem["message"] == (
        "invalid request: body.price: Input should be >= 0; body.lines.0.quantity: Field required"
    )
    assert problem["detail"][1]["loc"] == ["body", "lines", 0, "quantity"]


def test_malformed_json_is_a_400_that_says_so() -> None:
    errors = [
        {
            "loc": ("body", 1),
            "type": "json_invalid",
            "msg": "JSON decode error",
            "ctx": {"error": "Expecting value"},
        }
    ]

    status, body = validation_problem(errors)

    assert status == 400
    assert json.loads(body)["message"] == (
        "invalid request: body.1: JSON decode error: the body is not valid JSON (Expecting value)"
    )


def test_a_body_sent_as_anything_but_json_is_a_415_and_json_or_no_body_passes() -> None:
    form = {"headers": {"Content-Type": "text/plain; charset=utf-8"}, "body": "name=x"}

    answer = unsupported_media_type(form)

    assert answer is not None
    assert answer["statusCode"] == 415
    assert "text/plain is not supported" in json.loads(answer["body"])["message"]
    assert (
        unsupported_media_type({"headers": {"content-type": "application/json"}, "body": "{}"})
        is None
    )
    assert unsupported_media_type({"headers": {"Content-Type": "text/plain"}, "body": ""}) is None
