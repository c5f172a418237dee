"""What a change to a tenant's record means for its environment.

INSERT -> provision; MODIFY of tier or config while PROVISIONING/ACTIVE -> update; MODIFY back to
PROVISIONING from PROVISIONING_FAILED (a retry) -> provision; SUSPENDED -> ACTIVE -> update
(catching up on changes made while suspended); MODIFY to OFFBOARDING or REMOVE ->
deprovision; anything else (e.g. PROVISIONING -> ACTIVE, which our own event caused) -> nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from provisioner.domain.errors import InvalidTenantRecord
from provisioner.domain.tenant import Tenant, TenantStatus


class ChangeKind(StrEnum):
    """The `eventName` of a DynamoDB stream record (the stream says REMOVE, never DELETE)."""

    INSERT = "INSERT"
    MODIFY = "MODIFY"
    REMOVE = "REMOVE"


class Intent(StrEnum):
    PROVISION = "provision"
    UPDATE = "update"
    DEPROVISION = "deprovision"
    NOTHING = "nothing"


_LIVE = frozenset({TenantStatus.PROVISIONING, TenantStatus.ACTIVE})


@dataclass(frozen=True, slots=True)
class TenantChange:
    """One stream record: its id (the cause of the events it leads to) and the two images."""

    change_id: str
    kind: ChangeKind
    old: Tenant | None
    new: Tenant | None

    @classmethod
    def from_images(
        cls,
        change_id: str,
        kind: str,
        old_image: dict[str, Any] | None,
        new_image: dict[str, Any] | None,
    ) -> TenantChange:
        try:
            change_kind = ChangeKind(kind)
        except ValueError:
            raise InvalidTenantRecord(None, f"unknown stream event name {kind!r}") from None
        needs_new = change_kind in (ChangeKind.INSERT, ChangeKind.MODIFY)
        needs_old = change_kind in (ChangeKind.MODIFY, ChangeKind.REMOVE)
        if needs_new and not new_image:
            raise InvalidTenantRecord(None, f"{kind} record without a NewImage")
        if needs_old and not old_image:
            raise InvalidTenantRecord(None, f"{kind} record without an OldImage")
        return cls(
            change_id=change_id,
            kind=change_kind,
            old=Tenant.from_record(old_image) if needs_old and old_image else None,
            new=Tenant.from_record(new_image) if needs_new and new_image else None,
        )

    @property
    def tenant(self) -> Tenant:
        """The tenant as it is now (its last image when it was removed)."""
        tenant = self.new or self.old
        assert tenant is not None, "from_images guarantees one image"
        return tenant

    def intent(self) -> Intent:
        old, new = self.old, self.new
        if self.kind is ChangeKind.INSERT:
            assert new is not None
            return Intent.PROVISION if new.status in _LIVE else Intent.NOTHING
        if self.kind is ChangeKind.REMOVE:
            assert old is not None
            # An OFFBOARDED tenant's environment is already gone: that is what OFFBOARDED means.
            return Intent.NOTHING if old.status is TenantStatus.OFFBOARDED else Intent.DEPROVISION
        assert old is not None
        assert new is not None
        if new.status is TenantStatus.OFFBOARDING and old.status is not TenantStatus.OFFBOARDING:
            return Intent.DEPROVISION
        retried = old.status is TenantStatus.PROVISIONING_FAILED
        if new.status is TenantStatus.PROVISIONING and retried:
            return Intent.PROVISION
        if new.status in _LIVE and (old.tier != new.tier or old.config != new.config):
            return Intent.UPDATE
        if new.status is TenantStatus.ACTIVE and old.status is TenantStatus.SUSPENDED:
            # Changes made while suspended were not applied: catch up (a no-op when none).
            return Intent.UPDATE
        return Intent.NOTHING
