"""UsagePlans on API Gateway: a tier's plans are those tagged `saas:tier` = <tier> (one per
service API, each stack declares its own with the platform's numbers)."""

from __future__ import annotations

from typing import Any

from tenant_service.ports.api_gateway import TENANT_KEY_PREFIX, UsageKeyLimitReached


def key_value(name: str) -> str:
    """A key's value: its name, padded to the 20 characters API Gateway requires at least (a
    tenant id is longer; the value is no secret: with API key source AUTHORIZER no client can
    present one)."""
    return name.ljust(20, ".")


class ApiGatewayUsagePlans:
    def __init__(self, client: Any) -> None:
        self._client = client

    def _keys(self, name_query: str) -> list[dict[str, Any]]:
        pages = self._client.get_paginator("get_api_keys").paginate(
            nameQuery=name_query, includeValues=False
        )
        return [key for page in pages for key in page.get("items", [])]

    def _key_id(self, name: str) -> str | None:
        return next((k["id"] for k in self._keys(name) if k.get("name") == name), None)

    def _plans(self, key_id: str | None = None) -> list[dict[str, Any]]:
        arguments = {"keyId": key_id} if key_id else {}
        pages = self._client.get_paginator("get_usage_plans").paginate(**arguments)
        return [plan for page in pages for plan in page.get("items", [])]

    def tenant_key_count(self) -> int:
        return len(self._keys(TENANT_KEY_PREFIX))

    def put_key(self, name: str, tier: str) -> str:
        key_id = self._key_id(name)
        if key_id is None:
            try:
                key_id = self._client.create_api_key(
                    name=name, value=key_value(name), enabled=True, tags={"saas:tier": tier}
                )["id"]
            except self._client.exceptions.LimitExceededException as exc:
                raise UsageKeyLimitReached(str(exc)) from None
            except self._client.exceptions.ConflictException:
                key_id = self._key_id(name)  # created by a concurrent retry
                assert key_id is not None
        member_of = {plan["id"] for plan in self._plans(key_id)}
        for plan in self._plans():
            wanted = (plan.get("tags") or {}).get("saas:tier") == tier
            if wanted and plan["id"] not in member_of:
                self._client.create_usage_plan_key(
                    usagePlanId=plan["id"], keyId=key_id, keyType="API_KEY"
                )
            elif not wanted and plan["id"] in member_of:
                self._client.delete_usage_plan_key(usagePlanId=plan["id"], keyId=key_id)
        return key_value(name)

    def delete_key(self, name: str) -> None:
        key_id = self._key_id(name)
        if key_id is not None:
            self._client.delete_api_key(apiKey=key_id)


class ApiGatewayAuthorizerCaches:
    """Every stage of every REST API of the region (the platform's account holds its APIs)."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def flush(self) -> int:
        flushed = 0
        for page in self._client.get_paginator("get_rest_apis").paginate():
            for api in page.get("items", []):
                for stage in self._client.get_stages(restApiId=api["id"]).get("item", []):
                    self._client.flush_stage_authorizers_cache(
                        restApiId=api["id"], stageName=stage["stageName"]
                    )
                    flushed += 1
        return flushed
