"""Every consumer's reader model against the schema its producer exported.

Given the workspace's services, for each event a consumer declares in CONSUMED, the producer's
exported schema (services/<producer>/contracts/events/<DetailType>.v<major>.json) exists, every
field the reader requires is always sent with a type the reader accepts, and examples generated
from the producer's schema parse with the reader model.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from pydantic import BaseModel

from saas_devtools.contracts.compatibility import reader_problems
from saas_devtools.contracts.discovery import event_major, find_services, iter_consumers
from saas_devtools.contracts.examples import from_schema

ROOT = Path(__file__).resolve().parents[2]
# Small on purpose: CI has two cores, and structure is checked exactly above the examples.
EXAMPLES = 25


def _declared_readers() -> list[Any]:
    readers = []
    for consumer, source, detail_type, model in iter_consumers(find_services(ROOT)):
        producer = source.removeprefix("saas.")
        major = event_major(model)
        schema = ROOT / f"services/{producer}/contracts/events/{detail_type}.v{major}.json"
        readers.append(
            pytest.param(
                consumer.name,
                source,
                model,
                schema,
                id=f"{consumer.name}<-{producer}:{detail_type}.v{major}",
            )
        )
    return readers or [
        pytest.param(
            None,
            None,
            None,
            None,
            marks=pytest.mark.skip(
                reason="no service declares CONSUMED in entrypoints/event_readers.py yet"
            ),
        )
    ]


READERS = _declared_readers()


@pytest.mark.parametrize(("consumer", "source", "reader", "schema_path"), READERS)
def test_the_reader_needs_only_what_the_producer_always_sends(
    consumer: str, source: str, reader: type[BaseModel], schema_path: Path
) -> None:
    assert schema_path.is_file(), (
        f"{consumer} reads {source} {schema_path.stem} but its producer exported no "
        f"{schema_path.relative_to(ROOT)} (run `make contracts`)"
    )
    producer_schema = json.loads(schema_path.read_text(encoding="utf-8"))

    problems = reader_problems(reader.model_json_schema(mode="validation"), producer_schema)

    assert [str(p) for p in problems] == [], f"{consumer} cannot read {schema_path.name}"


@pytest.mark.parametrize(("consumer", "source", "reader", "schema_path"), READERS)
def test_examples_of_the_producer_schema_parse_with_the_reader(
    consumer: str, source: str, reader: type[BaseModel], schema_path: Path
) -> None:
    if not schema_path.is_file():
        pytest.fail(f"no producer schema {schema_path.relative_to(ROOT)} (run `make contracts`)")
    producer_schema = json.loads(schema_path.read_text(encoding="utf-8"))

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(example=from_schema(producer_schema))
    def parses(example: dict[str, Any]) -> None:
        reader.model_validate_json(json.dumps(example))

    parses()


class ProducedLine(BaseModel):
    product_id: str
    quantity: int


class Produced(BaseModel):
    order_id: str
    lines: list[ProducedLine]


def test_the_example_check_catches_what_the_structural_check_cannot_prove() -> None:
    """Given a reader whose string pattern differs from the producer's (not compared
    structurally), when producer examples are parsed, then the mismatch is found."""
    producer_schema = {
        "type": "object",
        "properties": {"code": {"type": "string", "pattern": "^[a-z]{3}$"}},
        "required": ["code"],
    }

    class PickyReader(BaseModel):
        code: str

        @classmethod
        def check(cls, value: dict[str, Any]) -> None:
            if not value["code"].startswith("a"):
                raise ValueError(f"cannot read code {value['code']!r}")

    failures: list[str] = []

    @settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None)
    @given(example=from_schema(producer_schema))
    def parses(example: dict[str, Any]) -> None:
        try:
            PickyReader.check(example)
        except ValueError as exc:
            failures.append(str(exc))

    parses()

    assert failures, "a producer example the reader refuses should have been generated"
