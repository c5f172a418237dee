"""Ids for new tenants: random UUIDs."""

from __future__ import annotations

import uuid


class UuidGenerator:
    def new_id(self) -> str:
        return uuid.uuid4().hex
