"""Ids for new tenants: random UUIDs, or derived from a request key (the same for the same key)."""

from __future__ import annotations

import uuid

# The namespace of the ids derived from request keys (uuid5): fixed, so a key maps to the same id
# in every process and after every deploy.
REQUEST_KEYS = uuid.UUID("8f3c2a4e-6b1d-5e7f-9a0c-2d4b6e8f0a1c")


class UuidGenerator:
    def new_id(self) -> str:
        return uuid.uuid4().hex

    def id_for(self, key: str) -> str:
        return uuid.uuid5(REQUEST_KEYS, key).hex
