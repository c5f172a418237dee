"""The route permissions the services' stacks publish in SSM, read by path from moto's server
through AwsClients' signed call (the authorizer builds no SSM client)."""

from __future__ import annotations

import json
import socket
import urllib.request
from collections.abc import Iterator, Mapping
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from tenant_service.adapters.aws_clients import AwsCallFailed, AwsClients
from tenant_service.adapters.ssm_route_permissions import SsmRoutePermissions


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    # moto's backends live in this process: a server started earlier left its parameters there
    urllib.request.urlopen(
        urllib.request.Request(f"http://127.0.0.1:{port}/moto-api/reset", method="POST")
    )
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def ssm(endpoint: str) -> Any:
    return boto3.client("ssm", region_name="us-east-1", endpoint_url=endpoint)


@pytest.fixture
def source(endpoint: str) -> SsmRoutePermissions:
    aws = AwsClients("us-east-1", endpoint)

    def get_parameters_by_path(request: Mapping[str, Any]) -> dict[str, Any]:
        return aws.call_json("ssm", "AmazonSSM.GetParametersByPath", request)

    return SsmRoutePermissions(get_parameters_by_path, path="/saas/permissions/")


def _publish(ssm: Any, service: str, value: str) -> None:
    ssm.put_parameter(Name=f"/saas/permissions/{service}", Value=value, Type="String")


def _table(service: str, path: str) -> str:
    route = {"method": "GET", "path": path, "roles": ["TenantUser"]}
    return json.dumps({"service": service, "routes": [route]})


def test_every_published_service_is_read_across_pages(ssm: Any, source: Any) -> None:
    # Given more services than one page of get_parameters_by_path holds, and a parameter beside
    for n in range(13):
        _publish(ssm, f"svc{n:02}", _table(f"svc{n:02}", f"/things{n}"))
    ssm.put_parameter(Name="/saas/other/x", Value="{}", Type="String")

    tables = source.load()

    assert sorted(t.service for t in tables) == [f"svc{n:02}" for n in range(13)]
    assert {t.routes[0].path for t in tables} == {f"/things{n}" for n in range(13)}


def test_a_parameter_off_the_convention_is_left_out_and_the_others_stand(
    ssm: Any, source: Any, caplog: pytest.LogCaptureFixture
) -> None:
    _publish(ssm, "order", _table("order", "/orders"))
    _publish(ssm, "broken", '{"service": "broken", "routes": [{"method": "GET"}]}')

    tables = source.load()

    assert [t.service for t in tables] == ["order"]
    assert "/saas/permissions/broken" in caplog.text


def test_no_service_published_is_an_empty_list(source: Any) -> None:
    assert source.load() == []


def test_an_error_of_aws_is_raised_with_its_reason(endpoint: str) -> None:
    aws = AwsClients("us-east-1", endpoint)

    with pytest.raises(AwsCallFailed, match=r"GetParametersByPath: HTTP 400 .*maxResults"):
        aws.call_json("ssm", "AmazonSSM.GetParametersByPath", {"Path": "/a", "MaxResults": 100})
