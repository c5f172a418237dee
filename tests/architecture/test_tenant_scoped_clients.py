"""Credentials scoped to a tenant, in every service that serves one tenant's data from DynamoDB:
one STS call per tenant per container per credential lifetime, renewed before they expire, never
one per request. Each service owns its adapter (docs/conventions.md); this one test holds them
all to the same behaviour. The order and product services scope a client per tenant and region
(the tenant's region group); the tenant and metering services' tables live in their own region,
so their adapters take a tenant id and their one region."""

from __future__ import annotations

import importlib
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from tenant_context import RegionGroup, Role, TenantContext, Tier

# Every service with a tenant-access role (a TenantScopedClients adapter).
PACKAGES = sorted(
    path.parents[1].name
    for path in (Path(__file__).resolve().parents[2] / "services").glob(
        "*/src/*/adapters/sts_tenant_scoped_clients.py"
    )
)
ROLE = "arn:aws:iam::123456789012:role/saas-shop-tenant-access-us-east-1"


# Adapters whose clients are per tenant id in the service's one region (not per region group).
ONE_REGION = {"metering_service", "tenant_service"}


class Adapter:
    """One service's adapter module, built and asked as that service does."""

    def __init__(self, package: str) -> None:
        self.package = package
        self.module = importlib.import_module(f"{package}.adapters.sts_tenant_scoped_clients")
        self.SESSION_SECONDS = self.module.SESSION_SECONDS
        self.RENEW_BEFORE_SECONDS = self.module.RENEW_BEFORE_SECONDS

    def StsTenantScopedClients(self, aws: Any, **options: Any) -> Any:
        if self.package in ONE_REGION:
            del options["region_map"]
            options["region"] = options.pop("sts_region")
        return _Asking(self.package, self.module.StsTenantScopedClients(aws, **options))

    def region(self, ctx: TenantContext) -> str:
        return "us-east-1" if self.package in ONE_REGION else REGION_MAP[ctx.region_group.value]


class _Asking:
    def __init__(self, package: str, clients: Any) -> None:
        self._one_region = package in ONE_REGION
        self._clients = clients

    def dynamodb(self, ctx: TenantContext) -> Any:
        return self._clients.dynamodb(ctx.tenant_id if self._one_region else ctx)


@pytest.fixture(params=PACKAGES)
def adapter(request: pytest.FixtureRequest) -> Adapter:
    return Adapter(request.param)


def test_every_service_serving_tenant_items_has_its_scoped_clients() -> None:
    assert {"metering_service", "order_service", "product_service", "tenant_service"} <= set(
        PACKAGES
    )


REGION_MAP = {"us": "us-east-1", "eu": "eu-west-1", "global": "us-east-1"}


class CountingAws:
    """AwsClients with an STS that counts its calls and hands out numbered credentials."""

    def __init__(self, now: list[float]) -> None:
        self.assume_role_calls: list[dict[str, Any]] = []
        self.scoped: list[tuple[str, str, str]] = []
        self._now = now

    def client(self, service: str, region: str) -> Any:
        assert (service, region) == ("sts", "us-east-1")
        return self

    def assume_role(self, **arguments: Any) -> dict[str, Any]:
        self.assume_role_calls.append(arguments)
        expires = datetime.fromtimestamp(self._now[0] + arguments["DurationSeconds"], UTC)
        number = str(len(self.assume_role_calls))
        return {
            "Credentials": {
                "AccessKeyId": f"ASIA{number}",
                "SecretAccessKey": "secret",
                "SessionToken": "token",
                "Expiration": expires,
            }
        }

    def client_as(self, service: str, region: str, credentials: dict[str, Any]) -> Any:
        self.scoped.append((service, region, credentials["AccessKeyId"]))
        return ScopedClient((service, region, credentials["AccessKeyId"]))


class ScopedClient(tuple[str, str, str]):
    """What the client was made for (service, region, access key), with botocore's event hooks
    (the adapter registers the refusal hook on each client it makes)."""

    @property
    def meta(self) -> Any:
        return SimpleNamespace(events=SimpleNamespace(register=lambda *_args, **_kw: None))


def tenant(tenant_id: str, group: RegionGroup = RegionGroup.US) -> TenantContext:
    return TenantContext(
        tenant_id=tenant_id,
        role=Role.TENANT_USER,
        user_id="u-1",
        tier=Tier.BASIC,
        region_group=group,
    )


def test_one_sts_call_per_tenant_per_credential_lifetime_never_one_per_request(
    adapter: Any,
) -> None:
    now = [1_000_000.0]
    aws = CountingAws(now)
    clients = adapter.StsTenantScopedClients(
        aws,
        role_arn=ROLE,
        sts_region="us-east-1",
        region_map=REGION_MAP,
        clock=lambda: now[0],
    )
    acme, globex = tenant("t-acme"), tenant("t-globex", RegionGroup.EU)

    # 200 requests of two tenants over most of the credentials' lifetime
    for request in range(200):
        assert clients.dynamodb(acme if request % 2 else globex)[2] in ("ASIA1", "ASIA2")
        now[0] += (adapter.SESSION_SECONDS - adapter.RENEW_BEFORE_SECONDS - 1) / 200

    assert len(aws.assume_role_calls) == 2
    assert [(c["RoleSessionName"], c["Tags"]) for c in aws.assume_role_calls] == [
        ("tenant-t-globex", [{"Key": "tenant_id", "Value": "t-globex"}]),
        ("tenant-t-acme", [{"Key": "tenant_id", "Value": "t-acme"}]),
    ]
    assert {c["RoleArn"] for c in aws.assume_role_calls} == {ROLE}
    assert sorted(aws.scoped, key=lambda s: s[2]) == [
        ("dynamodb", adapter.region(globex), "ASIA1"),
        ("dynamodb", adapter.region(acme), "ASIA2"),
    ]

    # Within RENEW_BEFORE_SECONDS of expiry, the next request renews: one more call per tenant
    now[0] += 20  # both sessions are now within RENEW_BEFORE_SECONDS of expiring
    assert clients.dynamodb(globex)[2] == "ASIA3"
    assert clients.dynamodb(acme)[2] == "ASIA4"
    assert clients.dynamodb(acme)[2] == "ASIA4"
    assert len(aws.assume_role_calls) == 4


def test_the_cache_is_bounded_least_recently_used_first_out(adapter: Any) -> None:
    now = [0.0]
    aws = CountingAws(now)
    clients = adapter.StsTenantScopedClients(
        aws,
        role_arn=ROLE,
        sts_region="us-east-1",
        region_map=REGION_MAP,
        max_cached=2,
        clock=lambda: now[0],
    )
    a, b, c = tenant("t-a"), tenant("t-b"), tenant("t-c")
    for ctx in (a, b, a, c):  # b is the least recently used when c arrives
        clients.dynamodb(ctx)
    clients.dynamodb(a)
    assert len(aws.assume_role_calls) == 3
    clients.dynamodb(b)
    assert len(aws.assume_role_calls) == 4
