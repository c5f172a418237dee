"""Who is calling and for which tenant, read from an API Gateway authorizer context."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol


class EventMetadataLike(Protocol):
    # Read-only members, so a frozen pydantic model (EventMetadata) satisfies the protocol.
    @property
    def tenant_id(self) -> str: ...
    @property
    def producer(self) -> str: ...
    @property
    def tier(self) -> str | None: ...
    @property
    def region_group(self) -> str | None: ...


class InvalidTenantContext(ValueError):
    """The authorizer context or envelope does not describe a valid caller."""


class MissingTenantId(InvalidTenantContext):
    """A tenant id was required and is missing or blank. Never defaulted."""


class Role(StrEnum):
    SYSTEM_ADMIN = "SystemAdmin"
    TENANT_ADMIN = "TenantAdmin"
    TENANT_USER = "TenantUser"
    # A service acting on an event inside a tenant; never granted to a token.
    SERVICE = "Service"


class Tier(StrEnum):
    BASIC = "basic"
    PREMIUM = "premium"


class RegionGroup(StrEnum):
    US = "us"
    EU = "eu"
    GLOBAL = "global"


def require_tenant_id(value: object) -> str:
    """The tenant id as a non-blank string, or MissingTenantId."""
    if not isinstance(value, str) or not value.strip():
        raise MissingTenantId("tenant_id is missing or blank")
    return value.strip()


def _enum(kind: type[StrEnum], name: str, value: object) -> Any:
    try:
        return kind(value)  # type: ignore[arg-type]  # any value; ValueError names it
    except ValueError:
        allowed = ", ".join(m.value for m in kind)
        raise InvalidTenantContext(f"{name} {value!r} is not one of: {allowed}") from None


def _text(name: str, value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidTenantContext(f"{name} is missing or blank")
    return value


@dataclass(frozen=True, slots=True)
class Principal:
    """The verified caller. A SystemAdmin has no tenant; everyone else has exactly one."""

    user_id: str
    role: Role
    tenant_id: str | None = None

    @classmethod
    def from_authorizer(cls, authorizer: Mapping[str, Any] | None) -> Principal:
        """Read the caller from `requestContext.authorizer` of an API Gateway proxy event."""
        if not authorizer:
            raise InvalidTenantContext("no authorizer context on the request")
        role = _enum(Role, "role", authorizer.get("role"))
        user_id = _text("user_id", authorizer.get("user_id"))
        raw_tenant = authorizer.get("tenant_id")
        if role is Role.SYSTEM_ADMIN:
            tenant_id = (
                raw_tenant.strip() if isinstance(raw_tenant, str) and raw_tenant.strip() else None
            )
        else:
            tenant_id = require_tenant_id(raw_tenant)
        return cls(user_id=user_id, role=role, tenant_id=tenant_id)


@dataclass(frozen=True, slots=True)
class TenantContext:
    """A caller acting inside one tenant: the only way tenant data is reached."""

    tenant_id: str
    role: Role
    user_id: str
    tier: Tier
    region_group: RegionGroup

    def __post_init__(self) -> None:
        require_tenant_id(self.tenant_id)

    @classmethod
    def from_authorizer(cls, authorizer: Mapping[str, Any] | None) -> TenantContext:
        """Read the context the Lambda authorizer returned (all values arrive as strings)."""
        if not authorizer:
            raise InvalidTenantContext("no authorizer context on the request")
        return cls(
            tenant_id=require_tenant_id(authorizer.get("tenant_id")),
            role=_enum(Role, "role", authorizer.get("role")),
            user_id=_text("user_id", authorizer.get("user_id")),
            tier=_enum(Tier, "tier", authorizer.get("tier")),
            region_group=_enum(RegionGroup, "region_group", authorizer.get("region_group")),
        )

    @classmethod
    def from_event(cls, event: Mapping[str, Any]) -> TenantContext:
        """Read it from an API Gateway REST proxy event (`requestContext.authorizer`)."""
        request_context = event.get("requestContext") or {}
        return cls.from_authorizer(request_context.get("authorizer"))

    @classmethod
    def from_envelope(cls, metadata: EventMetadataLike) -> TenantContext:
        """The context a consumer acts in for an event: the producer, inside the event's tenant."""
        if metadata.tier is None or metadata.region_group is None:
            raise InvalidTenantContext(
                "the envelope does not carry the tenant's tier and region_group"
            )
        return cls(
            tenant_id=require_tenant_id(metadata.tenant_id),
            role=Role.SERVICE,
            user_id=metadata.producer,
            tier=_enum(Tier, "tier", metadata.tier),
            region_group=_enum(RegionGroup, "region_group", metadata.region_group),
        )

    def to_authorizer(self) -> dict[str, str]:
        """The authorizer context (API Gateway only passes strings, numbers and booleans)."""
        return {
            "tenant_id": self.tenant_id,
            "role": self.role.value,
            "user_id": self.user_id,
            "tier": self.tier.value,
            "region_group": self.region_group.value,
        }
