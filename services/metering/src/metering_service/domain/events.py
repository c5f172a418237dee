"""The events this service publishes: none. Usage reaches it through a CloudWatch Logs
subscription, not the bus, and nothing else needs to hear about it.

`PUBLISHED` is what `make contracts` exports to contracts/events/."""

from __future__ import annotations

from pydantic import BaseModel

PUBLISHED: dict[str, type[BaseModel]] = {}
