"""A tenant as the provisioner sees it: the fields of its record in the tenant table."""

from __future__ import annotations

import json
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from provisioner.domain.errors import InvalidTenantRecord

# CloudFormation refuses a parameter value longer than this; the config travels as one parameter.
MAX_CONFIG_JSON_LENGTH = 4096


class Tier(StrEnum):
    BASIC = "basic"
    PREMIUM = "premium"


class RegionGroup(StrEnum):
    US = "us"
    EU = "eu"
    GLOBAL = "global"


class TenantStatus(StrEnum):
    PROVISIONING = "PROVISIONING"
    ACTIVE = "ACTIVE"
    PROVISIONING_FAILED = "PROVISIONING_FAILED"
    SUSPENDED = "SUSPENDED"
    OFFBOARDING = "OFFBOARDING"
    OFFBOARDED = "OFFBOARDED"


class Tenant(BaseModel):
    """The attributes of a tenant record that decide its environment. Others are ignored."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    tenant_id: str = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9-]*$")
    tier: Tier
    region_group: RegionGroup
    status: TenantStatus
    config: dict[str, str] = Field(default_factory=dict)

    @property
    def config_json(self) -> str:
        """The config as one canonical string: the same config always gives the same text."""
        return json.dumps(self.config, sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_record(cls, image: dict[str, object]) -> Tenant:
        """Read a tenant from a deserialised stream image; InvalidTenantRecord names the problem."""
        try:
            tenant = cls.model_validate(image)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']) or 'record'}: {err['msg']}"
                for err in exc.errors()
            )
            raise InvalidTenantRecord(_tenant_id_of(image), problems) from None
        if len(tenant.config_json) > MAX_CONFIG_JSON_LENGTH:
            raise InvalidTenantRecord(
                tenant.tenant_id,
                f"config is {len(tenant.config_json)} characters as JSON, "
                f"more than {MAX_CONFIG_JSON_LENGTH}",
            )
        return tenant


def _tenant_id_of(image: dict[str, object]) -> str | None:
    value = image.get("tenant_id")
    return value if isinstance(value, str) and value.strip() else None
