"""The FQL the Fauna data space sends, pinned through the driver's own HTTP-client interface, and
how it reads Fauna's responses. Secrets Manager is moto."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator, Mapping
from typing import Any

import boto3
import pytest
from fauna.client import Client
from fauna.http.http_client import HTTPClient, HTTPResponse
from moto import mock_aws
from provisioner_builders import tenant_image

from provisioner.adapters.fauna_tenant_data_space import FaunaTenantDataSpace
from provisioner.domain.environment import DEFAULT_REGION_MAP, stack_ref_for
from provisioner.domain.tenant import Tenant

ENDPOINT = "http://fauna.test"
ADMIN = "fnAdminSecret"
STATS = {
    "compute_ops": 1,
    "read_ops": 0,
    "write_ops": 1,
    "query_time_ms": 3,
    "storage_bytes_read": 0,
    "storage_bytes_write": 0,
    "contention_retries": 0,
}


class _Response(HTTPResponse):
    def __init__(self, status: int, body: dict[str, Any]) -> None:
        self._status, self._body = status, body

    def headers(self) -> Mapping[str, str]:
        return {}

    def status_code(self) -> int:
        return self._status

    def json(self) -> Any:
        return self._body

    def text(self) -> str:
        return json.dumps(self._body)

    def read(self) -> bytes:
        return self.text().encode()

    def iter_bytes(self) -> Iterator[bytes]:
        yield self.read()

    def close(self) -> None:
        pass


class FakeFauna(HTTPClient):
    """Answers /query/1 like FaunaDB (tagged format) and keeps every request it got."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str]] = []  # (secret, rendered FQL)
        self.answers: list[Any] = []

    def request(self, method: str, url: str, headers: Mapping[str, str], data: Mapping[str, Any]):
        assert (method, url) == ("POST", f"{ENDPOINT}/query/1")
        secret = headers["Authorization"].removeprefix("Bearer ")
        self.requests.append((secret, render(data["query"])))
        answer = self.answers.pop(0) if self.answers else None
        return _Response(200, {"data": answer, "summary": "", "txn_ts": 1, "stats": STATS})

    @contextlib.contextmanager
    def stream(self, url: str, headers: Mapping[str, str], data: Mapping[str, Any]):
        raise AssertionError("the data space never streams")
        yield

    def close(self) -> None:
        pass


def render(encoded: Any) -> str:
    """The FQL text with its arguments written in place as JSON."""
    if isinstance(encoded, dict) and "fql" in encoded:
        return "".join(render(part) for part in encoded["fql"])
    if isinstance(encoded, dict) and "value" in encoded:
        return json.dumps(encoded["value"], sort_keys=True)
    return str(encoded)


@pytest.fixture
def fauna() -> FakeFauna:
    return FakeFauna()


@pytest.fixture
def data_space(fauna, monkeypatch) -> Iterator[FaunaTenantDataSpace]:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        yield FaunaTenantDataSpace(
            admin=Client(endpoint=ENDPOINT, secret=ADMIN, http_client=fauna),
            secrets_client_for=lambda region: boto3.client("secretsmanager", region_name=region),
        )


TENANT = Tenant.from_record(tenant_image(region_group="eu"))
REF = stack_ref_for(TENANT, DEFAULT_REGION_MAP)


def test_a_new_tenant_gets_an_empty_database_and_a_scoped_key_in_secrets_manager(data_space, fauna):
    fauna.answers = [None, {"secret": "fnTenantKey"}]

    facts = data_space.ensure(TENANT, REF, {})

    [(s1, database), (s2, key)] = fauna.requests
    assert (s1, s2) == (ADMIN, ADMIN)  # the admin key of the parent: it manages child databases
    assert database == (
        'if (Database.byName("tenant_acme") == null) '
        'Database.create({ name: "tenant_acme", data: { tenant_id: "acme" } })\nnull'
    )
    assert key == (
        'Key.all().where(.database == "tenant_acme").forEach(.delete())\n'
        'Key.create({ role: "server", database: "tenant_acme", data: { tenant_id: "acme" } }) '
        "{ secret }"
    )
    stored = boto3.client("secretsmanager", region_name="eu-west-1").get_secret_value(
        SecretId="saas/tenant/acme/fauna"
    )
    assert json.loads(stored["SecretString"]) == {
        "secret": "fnTenantKey",
        "database": "tenant_acme",
        "role": "server",
    }
    assert facts == {
        "FaunaDatabase": "tenant_acme",
        "FaunaKeySecretName": "saas/tenant/acme/fauna",
    }


def test_ensuring_again_makes_no_second_key(data_space, fauna):
    fauna.answers = [None, {"secret": "fnTenantKey"}]
    data_space.ensure(TENANT, REF, {})
    fauna.requests.clear()

    data_space.ensure(TENANT, REF, {})

    assert len(fauna.requests) == 1
    assert not any("Key.create" in fql for _, fql in fauna.requests)


def test_removing_deletes_the_keys_the_database_and_the_secret(data_space, fauna):
    fauna.answers = [None, {"secret": "fnTenantKey"}]
    data_space.ensure(TENANT, REF, {})
    fauna.requests.clear()

    data_space.remove(TENANT, REF)
    data_space.remove(TENANT, REF)  # removing what is gone is not an error

    assert fauna.requests[0] == (
        ADMIN,
        'Key.all().where(.database == "tenant_acme").forEach(.delete())\n'
        'Database.byName("tenant_acme")?.delete()\nnull',
    )
    secrets = boto3.client("secretsmanager", region_name="eu-west-1")
    with pytest.raises(secrets.exceptions.ResourceNotFoundException):
        secrets.describe_secret(SecretId="saas/tenant/acme/fauna")


def test_the_provisioner_creates_no_collection_each_service_owns_its_schema(data_space, fauna):
    fauna.answers = [None, {"secret": "fnTenantKey"}]

    data_space.ensure(TENANT, REF, {})
    data_space.ensure(TENANT, REF, {})
    data_space.remove(TENANT, REF)

    sent = [fql for _, fql in fauna.requests]
    assert len(sent) == 4
    assert not [fql for fql in sent if "Collection" in fql or ".createIndex" in fql]
    # Every query runs in the parent database: the provisioner never works inside a tenant's.
    assert {secret for secret, _ in fauna.requests} == {ADMIN}
