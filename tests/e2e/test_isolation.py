"""Tenant isolation the code cannot bypass, proven through the local platform.

Its AWS server evaluates the policies of assumed-role sessions on DynamoDB as AWS does
(saas_local.moto_gaps, ASSUMED_ROLE_POLICIES). Each tenant-serving function (the product and
order APIs and consumers, the tenant and metering services' TenantScopedApiFunction) is run here
with its
deployed environment, through its real adapters and the credentials scoped to the caller's
tenant, with a bug planted in its keys: a request or event of tenant A that asks for a key of
tenant B. AWS refuses it: the API answers 404, the consumer leaves the message for the DLQ with
the reason, and B's data never comes back. With the same bug and credentials that are not
scoped, B's data does come back: the credentials are what stops it. And no function's own role
reads a tenant item at all (the tenant service's control plane excepted, as the README lists)."""

from __future__ import annotations

import json
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

sys.path.insert(0, str(Path(__file__).parent))

from tenant_e2e_kit import active_tenant

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "Isolation-Passw0rd-1"
FLOW_TIMEOUT = 120.0  # seconds a flow may take on a loaded 2-core machine (a bound, not a timing)

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class Tenant:
    tenant_id: str
    admin: str  # TenantAdmin's ID token


@dataclass(frozen=True)
class Planted:
    """Tenant B's data that tenant A's requests will ask for."""

    a: Tenant
    b: Tenant
    product_id: str  # B's product
    order_id: str  # B's order


@pytest.fixture(autouse=True)
def _handlers_imported_here_leave_with_the_test() -> Iterator[None]:
    """The handlers these tests import in a deployed environment (their Metrics and CORS read
    it at import) are forgotten after the test, so a later test in the same process (another
    file, when `make test` runs files in parallel processes) imports them afresh in its own."""
    before = {name for name in sys.modules if ".entrypoints" in name}
    yield
    for name in [n for n in sys.modules if ".entrypoints" in n and n not in before]:
        del sys.modules[name]
        parent, _, child = name.rpartition(".")
        if parent in sys.modules and hasattr(sys.modules[parent], child):
            delattr(sys.modules[parent], child)


@pytest.fixture(scope="module")
def platform() -> Iterator[Any]:
    from saas_local.testing import start_platform

    with start_platform(ROOT, region_map={"us": "us-east-1"}) as running:
        yield running


def _onboard(platform: Any, root: str) -> Tenant:
    suffix = uuid.uuid4().hex[:8]
    tenant_id = active_tenant(platform, root, timeout=FLOW_TIMEOUT)
    username = f"admin-{suffix}"
    platform.create_user(username, PASSWORD, "TenantAdmin", tenant_id)
    return Tenant(tenant_id, platform.login(username, PASSWORD))


@pytest.fixture(scope="module")
def planted(platform: Any) -> Planted:
    root = platform.login(*platform.system_admin)
    a, b = _onboard(platform, root), _onboard(platform, root)
    product = platform.api(
        "POST",
        "/products",
        token=b.admin,
        json={"name": "B's secret mug", "sku": "SECRET-1", "price": "9.99", "stock": 7},
    )
    assert product.status == 201, product.text
    product_id = str(product.json()["id"])
    order = platform.api(
        "POST",
        "/orders",
        token=b.admin,
        json={"lines": [{"product_id": product_id, "quantity": 1}]},
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )
    assert order.status in (201, 202), order.text
    order_id = str(order.json()["id"])
    platform.wait_until(
        lambda: (
            platform.api("GET", f"/orders/{order_id}", token=b.admin).json()["status"]
            == "CONFIRMED"
        ),
        timeout=FLOW_TIMEOUT,
    )
    return Planted(a, b, product_id, order_id)


# --- the functions as deployed -------------------------------------------------------------


def _functions(platform: Any) -> list[dict[str, Any]]:
    client = platform.client("lambda")
    functions: list[dict[str, Any]] = []
    for page in client.get_paginator("list_functions").paginate():
        functions += page["Functions"]
    return functions


def _deployed(platform: Any, handler: str, *, scoped: bool | None = None) -> dict[str, Any]:
    """The function deployed with `handler`; `scoped` tells apart two functions of one handler
    (the tenant API's): the one given a tenant-access role, or the one without."""
    (function,) = [
        f
        for f in _functions(platform)
        if f["Handler"] == handler
        and (
            scoped is None
            or scoped == ("TENANT_ACCESS_ROLE_ARN" in f.get("Environment", {}).get("Variables", {}))
        )
    ]
    return function


@pytest.fixture
def run_as_deployed(platform: Any, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Any]:
    """Install a container built from a deployed function's environment, as its worker builds
    it (the service's `container` module is given); returns that container."""

    def install(handler: str, container_module: Any, *, scoped: bool | None = None) -> Any:
        deployed = _deployed(platform, handler, scoped=scoped)
        environment = {
            **deployed.get("Environment", {}).get("Variables", {}),
            "AWS_ENDPOINT_URL": platform.aws_endpoint_url,
            "AWS_REGION": platform.region,
            "AWS_DEFAULT_REGION": platform.region,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "POWERTOOLS_TRACE_DISABLED": "true",
        }
        assert environment["TENANT_ACCESS_ROLE_ARN"].endswith("-tenant-access-us-east-1")
        for name, value in environment.items():
            monkeypatch.setenv(name, value)
        monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
        built = container_module.Container(container_module.Settings.from_environ())
        # monkeypatch puts back the container that was there before (use_container first would
        # have made it put this one back, leaking it into later tests).
        monkeypatch.setattr(container_module, "_container", built)
        return built

    return install


class _Context:
    function_name = "isolation"
    function_version = "$LATEST"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:isolation"
    aws_request_id = "req-isolation"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 30_000


def _tenant(tenant: Tenant) -> Any:
    from tenant_context import RegionGroup, Role, TenantContext, Tier

    return TenantContext(
        tenant_id=tenant.tenant_id,
        role=Role.TENANT_ADMIN,
        user_id="u-isolation",
        tier=Tier.BASIC,
        region_group=RegionGroup.US,
    )


def _api_event(
    path: str,
    resource: str,
    parameters: dict[str, str] | None,
    tenant: Tenant,
    *,
    method: str = "GET",
    body: dict[str, Any] | None = None,
) -> Any:
    ctx = _tenant(tenant)
    content = {"Content-Type": "application/json"} if body is not None else {}
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": {"X-Correlation-Id": "corr-isolation", **content},
        "multiValueHeaders": {},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": parameters,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": resource,
            "httpMethod": method,
            "path": f"/prod{path}",
            "stage": "prod",
            "requestId": "req-isolation",
            "accountId": "123456789012",
            "apiId": "api",
            "identity": {"sourceIp": "127.0.0.1"},
            "authorizer": {**ctx.to_authorizer(), "principalId": ctx.user_id},
        },
        "body": None if body is None else json.dumps(body),
        "isBase64Encoded": False,
    }


def _sqs_event(source: str, detail_type: str, data: dict[str, Any], tenant: Tenant) -> Any:
    from tenant_context import new_metadata, write_envelope

    ctx = _tenant(tenant)
    metadata = new_metadata(tenant_id=ctx.tenant_id, producer=source, context=ctx)
    body = {
        "version": "0",
        "id": "eb-isolation",
        "detail-type": detail_type,
        "source": source,
        "account": "123456789012",
        "time": "2026-12-04T00:00:00Z",
        "region": "us-east-1",
        "resources": [],
        "detail": write_envelope(metadata, data),
    }
    return {
        "Records": [
            {
                "messageId": "m-planted",
                "receiptHandle": "rh-planted",
                "body": json.dumps(body),
                "attributes": {
                    "ApproximateReceiveCount": "1",
                    "SentTimestamp": "1700000000000",
                    "SenderId": "AIDA",
                    "ApproximateFirstReceiveTimestamp": "1700000000000",
                },
                "messageAttributes": {},
                "md5OfBody": "x",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:saas-events",
                "awsRegion": "us-east-1",
            }
        ]
    }


def _plant_keys_of(monkeypatch: pytest.MonkeyPatch, modules: list[Any], victim: str) -> None:
    """The planted bug: every key the adapters build names `victim`'s partition (an id taken
    from the wrong place)."""

    def wrong_key(_tenant: Any, sk: str) -> dict[str, Any]:
        return {"pk": {"S": f"TENANT#{victim}"}, "sk": {"S": sk}}

    def wrong_partition(*_tenant: Any) -> str:
        return f"TENANT#{victim}"

    for module in modules:
        monkeypatch.setattr(module, "item_key", wrong_key)
        if hasattr(module, "tenant_pk"):
            monkeypatch.setattr(module, "tenant_pk", wrong_partition)


class _Unscoped:
    """Credentials that are not scoped to a tenant (the platform's own): the control case."""

    def __init__(self, platform: Any) -> None:
        self._client = platform.client("dynamodb")

    def dynamodb(self, _tenant: Any) -> Any:
        return self._client


def _left_for_the_dlq(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The reasons the consumer logged for the messages it left for the DLQ."""
    reasons = [
        str(record.__dict__["reason"])
        for record in caplog.records
        if "left for the DLQ" in record.getMessage()
    ]
    caplog.clear()
    return reasons


# --- the proofs -----------------------------------------------------------------------------


def test_no_functions_own_role_reads_a_tenant_item(platform: Any, planted: Planted) -> None:
    sts = platform.client("sts")
    endpoint = platform.aws_endpoint_url
    import boto3

    functions = _functions(platform)
    assert len(functions) >= 8  # every service's functions, not none
    reads = [
        (
            "saas-products",
            {
                "pk": {"S": f"TENANT#{planted.b.tenant_id}"},
                "sk": {"S": "PRODUCT#" + planted.product_id},
            },
        ),
        (
            "saas-orders",
            {
                "pk": {"S": f"TENANT#{planted.b.tenant_id}"},
                "sk": {"S": "ORDER#" + planted.order_id},
            },
        ),
    ]
    root = platform.client("dynamodb")
    for table, key in reads:  # the items are there: a denial is the role's doing
        assert "Item" in root.get_item(TableName=table, Key=key)
    for function in functions:
        credentials = sts.assume_role(RoleArn=function["Role"], RoleSessionName="role-alone")[
            "Credentials"
        ]
        dynamodb = boto3.client(
            "dynamodb",
            region_name=platform.region,
            endpoint_url=endpoint,
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
        )
        for table, key in reads:
            with pytest.raises(ClientError) as refused:
                dynamodb.get_item(TableName=table, Key=key)
            error = refused.value.response["Error"]
            assert error["Code"] == "AccessDeniedException", (function["FunctionName"], error)
            assert (
                f"on resource: arn:aws:dynamodb:us-east-1:123456789012:table/{table}"
                in (error["Message"])
            )
            with pytest.raises(ClientError, match="AccessDeniedException"):
                dynamodb.query(
                    TableName=table,
                    KeyConditionExpression="pk = :pk",
                    ExpressionAttributeValues={":pk": key["pk"]},
                )


def test_product_api_with_the_planted_bug_answers_404_never_bs_product(
    platform: Any,
    planted: Planted,
    run_as_deployed: Callable[[str, Any], Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from product_service import container as product_container
    from product_service.adapters import dynamodb_product_store, dynamodb_unit_of_work

    _plant_keys_of(
        monkeypatch, [dynamodb_product_store, dynamodb_unit_of_work], planted.b.tenant_id
    )
    event = _api_event(
        f"/products/{planted.product_id}",
        "/products/{product_id}",
        {"product_id": planted.product_id},
        planted.a,
    )

    run_as_deployed("product_service.entrypoints.api.handler", product_container)
    from product_service.entrypoints import api  # in the deployed environment (Metrics)

    answer = api.handler(event, _Context())

    assert answer["statusCode"] == 404, answer
    assert json.loads(answer["body"])["message"] == f"product {planted.product_id!r} not found"
    assert "secret" not in answer["body"]

    # The control: the same bug with credentials not scoped to the tenant leaks B's product.
    run_as_deployed(
        "product_service.entrypoints.api.handler", product_container
    ).tenant_clients = _Unscoped(platform)
    leaked = api.handler(event, _Context())
    assert leaked["statusCode"] == 200
    assert json.loads(leaked["body"])["name"] == "B's secret mug"


def test_product_consumer_with_the_planted_bug_leaves_the_event_for_the_dlq(
    platform: Any,
    planted: Planted,
    run_as_deployed: Callable[[str, Any], Any],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from product_service import container as product_container
    from product_service.adapters import dynamodb_product_store, dynamodb_unit_of_work

    _plant_keys_of(
        monkeypatch, [dynamodb_product_store, dynamodb_unit_of_work], planted.b.tenant_id
    )
    stock_before = _stock(platform, planted)
    run_as_deployed("product_service.entrypoints.consumer.handler", product_container)
    # Imported in the deployed environment: its Metrics read their namespace from it.
    from product_service.entrypoints import consumer

    events: list[tuple[str, dict[str, Any]]] = [
        (
            "OrderPlaced",
            {"order_id": "o-planted", "lines": [{"product_id": planted.product_id, "quantity": 3}]},
        ),
        ("TenantDeprovisioned", {"tenant_id": planted.a.tenant_id}),
    ]
    for detail_type, data in events:
        caplog.clear()
        answer = consumer.handler(
            _sqs_event(
                "saas.order" if detail_type == "OrderPlaced" else "saas.provisioner",
                detail_type,
                data,
                planted.a,
            ),
            _Context(),
        )
        assert answer == {"batchItemFailures": [{"itemIdentifier": "m-planted"}]}, detail_type
        (reason,) = _left_for_the_dlq(caplog)
        assert "is not authorized to perform: dynamodb:" in reason
        assert (
            f"assumed-role/saas-product-tenant-access-us-east-1/tenant-{planted.a.tenant_id}"
            in reason
        )
    assert _stock(platform, planted) == stock_before  # nothing of B's changed


def _stock(platform: Any, planted: Planted) -> int:
    item = platform.client("dynamodb").get_item(
        TableName="saas-products",
        Key={
            "pk": {"S": f"TENANT#{planted.b.tenant_id}"},
            "sk": {"S": "PRODUCT#" + planted.product_id},
        },
    )["Item"]
    return int(item["stock"]["N"])


def test_order_api_with_the_planted_bug_answers_404_never_bs_order(
    platform: Any,
    planted: Planted,
    run_as_deployed: Callable[[str, Any], Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from order_service import container as order_container
    from order_service.adapters import dynamodb_order_repository, dynamodb_unit_of_work

    _plant_keys_of(
        monkeypatch, [dynamodb_order_repository, dynamodb_unit_of_work], planted.b.tenant_id
    )
    event = _api_event(
        f"/orders/{planted.order_id}",
        "/orders/{order_id}",
        {"order_id": planted.order_id},
        planted.a,
    )

    run_as_deployed("order_service.entrypoints.api.handler", order_container)
    from order_service.entrypoints import api  # in the deployed environment (Metrics)

    answer = api.handler(event, _Context())

    assert answer["statusCode"] == 404, answer
    assert json.loads(answer["body"])["message"] == f"order {planted.order_id} not found"
    assert planted.product_id not in answer["body"]

    run_as_deployed(
        "order_service.entrypoints.api.handler", order_container
    ).tenant_clients = _Unscoped(platform)
    leaked = api.handler(event, _Context())
    assert leaked["statusCode"] == 200
    assert planted.product_id in leaked["body"]


def test_order_consumer_with_the_planted_bug_leaves_the_event_for_the_dlq(
    platform: Any,
    planted: Planted,
    run_as_deployed: Callable[[str, Any], Any],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from order_service import container as order_container
    from order_service.adapters import dynamodb_order_repository, dynamodb_unit_of_work

    _plant_keys_of(
        monkeypatch, [dynamodb_order_repository, dynamodb_unit_of_work], planted.b.tenant_id
    )
    run_as_deployed("order_service.entrypoints.consumer.handler", order_container)
    # Imported in the deployed environment: its Metrics read their namespace from it.
    from order_service.entrypoints import consumer

    events = [
        ("saas.product", "StockReservationRejected", {"order_id": planted.order_id, "reason": "x"}),
        ("saas.provisioner", "TenantDeprovisioned", {"tenant_id": planted.a.tenant_id}),
    ]
    for source, detail_type, data in events:
        caplog.clear()
        answer = consumer.handler(_sqs_event(source, detail_type, data, planted.a), _Context())
        assert answer == {"batchItemFailures": [{"itemIdentifier": "m-planted"}]}, detail_type
        (reason,) = _left_for_the_dlq(caplog)
        assert "is not authorized to perform: dynamodb:" in reason
        assert (
            f"assumed-role/saas-order-tenant-access-us-east-1/tenant-{planted.a.tenant_id}"
            in reason
        )
    status = platform.api("GET", f"/orders/{planted.order_id}", token=planted.b.admin).json()
    assert status["status"] == "CONFIRMED"  # nothing of B's changed


def test_a_premium_tenant_works_in_its_own_table_which_no_other_tenant_reaches(
    platform: Any, planted: Planted, monkeypatch: pytest.MonkeyPatch
) -> None:
    from product_service.adapters.aws_clients import AwsClients
    from product_service.adapters.sts_tenant_scoped_clients import StsTenantScopedClients
    from product_service.domain.errors import OutsideTheTenant

    root = platform.login(*platform.system_admin)
    suffix = uuid.uuid4().hex[:8]
    answer = platform.api(
        "POST",
        "/tenants",
        token=root,
        json={
            "name": f"Premium {suffix}",
            "tier": "premium",
            "region_group": "us",
            "admin_email": f"owner-{suffix}@isolation.test",
        },
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )
    assert answer.status == 202, answer.text
    premium_id = str(answer.json()["id"])
    platform.wait_until(
        lambda: (
            platform.api("GET", f"/tenants/{premium_id}", token=root).json()["status"] == "ACTIVE"
        ),
        timeout=FLOW_TIMEOUT,
    )
    platform.create_user(f"premium-{suffix}", PASSWORD, "TenantAdmin", premium_id)
    token = platform.login(f"premium-{suffix}", PASSWORD)

    created = platform.api(
        "POST",
        "/products",
        token=token,
        json={"name": "Gold mug", "sku": "GOLD-1", "price": "99.00", "stock": 1},
    )
    assert created.status == 201, created.text
    product_id = str(created.json()["id"])
    assert platform.api("GET", f"/products/{product_id}", token=token).json()["name"] == "Gold mug"
    table = f"tenant-{premium_id}-products"
    key = {"pk": {"S": f"TENANT#{premium_id}"}, "sk": {"S": f"PRODUCT#{product_id}"}}
    assert "Item" in platform.client("dynamodb").get_item(TableName=table, Key=key)

    # Tenant A's scoped session, as the product functions build it, is refused that table.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    environment = _deployed(platform, "product_service.entrypoints.api.handler")["Environment"]
    scoped = StsTenantScopedClients(
        AwsClients({"us": platform.region}, platform.aws_endpoint_url),
        role_arn=environment["Variables"]["TENANT_ACCESS_ROLE_ARN"],
        sts_region=platform.region,
        region_map={"us": platform.region},
    )
    with pytest.raises(OutsideTheTenant, match=f"table/{table}"):
        scoped.dynamodb(_tenant(planted.a)).get_item(TableName=table, Key=key)


# --- the tenant service: a TenantAdmin's routes on TenantScopedApiFunction --------------------


def _users_of(platform: Any, tenant_id: str) -> list[dict[str, Any]]:
    """The tenant's user items, read with the platform's own keys (what is really there)."""
    items: list[dict[str, Any]] = platform.client("dynamodb").query(
        TableName="saas-tenant-service",
        KeyConditionExpression="pk = :pk AND begins_with(sk, :user)",
        ExpressionAttributeValues={":pk": {"S": f"TENANT#{tenant_id}"}, ":user": {"S": "USER#"}},
    )["Items"]
    return items


@pytest.fixture(scope="module")
def bs_user(platform: Any, planted: Planted) -> dict[str, Any]:
    """A user B's admin created through the API (so through TenantScopedApiFunction, on B's
    scoped credentials): the user item A's requests will ask for."""
    email = f"b-secret-{uuid.uuid4().hex[:6]}@isolation.test"
    created = platform.api(
        "POST", "/users", token=planted.b.admin, json={"email": email, "role": "TenantUser"}
    )
    assert created.status == 201, created.text
    (item,) = [i for i in _users_of(platform, planted.b.tenant_id) if i["email"]["S"] == email]
    return item


def _plant_tenant_keys_of(monkeypatch: pytest.MonkeyPatch, victim: str) -> None:
    """The planted bug in the tenant service: the tenant record's key names `victim`."""
    from tenant_service.adapters import dynamodb_tenant_repository

    monkeypatch.setattr(
        dynamodb_tenant_repository, "tenant_key", lambda _tenant_id: {"tenant_id": {"S": victim}}
    )


def test_tenant_api_with_the_planted_bug_answers_404_never_bs_record_or_users(
    platform: Any,
    planted: Planted,
    bs_user: dict[str, Any],
    run_as_deployed: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tenant_service import container as tenant_container
    from tenant_service.adapters import dynamodb_tenant_repository, dynamodb_unit_of_work

    a, b = planted.a.tenant_id, planted.b.tenant_id
    b_username, b_email = bs_user["username"]["S"], bs_user["email"]["S"]
    b_name = platform.client("dynamodb").get_item(
        TableName="saas-tenants", Key={"tenant_id": {"S": b}}
    )["Item"]["name"]["S"]
    handler = "tenant_service.entrypoints.api.handler"
    get_tenant = _api_event(f"/tenants/{a}", "/tenants/{tenant_id}", {"tenant_id": a}, planted.a)
    list_users = _api_event("/users", "/users", None, planted.a)
    disable = _api_event(
        f"/users/{b_username}/disable",
        "/users/{username}/disable",
        {"username": b_username},
        planted.a,
        method="POST",
    )
    new_email = f"a-new-{uuid.uuid4().hex[:6]}@isolation.test"
    create = _api_event(
        "/users",
        "/users",
        None,
        planted.a,
        method="POST",
        body={"email": new_email, "role": "TenantUser"},
    )

    # The tenant record's key taken from the wrong place: A's admin reading A's tenant
    _plant_tenant_keys_of(monkeypatch, b)
    run_as_deployed(handler, tenant_container, scoped=True)
    from tenant_service.entrypoints import api  # in the deployed environment (Metrics)

    answer = api.handler(get_tenant, _Context())
    assert answer["statusCode"] == 404, answer
    assert json.loads(answer["body"])["message"] == f"tenant {a!r} not found"
    assert b not in answer["body"]
    assert b_name not in answer["body"]
    monkeypatch.undo()

    # The service table's keys taken from the wrong place: A's users are B's partition
    _plant_keys_of(monkeypatch, [dynamodb_tenant_repository, dynamodb_unit_of_work], b)
    run_as_deployed(handler, tenant_container, scoped=True)
    answers = [api.handler(event, _Context()) for event in (list_users, disable, create)]

    assert [a["statusCode"] for a in answers] == [404, 404, 404], answers
    assert [json.loads(a["body"])["message"] for a in answers] == [
        "no such item in the caller's tenant",
        f"user {b_username!r} not found",
        "no such item in the caller's tenant",
    ]
    # Nothing of B's comes back (the disable's 404 names only the username A asked for).
    assert not any(b_email in a["body"] for a in (answers[0], answers[2]))
    assert set(json.loads(answers[1]["body"])) == {"statusCode", "message", "detail"}
    (after,) = [i for i in _users_of(platform, b) if i["username"]["S"] == b_username]
    assert after == bs_user  # B's user is as it was: not disabled
    assert not [i for i in _users_of(platform, b) if i.get("email", {}).get("S") == new_email]

    # The control: the same bug with credentials not scoped to the tenant leaks B's users.
    run_as_deployed(handler, tenant_container, scoped=True).tenant_clients = _Unscoped(platform)
    leaked = api.handler(list_users, _Context())
    assert leaked["statusCode"] == 200
    assert b_email in leaked["body"]


def test_a_systemadmins_read_of_a_tenant_is_scoped_to_that_tenant(
    platform: Any, planted: Planted, run_as_deployed: Callable[..., Any]
) -> None:
    """GET /tenants/{id} serves a SystemAdmin too, on the same scoped function: its session is
    tagged with the tenant it reads, which it gets, and nothing else."""
    from tenant_service import container as tenant_container

    run_as_deployed("tenant_service.entrypoints.api.handler", tenant_container, scoped=True)
    from tenant_service.entrypoints import api

    b = planted.b.tenant_id
    event = _api_event(f"/tenants/{b}", "/tenants/{tenant_id}", {"tenant_id": b}, planted.a)
    event["requestContext"]["authorizer"] = {
        "role": "SystemAdmin",
        "user_id": "root",
        "tenant_id": "",
        "principalId": "root",
    }
    answer = api.handler(event, _Context())
    assert answer["statusCode"] == 200, answer
    assert json.loads(answer["body"])["id"] == b

    scoped = tenant_container.container().tenant_clients
    with pytest.raises(Exception, match="not authorized to perform: dynamodb:GetItem"):
        scoped.dynamodb(b).get_item(
            TableName="saas-tenants", Key={"tenant_id": {"S": planted.a.tenant_id}}
        )
    with pytest.raises(Exception, match="not authorized to perform: dynamodb:Scan"):
        scoped.dynamodb(b).scan(TableName="saas-tenants")


def _reads(dynamodb: Any, table: str, key: dict[str, Any]) -> bool:
    """Whether the client may read the item (False: AWS refused it, AccessDenied)."""
    try:
        dynamodb.get_item(TableName=table, Key=key)
    except ClientError as refused:
        if refused.response["Error"]["Code"] != "AccessDeniedException":
            raise
        return False
    return True


def test_no_tenant_serving_role_reads_a_tenant_record_or_user(
    platform: Any, planted: Planted, bs_user: dict[str, Any]
) -> None:
    """The tenant service's items, read with each function's own role: only the control plane
    the README lists reaches them (the authorizer, the control-plane API and the consumer); the
    scoped API function's role, and every other function's, is refused."""
    import boto3

    b = planted.b.tenant_id
    reads = [
        ("saas-tenants", {"tenant_id": {"S": b}}),
        ("saas-tenant-service", {"pk": {"S": f"TENANT#{b}"}, "sk": bs_user["sk"]}),
    ]
    root = platform.client("dynamodb")
    for table, key in reads:  # the items are there: a denial is the role's doing
        assert "Item" in root.get_item(TableName=table, Key=key)
    sts = platform.client("sts")
    readers: dict[str, list[str]] = {}
    scoped_role = _deployed(platform, "tenant_service.entrypoints.api.handler", scoped=True)
    for function in _functions(platform):
        credentials = sts.assume_role(RoleArn=function["Role"], RoleSessionName="role-alone")[
            "Credentials"
        ]
        dynamodb = boto3.client(
            "dynamodb",
            region_name=platform.region,
            endpoint_url=platform.aws_endpoint_url,
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
        )
        # <package>.<logical id> (a deployed name is <stack>-<logical id>-<suffix>)
        name = f"{function['Handler'].split('.')[0]}.{function['FunctionName'].split('-')[-2]}"
        for table, key in reads:
            if _reads(dynamodb, table, key):
                readers.setdefault(name, []).append(table)
        if function["FunctionName"] == scoped_role["FunctionName"]:
            assert name == "tenant_service.TenantScopedApiFunction"
            assert name not in readers  # the scoped function's role: nothing
            with pytest.raises(ClientError, match="AccessDeniedException"):
                dynamodb.query(
                    TableName="saas-tenant-service",
                    KeyConditionExpression="pk = :pk",
                    ExpressionAttributeValues={":pk": {"S": f"TENANT#{b}"}},
                )

    # The control plane: the authorizer (both, one item each), the control-plane API (the
    # record, never a user item) and the consumer (both).
    assert readers == {
        "tenant_service.AuthorizerFunction": ["saas-tenants", "saas-tenant-service"],
        "tenant_service.ApiFunction": ["saas-tenants"],
        "tenant_service.ConsumerFunction": ["saas-tenants", "saas-tenant-service"],
    }


# --- the metering service: a tenant's usage on TenantScopedApiFunction ------------------------

USAGE_DAY = "2001-01-01"  # a day no real usage lands on: B's row planted below is all it holds
B_REQUESTS = 4242


@pytest.fixture(scope="module")
def bs_usage(platform: Any, planted: Planted) -> dict[str, Any]:
    """A day of B's usage (written with the platform's own keys, as the records' consumer adds
    it): the row A's requests will ask for."""
    key = {"pk": {"S": f"TENANT#{planted.b.tenant_id}"}, "sk": {"S": f"DAY#{USAGE_DAY}"}}
    platform.client("dynamodb").put_item(
        TableName="saas-usage",
        Item={
            **key,
            "requests": {"N": str(B_REQUESTS)},
            "order:requests": {"N": str(B_REQUESTS)},
        },
    )
    return key


def _usage_event(tenant_id: str, caller: Tenant) -> Any:
    event = _api_event(
        f"/tenants/{tenant_id}/usage",
        "/tenants/{tenant_id}/usage",
        {"tenant_id": tenant_id},
        caller,
    )
    event["queryStringParameters"] = {"from": USAGE_DAY, "to": USAGE_DAY}
    return event


def _refusals(caplog: pytest.LogCaptureFixture) -> list[str]:
    """AWS's refusals the API logged (OutsideTheTenant) before answering 404."""
    refusals = [
        str(record.__dict__["refusal"])
        for record in caplog.records
        if "scoped credentials were refused a key" in record.getMessage()
    ]
    caplog.clear()
    return refusals


def test_metering_api_with_the_planted_bug_answers_404_never_bs_usage(
    platform: Any,
    planted: Planted,
    bs_usage: dict[str, Any],
    run_as_deployed: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from metering_service import container as metering_container
    from metering_service.adapters import dynamodb_tenant_directory, dynamodb_usage_store

    a, b = planted.a.tenant_id, planted.b.tenant_id
    handler = "metering_service.entrypoints.api.handler"
    event = _usage_event(a, planted.a)
    session = f"assumed-role/saas-metering-tenant-access-us-east-1/tenant-{a}"

    # The directory's key taken from the wrong place: A's admin asking whether A exists
    monkeypatch.setattr(
        dynamodb_tenant_directory, "tenant_key", lambda _tenant_id: {"tenant_id": {"S": b}}
    )
    run_as_deployed(handler, metering_container, scoped=True)
    from metering_service.entrypoints import api  # in the deployed environment (Metrics)

    caplog.clear()
    answer = api.handler(event, _Context())
    assert answer["statusCode"] == 404, answer
    assert json.loads(answer["body"])["message"] == f"no tenant {a}"
    assert b not in answer["body"]
    (refusal,) = _refusals(caplog)
    assert f"{session} is not authorized to perform: dynamodb:GetItem" in refusal
    assert "table/saas-tenants" in refusal
    monkeypatch.undo()

    # The usage table's partition taken from the wrong place: A's days are B's rows
    monkeypatch.setattr(dynamodb_usage_store, "tenant_pk", lambda _tenant_id: f"TENANT#{b}")
    run_as_deployed(handler, metering_container, scoped=True)
    answer = api.handler(event, _Context())
    assert answer["statusCode"] == 404, answer
    assert json.loads(answer["body"])["message"] == f"no tenant {a}"
    assert str(B_REQUESTS) not in answer["body"]
    (refusal,) = _refusals(caplog)
    assert f"{session} is not authorized to perform: dynamodb:Query" in refusal
    assert "table/saas-usage" in refusal

    # The control: the same bug with credentials not scoped to the tenant leaks B's usage.
    run_as_deployed(handler, metering_container, scoped=True).tenant_clients = _Unscoped(platform)
    leaked = api.handler(event, _Context())
    assert leaked["statusCode"] == 200, leaked
    assert json.loads(leaked["body"])["total"]["requests"] == B_REQUESTS


def test_a_systemadmins_read_of_a_tenants_usage_is_scoped_to_that_tenant(
    platform: Any,
    planted: Planted,
    bs_usage: dict[str, Any],
    run_as_deployed: Callable[..., Any],
) -> None:
    """GET /tenants/{id}/usage serves a SystemAdmin too, on the same scoped function: its
    session is tagged with the tenant it reads, which it gets, and nothing else (no other
    tenant's rows, no by-period index of every tenant's, no Scan)."""
    from metering_service import container as metering_container

    run_as_deployed("metering_service.entrypoints.api.handler", metering_container, scoped=True)
    from metering_service.entrypoints import api

    b = planted.b.tenant_id
    event = _usage_event(b, planted.a)
    event["requestContext"]["authorizer"] = {
        "role": "SystemAdmin",
        "user_id": "root",
        "tenant_id": "",
        "principalId": "root",
    }
    answer = api.handler(event, _Context())
    assert answer["statusCode"] == 200, answer
    assert json.loads(answer["body"])["total"]["requests"] == B_REQUESTS

    scoped = metering_container.container().tenant_clients.dynamodb(b)
    with pytest.raises(Exception, match="not authorized to perform: dynamodb:Query"):
        scoped.query(
            TableName="saas-usage",
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": f"TENANT#{planted.a.tenant_id}"}},
        )
    with pytest.raises(Exception, match="not authorized to perform: dynamodb:Query"):
        scoped.query(
            TableName="saas-usage",
            IndexName="by-period",
            KeyConditionExpression="sk = :day",
            ExpressionAttributeValues={":day": {"S": f"DAY#{USAGE_DAY}"}},
        )
    with pytest.raises(Exception, match="not authorized to perform: dynamodb:Scan"):
        scoped.scan(TableName="saas-usage")


def _queries(dynamodb: Any, table: str, key: dict[str, Any]) -> bool:
    """Whether the client may query the key's partition (False: AWS refused it)."""
    try:
        dynamodb.query(
            TableName=table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": key["pk"]},
        )
    except ClientError as refused:
        if refused.response["Error"]["Code"] != "AccessDeniedException":
            raise
        return False
    return True


def test_no_tenant_serving_role_reads_a_usage_row(
    platform: Any, planted: Planted, bs_usage: dict[str, Any]
) -> None:
    """The usage table, read with each function's own role: only the cross-tenant functions the
    README lists reach it (the records' consumer, and the control plane's listings by Query);
    the tenant-serving function's role, and every other function's, is refused."""
    import boto3

    assert "Item" in platform.client("dynamodb").get_item(TableName="saas-usage", Key=bs_usage)
    sts = platform.client("sts")
    readers: dict[str, list[str]] = {}
    api_handler = "metering_service.entrypoints.api.handler"
    scoped = _deployed(platform, api_handler, scoped=True)["FunctionName"]
    control_plane = _deployed(platform, api_handler, scoped=False)["FunctionName"]
    records = _deployed(platform, "metering_service.entrypoints.usage_records.handler")
    for function in _functions(platform):
        credentials = sts.assume_role(RoleArn=function["Role"], RoleSessionName="role-alone")[
            "Credentials"
        ]
        dynamodb = boto3.client(
            "dynamodb",
            region_name=platform.region,
            endpoint_url=platform.aws_endpoint_url,
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
        )
        name = function["FunctionName"]
        if _reads(dynamodb, "saas-usage", bs_usage):
            readers.setdefault(name, []).append("GetItem")
        if _queries(dynamodb, "saas-usage", bs_usage):
            readers.setdefault(name, []).append("Query")

    assert scoped not in readers  # the tenant-serving function's own role: nothing
    assert readers == {
        records["FunctionName"]: ["GetItem", "Query"],
        control_plane: ["Query"],
    }
