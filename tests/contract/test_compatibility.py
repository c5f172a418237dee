"""The schema comparison behind the consumer checks and the history gate, on pydantic models.

Given a reader model and a writer model, when their JSON Schemas are compared, then every field
the reader requires must be always sent by the writer with a type the reader accepts.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field

from saas_devtools.contracts.compatibility import read_fields, reader_problems


def _problems(reader: type[BaseModel], writer: type[BaseModel]) -> list[str]:
    return [
        str(p)
        for p in reader_problems(
            reader.model_json_schema(mode="validation"),
            writer.model_json_schema(mode="serialization"),
        )
    ]


class Line(BaseModel):
    product_id: str
    quantity: int = Field(ge=1)


class OrderPlaced(BaseModel):
    order_id: str
    lines: list[Line]
    note: str | None = None


class LineReader(BaseModel):
    product_id: str
    quantity: float


class OrderPlacedReader(BaseModel):
    order_id: str
    lines: list[LineReader]


def test_a_reader_of_a_subset_with_wider_types_is_compatible() -> None:
    assert _problems(OrderPlacedReader, OrderPlaced) == []


def test_a_field_the_reader_requires_and_the_writer_lacks_is_named() -> None:
    class Writer(BaseModel):
        order_id: str
        lines: list[dict[str, int]]

    class Reader(BaseModel):
        order_id: str
        customer_id: str

    assert _problems(Reader, Writer) == [
        "field 'customer_id': required by the reader, absent from the writer (renamed to 'lines'?)"
    ]


def test_a_nested_field_with_a_type_the_reader_refuses_is_named_by_its_path() -> None:
    class StrictLine(BaseModel):
        product_id: str
        quantity: str

    class Reader(BaseModel):
        lines: list[StrictLine]

    assert _problems(Reader, OrderPlaced) == [
        "field 'lines[].quantity': writer sends integer, reader accepts only string"
    ]


def test_a_nullable_writer_field_cannot_feed_a_non_null_reader_field() -> None:
    class Reader(BaseModel):
        note: str

    assert _problems(Reader, OrderPlaced) == [
        "field 'note': writer sends null, reader accepts only string"
    ]


def test_a_field_the_writer_may_omit_cannot_feed_a_required_reader_field() -> None:
    writer = {"type": "object", "properties": {"note": {"type": "string"}}, "required": []}
    reader = {"type": "object", "properties": {"note": {"type": "string"}}, "required": ["note"]}

    assert [str(p) for p in reader_problems(reader, writer)] == [
        "field 'note': required by the reader, optional in the writer"
    ]


def test_a_writer_field_with_a_default_is_always_sent() -> None:
    class Writer(BaseModel):
        reason: str = "unknown"

    class Reader(BaseModel):
        reason: str

    assert _problems(Reader, Writer) == []


def test_enums_and_bounds_must_not_be_narrower_in_the_reader() -> None:
    class Writer(BaseModel):
        status: Literal["PLACED", "CONFIRMED", "REJECTED"]
        quantity: int = Field(ge=1)

    class Reader(BaseModel):
        status: Literal["PLACED", "CONFIRMED"]
        quantity: int = Field(ge=1, le=25)

    assert _problems(Reader, Writer) == [
        "field 'status': writer may send ['REJECTED'], reader accepts only ['PLACED', 'CONFIRMED']",
        "field 'quantity': reader maximum 25, writer unbounded",
    ]


def test_a_decimal_sent_as_a_string_is_read_by_a_decimal_reader() -> None:
    class Writer(BaseModel):
        price: Decimal

    class Reader(BaseModel):
        price: Decimal

    assert _problems(Reader, Writer) == []


def test_read_fields_lists_nested_paths() -> None:
    assert read_fields(OrderPlacedReader.model_json_schema()) == {
        "order_id",
        "lines",
        "lines[].product_id",
        "lines[].quantity",
    }


def test_integer_bounds_compare_by_value_not_by_spelling() -> None:
    class Writer(BaseModel):
        quantity: int = Field(ge=1)

    class Reader(BaseModel):
        quantity: int = Field(gt=0)

    class StricterReader(BaseModel):
        quantity: int = Field(gt=1)

    assert _problems(Reader, Writer) == []
    assert _problems(StricterReader, Writer) == ["field 'quantity': reader minimum 2, writer 1"]
