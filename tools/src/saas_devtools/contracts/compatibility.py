"""Is a reader compatible with a writer? A structural comparison of two JSON Schemas.

`reader_problems(reader, writer)` answers: would every document valid under `writer` give the
reader what it needs? For each field the reader requires: the writer has it, always sends it, with
a type and constraints the reader accepts. The same question serves twice:
- a consumer's reader model (reader) against a producer's exported schema (writer);
- a producer's new schema (reader) against an earlier version of it (writer): the new schema must
  still read every event already published (in the archive and the event log, and in flight),
  so adding a required field or narrowing a type is a breaking change.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

Schema = Mapping[str, Any]


@dataclass(frozen=True)
class Problem:
    field: str  # dotted path; "lines[].product_id" for a field of an array's items
    kind: str  # "missing", "optional", "type", "narrowed"
    detail: str

    def __str__(self) -> str:
        return f"field '{self.field}': {self.detail}"


@dataclass(frozen=True)
class _Node:
    schema: Schema
    root: Schema


def reader_problems(reader: Schema, writer: Schema) -> list[Problem]:
    return _compare(_Node(reader, reader), _Node(writer, writer), "")


def read_fields(schema: Schema) -> set[str]:
    """Every field path the schema names (nested objects and array items included)."""
    return _fields(_Node(schema, schema), "")


def _resolve(node: _Node) -> _Node:
    schema = node.schema
    seen = 0
    while True:
        if "$ref" in schema:
            ref = schema["$ref"]
            if not ref.startswith("#/"):
                raise ValueError(f"only local $ref is supported, got {ref!r}")
            target: Any = node.root
            for part in ref[2:].split("/"):
                target = target[part]
            schema = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
        elif "allOf" in schema and len(schema["allOf"]) == 1:
            schema = {**schema["allOf"][0], **{k: v for k, v in schema.items() if k != "allOf"}}
        else:
            return _Node(schema, node.root)
        seen += 1
        if seen > 50:
            raise ValueError("$ref cycle")


def _branches(schema: Schema) -> list[Schema] | None:
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return list(schema[key])
    return None


def _types(schema: Schema) -> set[str] | None:
    declared = schema.get("type")
    if isinstance(declared, str):
        return {declared}
    if isinstance(declared, list):
        return set(declared)
    values = _enum(schema)
    if values is not None:
        return {_json_type(v) for v in values}
    return None  # any type


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _enum(schema: Schema) -> list[Any] | None:
    if "const" in schema:
        return [schema["const"]]
    if "enum" in schema:
        return list(schema["enum"])
    return None


def _type_accepted(writer_type: str, reader_types: set[str]) -> bool:
    return writer_type in reader_types or (writer_type == "integer" and "number" in reader_types)


def _compare(reader: _Node, writer: _Node, path: str) -> list[Problem]:
    reader, writer = _resolve(reader), _resolve(writer)
    where = path or "(document)"
    writer_branches = _branches(writer.schema)
    if writer_branches is not None:
        problems: list[Problem] = []
        for branch in writer_branches:
            for problem in _compare(reader, _Node(branch, writer.root), path):
                if problem not in problems:
                    problems.append(problem)
        return problems
    reader_branches = _branches(reader.schema)
    if reader_branches is not None:
        best: list[Problem] | None = None
        for branch in reader_branches:
            problems = _compare(_Node(branch, reader.root), writer, path)
            if not problems:
                return []
            if best is None or len(problems) < len(best):
                best = problems
        return best or []

    r, w = reader.schema, writer.schema
    reader_types = _types(r)
    writer_types = _types(w)
    if reader_types is not None:
        if writer_types is None:
            return [
                Problem(
                    where,
                    "narrowed",
                    f"reader needs {_names(reader_types)}, writer allows any type",
                )
            ]
        refused = sorted(t for t in writer_types if not _type_accepted(t, reader_types))
        if refused:
            return [
                Problem(
                    where,
                    "type",
                    f"writer sends {_names(set(refused))}, reader accepts "
                    f"only {_names(reader_types)}",
                )
            ]
    problems = _constraints(r, w, where)
    types = writer_types if writer_types is not None else (reader_types or set())
    if "object" in types:
        problems += _compare_objects(reader, writer, path)
    if "array" in types and "items" in r:
        items_w = w.get("items", {})
        problems += _compare(
            _Node(r["items"], reader.root), _Node(items_w, writer.root), f"{path}[]"
        )
    return problems


def _names(types: set[str]) -> str:
    return " or ".join(sorted(types))


def _compare_objects(reader: _Node, writer: _Node, path: str) -> list[Problem]:
    r_props: Mapping[str, Any] = reader.schema.get("properties", {})
    w_props: Mapping[str, Any] = writer.schema.get("properties", {})
    r_required = set(reader.schema.get("required", []))
    w_required = set(writer.schema.get("required", []))
    problems: list[Problem] = []
    for name, r_prop in r_props.items():
        field = f"{path}.{name}" if path else name
        if name not in w_props:
            if name in r_required:
                problems.append(
                    Problem(
                        field,
                        "missing",
                        "required by the reader, absent "
                        f"from the writer{_rename_hint(r_props, w_props)}",
                    )
                )
            continue
        # A field with a default is always serialised, even though the serialization-mode
        # schema does not list it as required.
        always_sent = name in w_required or "default" in w_props[name]
        if name in r_required and not always_sent:
            problems.append(
                Problem(field, "optional", "required by the reader, optional in the writer")
            )
        problems += _compare(_Node(r_prop, reader.root), _Node(w_props[name], writer.root), field)
    return problems


def _rename_hint(r_props: Mapping[str, Any], w_props: Mapping[str, Any]) -> str:
    new = sorted(set(w_props) - set(r_props))
    return f" (renamed to {', '.join(repr(n) for n in new)}?)" if new else ""


_LOWER_BOUNDS = ("minLength", "minItems", "minProperties")
_UPPER_BOUNDS = ("maxLength", "maxItems", "maxProperties")


def _numeric_bound(schema: Schema, side: str) -> tuple[float, bool]:
    """(value, exclusive) of the lower ("min") or upper ("max") numeric bound; integers use the
    inclusive form, so `gt=0` and `ge=1` are the same bound."""
    inclusive, exclusive = (
        ("minimum", "exclusiveMinimum") if side == "min" else ("maximum", "exclusiveMaximum")
    )
    infinite = -math.inf if side == "min" else math.inf
    bounds: list[tuple[float, bool]] = []
    if inclusive in schema:
        bounds.append((float(schema[inclusive]), False))
    if exclusive in schema:
        value = float(schema[exclusive])
        if schema.get("type") == "integer":
            bounds.append((math.floor(value) + 1 if side == "min" else math.ceil(value) - 1, False))
        else:
            bounds.append((value, True))
    if not bounds:
        return infinite, False
    pick = max if side == "min" else min
    # At the same value an exclusive bound is the tighter one.
    return pick(bounds, key=lambda b: (b[0], b[1] if side == "min" else not b[1]))


def _narrower(reader: tuple[float, bool], writer: tuple[float, bool], side: str) -> bool:
    (r_value, r_exclusive), (w_value, w_exclusive) = reader, writer
    if r_value == w_value:
        return r_exclusive and not w_exclusive
    return r_value > w_value if side == "min" else r_value < w_value


def _constraints(r: Schema, w: Schema, where: str) -> list[Problem]:
    problems = []
    for key in _LOWER_BOUNDS:
        if key in r and float(r[key]) > float(w.get(key, -math.inf)):
            problems.append(
                Problem(
                    where, "narrowed", f"reader {key} {r[key]}, writer {w.get(key, 'unbounded')}"
                )
            )
    for key in _UPPER_BOUNDS:
        if key in r and float(r[key]) < float(w.get(key, math.inf)):
            problems.append(
                Problem(
                    where, "narrowed", f"reader {key} {r[key]}, writer {w.get(key, 'unbounded')}"
                )
            )
    for side, name in (("min", "minimum"), ("max", "maximum")):
        reader_bound, writer_bound = _numeric_bound(r, side), _numeric_bound(w, side)
        if _narrower(reader_bound, writer_bound, side):
            shown = "unbounded" if math.isinf(writer_bound[0]) else _show(writer_bound)
            problems.append(
                Problem(where, "narrowed", f"reader {name} {_show(reader_bound)}, writer {shown}")
            )
    for key in ("format", "multipleOf"):
        if key in r and r[key] != w.get(key):
            problems.append(
                Problem(
                    where, "narrowed", f"reader {key} {r[key]!r}, writer {w.get(key, 'none')!r}"
                )
            )
    # Whether one regular expression's language holds another's is not decided here: two
    # different patterns are left to the example-based check (writer examples the reader parses).
    if "pattern" in r and "pattern" not in w:
        problems.append(
            Problem(where, "narrowed", f"reader pattern {r['pattern']!r}, writer any string")
        )
    reader_values = _enum(r)
    if reader_values is not None:
        writer_values = _enum(w)
        if writer_values is None:
            problems.append(
                Problem(where, "narrowed", f"reader accepts only {reader_values}, writer any value")
            )
        else:
            extra = [v for v in writer_values if v not in reader_values]
            if extra:
                problems.append(
                    Problem(
                        where,
                        "narrowed",
                        f"writer may send {extra}, reader accepts only {reader_values}",
                    )
                )
    return problems


def _show(bound: tuple[float, bool]) -> str:
    value, exclusive = bound
    number = int(value) if value == int(value) else value
    return f"{number} (exclusive)" if exclusive else str(number)


def _fields(node: _Node, path: str) -> set[str]:
    node = _resolve(node)
    fields: set[str] = set()
    for branch in _branches(node.schema) or []:
        fields |= _fields(_Node(branch, node.root), path)
    for name, prop in node.schema.get("properties", {}).items():
        field = f"{path}.{name}" if path else name
        fields.add(field)
        fields |= _fields(_Node(prop, node.root), field)
    if "items" in node.schema:
        fields |= _fields(_Node(node.schema["items"], node.root), f"{path}[]")
    return fields
