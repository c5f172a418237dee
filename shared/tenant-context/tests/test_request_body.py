"""The one body rule of every API: a JSON object of at most 1 MiB, anything else refused with the
status and a message that says what is wrong."""

from __future__ import annotations

import json

import pytest

from tenant_context.request_body import MAX_BODY_BYTES, BodyRefused, json_object_body


def test_an_object_is_read() -> None:
    assert json_object_body('{"name": "Mug", "stock": 3}') == {"name": "Mug", "stock": 3}


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ('[{"name": "Mug"}, "junk"]', "an array"),
        ('"Mug"', "a string"),
        ("42", "a number"),
        ("true", "true or false"),
        ("null", "null"),
    ],
)
def test_json_that_is_not_an_object_is_a_422_naming_what_it_is(text: str, kind: str) -> None:
    with pytest.raises(BodyRefused) as refused:
        json_object_body(text)

    assert refused.value.status == 422
    assert str(refused.value) == f"the body must be a JSON object, not {kind}"


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
        ('{"n": ' + "9" * 5000 + "}", "too many digits"),
    ],
)
def test_json_python_cannot_read_is_a_400(text: str, words: str) -> None:
    with pytest.raises(BodyRefused) as refused:
        json_object_body(text)

    assert refused.value.status == 400
    assert words in str(refused.value)


def test_a_body_over_the_limit_is_a_400_and_one_at_the_limit_is_read() -> None:
    at_limit = json.dumps({"pad": "x" * (MAX_BODY_BYTES - 11)})
    assert len(at_limit.encode()) == MAX_BODY_BYTES

    assert json_object_body(at_limit)["pad"].startswith("x")
    with pytest.raises(BodyRefused) as refused:
        json_object_body(at_limit + " ")
    assert refused.value.status == 400
    assert f"at most {MAX_BODY_BYTES}" in str(refused.value)


def test_malformed_json_is_left_to_powertools_which_says_where() -> None:
    with pytest.raises(json.JSONDecodeError):
        json_object_body('{"name": ')
