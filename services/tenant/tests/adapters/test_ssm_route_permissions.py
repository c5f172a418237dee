"""The route permissions the services' stacks publish in SSM, read by path on moto."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tenant_service.adapters.ssm_route_permissions import SsmRoutePermissions


@pytest.fixture
def ssm(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        yield boto3.client("ssm", region_name="us-east-1")


def _publish(ssm: Any, service: str, value: str) -> None:
    ssm.put_parameter(Name=f"/saas/permissions/{service}", Value=value, Type="String")


def _table(service: str, path: str) -> str:
    route = {"method": "GET", "path": path, "roles": ["TenantUser"]}
    return json.dumps({"service": service, "routes": [route]})


def test_every_published_service_is_read_across_pages(ssm: Any) -> None:
    # Given more services than one page of get_parameters_by_path holds, and a parameter beside
    for n in range(13):
        _publish(ssm, f"svc{n:02}", _table(f"svc{n:02}", f"/things{n}"))
    ssm.put_parameter(Name="/saas/other/x", Value="{}", Type="String")

    tables = SsmRoutePermissions(ssm, path="/saas/permissions/").load()

    assert sorted(t.service for t in tables) == [f"svc{n:02}" for n in range(13)]
    assert {t.routes[0].path for t in tables} == {f"/things{n}" for n in range(13)}


def test_a_parameter_off_the_convention_is_left_out_and_the_others_stand(
    ssm: Any, caplog: pytest.LogCaptureFixture
) -> None:
    _publish(ssm, "order", _table("order", "/orders"))
    _publish(ssm, "broken", '{"service": "broken", "routes": [{"method": "GET"}]}')

    tables = SsmRoutePermissions(ssm, path="/saas/permissions/").load()

    assert [t.service for t in tables] == ["order"]
    assert "/saas/permissions/broken" in caplog.text


def test_no_service_published_is_an_empty_list(ssm: Any) -> None:
    assert SsmRoutePermissions(ssm, path="/saas/permissions/").load() == []
