"""The events this service consumes: none (usage arrives as log records, see
entrypoints/usage_records.py). `CONSUMED` is what the contract tools check."""

from __future__ import annotations

from pydantic import BaseModel

CONSUMED: dict[tuple[str, str], type[BaseModel]] = {}
