"""Hypothesis strategies for documents valid under a JSON Schema (the subset pydantic emits).

hypothesis-jsonschema 0.23.1 (its latest release) uses a private Hypothesis helper that
Hypothesis 6.170 no longer has (`many.more`), and fails on every object schema; this covers what
event schemas use: $ref/$defs, anyOf/oneOf, const/enum, objects, arrays, strings (pattern,
date-time/date/uuid formats, lengths), integers and numbers (bounds), booleans and null.
Needs Hypothesis (a development dependency): only tests import this module.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from hypothesis import strategies as st

Schema = Mapping[str, Any]

_FORMATS: dict[str, Any] = {
    "date-time": st.datetimes(timezones=st.sampled_from([__import__("datetime").UTC])).map(
        lambda d: d.isoformat()
    ),
    "date": st.dates().map(lambda d: d.isoformat()),
    "uuid": st.uuids().map(str),
    "email": st.from_regex(r"\A[a-z]{1,8}@[a-z]{1,8}\.example\Z"),
}


def from_schema(schema: Schema) -> st.SearchStrategy[Any]:
    return _strategy(schema, schema)


def _resolve(schema: Schema, root: Schema) -> Schema:
    while "$ref" in schema:
        target: Any = root
        for part in schema["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        schema = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
    if "allOf" in schema and len(schema["allOf"]) == 1:
        schema = {
            **_resolve(schema["allOf"][0], root),
            **{k: v for k, v in schema.items() if k != "allOf"},
        }
    return schema


def _strategy(schema: Schema, root: Schema) -> st.SearchStrategy[Any]:
    schema = _resolve(schema, root)
    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(list(schema["enum"]))
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return st.one_of([_strategy(branch, root) for branch in schema[key]])
    declared = schema.get("type")
    types = [declared] if isinstance(declared, str) else list(declared or [])
    if not types:
        return st.none() | st.booleans() | st.integers() | st.text(max_size=8)
    return st.one_of([_typed(t, schema, root) for t in types])


def _typed(kind: str, schema: Schema, root: Schema) -> st.SearchStrategy[Any]:
    if kind == "null":
        return st.none()
    if kind == "boolean":
        return st.booleans()
    if kind == "integer":
        low = schema.get("minimum", schema.get("exclusiveMinimum", -(2**31) - 1) + 1)
        high = schema.get("maximum", schema.get("exclusiveMaximum", 2**31 + 1) - 1)
        return st.integers(min_value=math.ceil(low), max_value=math.floor(high))
    if kind == "number":
        return st.floats(
            min_value=schema.get("minimum", schema.get("exclusiveMinimum")),
            max_value=schema.get("maximum", schema.get("exclusiveMaximum")),
            exclude_min="exclusiveMinimum" in schema,
            exclude_max="exclusiveMaximum" in schema,
            allow_nan=False,
            allow_infinity=False,
        )
    if kind == "string":
        return _string(schema)
    if kind == "array":
        return st.lists(
            _strategy(schema.get("items", {}), root),
            min_size=schema.get("minItems", 0),
            max_size=min(schema.get("maxItems", 4), 4 + schema.get("minItems", 0)),
        )
    if kind == "object":
        return _object(schema, root)
    raise ValueError(f"JSON Schema type {kind!r} is not supported")


def _string(schema: Schema) -> st.SearchStrategy[str]:
    low, high = schema.get("minLength", 0), schema.get("maxLength")
    strategy: st.SearchStrategy[str]
    if "pattern" in schema:
        strategy = st.from_regex(str(schema["pattern"]), fullmatch=True)
    elif schema.get("format") in _FORMATS:
        strategy = _FORMATS[schema["format"]]
    else:
        return st.text(min_size=low, max_size=high if high is not None else low + 12)
    return strategy.filter(lambda s: len(s) >= low and (high is None or len(s) <= high))


def _object(schema: Schema, root: Schema) -> st.SearchStrategy[dict[str, Any]]:
    properties: Mapping[str, Any] = schema.get("properties", {})
    required = [name for name in properties if name in set(schema.get("required", []))]
    optional = [name for name in properties if name not in required]
    fixed = st.fixed_dictionaries(
        {name: _strategy(properties[name], root) for name in required},
        optional={name: _strategy(properties[name], root) for name in optional},
    )
    return fixed
