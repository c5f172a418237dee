"""Powertools idempotency persistence in memory, for tests and `BACKEND=memory`."""

from __future__ import annotations

import time

from aws_lambda_powertools.utilities.idempotency import BasePersistenceLayer
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyItemAlreadyExistsError,
    IdempotencyItemNotFoundError,
)
from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord


class MemoryIdempotencyStore(BasePersistenceLayer):
    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.records: dict[str, DataRecord] = {}

    def _get_record(self, idempotency_key: str) -> DataRecord:
        try:
            return self.records[idempotency_key]
        except KeyError:
            raise IdempotencyItemNotFoundError from None

    def _put_record(self, data_record: DataRecord) -> None:
        old = self.records.get(data_record.idempotency_key)
        if old is not None and (old.expiry_timestamp or 0) > time.time():
            # As the DynamoDB layer does: a reused key with another payload is refused.
            self._validate_payload(data_payload=data_record, stored_data_record=old)
            raise IdempotencyItemAlreadyExistsError(old_data_record=old)
        self.records[data_record.idempotency_key] = data_record

    def _update_record(self, data_record: DataRecord) -> None:
        self.records[data_record.idempotency_key] = data_record

    def _delete_record(self, data_record: DataRecord) -> None:
        self.records.pop(data_record.idempotency_key, None)
