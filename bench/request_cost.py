"""What a request costs through the real handler (API Gateway event in, response out), as a ratio
to the backend's floor measured in the same run: one put_item / get_item / query with a reused
client against the same moto server. `overhead` runs the same requests on in-memory adapters.

The handlers reach the tables as deployed: with credentials scoped to the tenant (STS AssumeRole
of the services' tenant-access role, their policies from the templates, evaluated by the server
as the local platform does); the floor's client uses a session of the same role and tenant, so
both pay the same policy evaluation and the ratio is the handler's own cost.

Each backend runs in its own interpreter so each gets a fresh container built from its own
environment, as a Lambda execution environment would.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

from bench.report import Row, median_ms
from bench.templates import ROOT, resources, table_variables, tables

N = int(os.environ.get("BENCH_REQUESTS", "200"))
WARMUP = 20
LIST_PAGE = 100
TENANT = "bench-tenant"
CREATE_GET_GOAL = 1.6
LIST_GOAL = 2.0
OVERHEAD_GOAL_MS = 0.5


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def moto_server() -> Iterator[str]:
    """moto's server as the local platform runs it: with transactions that do not copy whole
    tables (saas_local.moto_gaps TRANSACTION_COPY), which no real DynamoDB does either."""
    from moto.server import ThreadedMotoServer

    from saas_local.moto_gaps import (
        enforce_assumed_role_policies,
        keep_session_tags,
        lean_transactions,
    )

    lean_transactions()
    keep_session_tags()
    enforce_assumed_role_policies()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # a line per request otherwise
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def _create_tables(endpoint: str) -> dict[str, str]:
    """Create every table the product and order handlers name; return their environment."""
    import boto3

    client = boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="bench",
        aws_secret_access_key="bench",
    )
    env: dict[str, str] = {}
    for service in ("product", "order"):
        definitions = tables(service)
        for variable, logical_id in table_variables(service).items():
            props = definitions[logical_id]
            name = f"bench-{service}-{logical_id}".lower()
            allowed = ("KeySchema", "AttributeDefinitions", "GlobalSecondaryIndexes")
            args = {k: v for k, v in props.items() if k in allowed}
            client.create_table(TableName=name, BillingMode="PAY_PER_REQUEST", **args)
            env[variable] = name
    return env


BENCH_ROLE = "bench-tenant-access"
ACCOUNT = "123456789012"


def _resolve(node: Any, names: dict[str, str]) -> Any:
    """A template's policy with its intrinsics resolved for the bench tables."""
    if isinstance(node, list):
        return [_resolve(item, names) for item in node]
    if not isinstance(node, dict):
        return node
    pseudo = {"AWS::Partition": "aws", "AWS::AccountId": ACCOUNT, "AWS::Region": "us-east-1"}
    if "Ref" in node:
        return {**pseudo, **names}[node["Ref"]]
    if "Fn::Join" in node:
        separator, parts = node["Fn::Join"]
        return separator.join(str(_resolve(part, names)) for part in parts)
    if "Fn::Sub" in node:
        text = str(node["Fn::Sub"])
        for name, value in {**pseudo, **names}.items():
            text = text.replace("${" + name + "}", value)
        return text
    return {key: _resolve(value, names) for key, value in node.items()}


def _create_tenant_access_role(endpoint: str, table_env: dict[str, str]) -> str:
    """One role with the tenant-access policies of both services' templates (both handlers run
    in one interpreter, with one TENANT_ACCESS_ROLE_ARN)."""
    import boto3

    iam = boto3.client(
        "iam",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="bench",
        aws_secret_access_key="bench",
    )
    iam.create_role(RoleName=BENCH_ROLE, AssumeRolePolicyDocument="{}")
    for service in ("product", "order"):
        names = {
            logical_id: table_env[variable]
            for variable, logical_id in table_variables(service).items()
        }
        role = resources(service)["TenantAccessRole"]["Properties"]
        for policy in role["Policies"]:
            iam.put_role_policy(
                RoleName=BENCH_ROLE,
                PolicyName=f"{service}-{policy['PolicyName']}",
                PolicyDocument=json.dumps(_resolve(policy["PolicyDocument"], names)),
            )
    return f"arn:aws:iam::{ACCOUNT}:role/{BENCH_ROLE}"


def _authorizer(role: str) -> dict[str, str]:
    return {
        "tenant_id": TENANT,
        "role": role,
        "user_id": "bench-user",
        "tier": "basic",
        "region_group": "us",
        "principalId": "bench-user",
    }


def api_event(method: str, path: str, resource: str, body: Any = None, **params: str) -> dict:
    from saas_local.lambda_events import request_context, rest_proxy_event

    path_parameters = {}
    if "{id}" in resource:
        path_parameters["id"] = path.rstrip("/").split("/")[2]
    query = "&".join(f"{k}={v}" for k, v in params.items())
    context = request_context(
        resource=resource,
        path=path,
        method=method,
        stage="bench",
        api_id="bench",
        source_ip="127.0.0.1",
        user_agent="bench",
        request_id=str(uuid.uuid4()),
        authorizer=_authorizer("TenantAdmin"),
    )
    return rest_proxy_event(
        method=method,
        path=path,
        resource=resource,
        query=query,
        headers=[("Content-Type", "application/json")],
        body=json.dumps(body).encode() if body is not None else b"",
        path_parameters=path_parameters,
        context=context,
    )


class _Context:
    function_name = "bench"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench"
    aws_request_id = "bench"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 30_000


def _timed(call: Callable[[int], Any], n: int) -> list[float]:
    for i in range(WARMUP):
        call(-1 - i)
    samples = []
    for i in range(n):
        start = time.perf_counter()
        call(i)
        samples.append(time.perf_counter() - start)
    return samples


def _check(response: dict[str, Any], status: int) -> dict[str, Any]:
    if response["statusCode"] != status:
        raise RuntimeError(f"expected {status}, got {response['statusCode']}: {response['body']}")
    return json.loads(response["body"]) if response.get("body") else {}


def measure_handlers() -> dict[str, list[float]]:
    """In this interpreter (environment already set): the handlers' requests."""
    from order_service.entrypoints import api as order_api
    from product_service.entrypoints import api as product_api

    ctx = _Context()
    created: list[str] = []

    def create(i: int) -> None:
        body = {"name": f"product {i}", "sku": f"SKU-{i}", "price": "9.99", "stock": 100}
        event = api_event("POST", "/products", "/products", body)
        created.append(_check(product_api.handler(event, ctx), 201)["id"])

    samples = {"create product": _timed(create, N)}

    def get(i: int) -> None:
        pid = created[i % len(created)]
        _check(
            product_api.handler(api_event("GET", f"/products/{pid}", "/products/{id}"), ctx), 200
        )

    samples["get product"] = _timed(get, N)

    def list_page(_: int) -> None:
        event = api_event("GET", "/products", "/products", limit=str(LIST_PAGE))
        items = _check(product_api.handler(event, ctx), 200)
        listed = items.get("items", items.get("products", []))
        if len(listed) != LIST_PAGE:
            raise RuntimeError(f"a page of {LIST_PAGE} expected, got {len(listed)}")

    samples[f"list products (page of {LIST_PAGE} of {len(created)})"] = _timed(list_page, N // 4)

    def place(i: int) -> None:
        body = {"lines": [{"product_id": created[i % 10], "quantity": 1}]}
        _check(order_api.handler(api_event("POST", "/orders", "/orders", body), ctx), 202)

    samples["place order"] = _timed(place, N)
    return samples


def measure_floor(endpoint: str, env: dict[str, str]) -> dict[str, list[float]]:
    """One put_item / get_item / query with a client built once, on the same tables."""
    import boto3

    credentials = boto3.client("sts", endpoint_url=endpoint, region_name="us-east-1").assume_role(
        RoleArn=f"arn:aws:iam::{ACCOUNT}:role/{BENCH_ROLE}",
        RoleSessionName=f"tenant-{TENANT}",
        Tags=[{"Key": "tenant_id", "Value": TENANT}],
    )["Credentials"]
    client = boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )
    table = env[next(k for k in env if "PRODUCT" in k)]
    pk = f"TENANT#{TENANT}"

    def item(i: int) -> dict[str, Any]:
        return {
            "pk": {"S": pk},
            "sk": {"S": f"FLOOR#{i:06d}"},
            "name": {"S": f"product {i}"},
            "sku": {"S": f"SKU-{i}"},
            "price": {"N": "9.99"},
            "stock": {"N": "100"},
        }

    samples = {"put_item": _timed(lambda i: client.put_item(TableName=table, Item=item(i)), N)}

    def transact(i: int) -> None:
        outbox = {**item(i), "sk": {"S": f"OUTBOX#{i:06d}"}}
        client.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": table, "Item": item(i)}},
                {"Put": {"TableName": table, "Item": outbox}},
            ]
        )

    samples["transact_write_items (2 puts)"] = _timed(transact, N)
    samples["get_item"] = _timed(
        lambda i: client.get_item(
            TableName=table, Key={"pk": {"S": pk}, "sk": {"S": f"FLOOR#{abs(i) % N:06d}"}}
        ),
        N,
    )
    samples[f"query (page of {LIST_PAGE})"] = _timed(
        lambda _: client.query(
            TableName=table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :p)",
            ExpressionAttributeValues={":pk": {"S": pk}, ":p": {"S": "FLOOR#"}},
            Limit=LIST_PAGE,
        ),
        N // 4,
    )
    return samples


def _in_subprocess(env: dict[str, str], what: str) -> dict[str, list[float]]:
    code = f"import json, bench.request_cost as b; print(json.dumps({what}))"
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(f"{what} failed:\n{out.stderr[-3000:]}")
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


BASE_ENV = {
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_NAMESPACE": "saas-bench",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
    "POWERTOOLS_DEV": "false",
}


def run() -> list[Row]:
    with moto_server() as endpoint:
        table_env = _create_tables(endpoint)
        env = {
            **BASE_ENV,
            **table_env,
            "AWS_ENDPOINT_URL": endpoint,
            "BACKEND": "dynamodb",
            "TENANT_ACCESS_ROLE_ARN": _create_tenant_access_role(endpoint, table_env),
        }
        handlers = _in_subprocess(env, "b.measure_handlers()")
        floor = _in_subprocess(env, f"b.measure_floor({endpoint!r}, {table_env!r})")
    pairs = [
        ("create product", "put_item", CREATE_GET_GOAL),
        ("get product", "get_item", CREATE_GET_GOAL),
        (
            next(k for k in handlers if k.startswith("list")),
            next(k for k in floor if "query" in k),
            LIST_GOAL,
        ),
        ("create product", "transact_write_items (2 puts)", None),
        ("place order", "transact_write_items (2 puts)", None),
    ]
    rows = []
    for subject, base_name, goal in pairs:
        median, base = median_ms(handlers[subject]), median_ms(floor[base_name])
        rows.append(
            Row(
                "request (moto)",
                subject,
                median,
                base_name,
                base,
                f"<= {goal}x" if goal else "",
                (median / base <= goal) if goal else None,
                "",
            )
        )
    return rows


def run_overhead() -> list[Row]:
    env = {**BASE_ENV, "BACKEND": "memory", "AWS_ENDPOINT_URL": "http://127.0.0.1:9"}
    handlers = _in_subprocess(env, "b.measure_handlers()")
    return [
        Row(
            "overhead (memory)",
            subject,
            median_ms(samples),
            goal=f"<= {OVERHEAD_GOAL_MS} ms",
            met=median_ms(samples) <= OVERHEAD_GOAL_MS,
        )
        for subject, samples in handlers.items()
    ]
