"""The AWS APIs' faults, injected in moto's server process and answered as AWS answers them.

`install()` wraps moto's `BaseResponse.call_action` once (every service's handler goes through
it) and the user pool's JWKS route. With no plan the wrapper costs one attribute read. With a plan
it reads the service, the action and what the call is about (table, bus, stack) and asks
`faults.moto_injector()` whether a fault hits it:

- eventbridge.entry_failure (bus, source, detail_type): PutEvents answers 200; each hit entry has
  ErrorCode/ErrorMessage in its place in Entries, FailedEntryCount counts them, and the hit
  entries are not put on the bus (the others are, through moto as usual);
- eventbridge.throttle (bus): 400 ThrottlingException "Rate exceeded" (retried by botocore);
- dynamodb.throttle (table, operation): 400 ThrottlingException as on-demand tables answer
  (a rule's code may say ProvisionedThroughputExceededException); retried by botocore;
- dynamodb.transaction_conflict (table, operation): TransactWriteItems -> 400
  TransactionCanceledException whose CancellationReasons say TransactionConflict for the hit item
  and None for the others; a single-item write -> 400 TransactionConflictException. Not retried
  by botocore (AWS's SDKs leave it to the caller);
- sts.error (operation) and cloudformation.error (operation, stack): the query protocol's XML
  ErrorResponse with the rule's code (default Throttling, retried by botocore; another code such
  as AccessDenied or ValidationError is not);
- jwks.unreachable: `<pool>/.well-known/jwks.json` answers 503 Service Unavailable, what a client
  of the endpoint gets when the service behind it is down.

A request that fails is answered before moto runs the action: nothing is written. The DynamoDB
serialisation lock of aws_server wraps DynamoHandler.call_action, which calls this wrapper
inside it, so the lock still holds (install before it or after, either way).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from saas_local.faults import FaultInjector, FaultRule, moto_injector

Answer = tuple[int, dict[str, Any], Any]

DYNAMODB_PREFIX = "com.amazonaws.dynamodb.v20120810#"
DYNAMODB_MESSAGES = {
    "ThrottlingException": (
        "Throughput exceeds the current capacity of your table or index. DynamoDB is "
        "automatically scaling your table or index so please try again shortly. If exceptions "
        "persist, check if you have a hot key: https://docs.aws.amazon.com/amazondynamodb/latest/"
        "developerguide/bp-partition-key-design.html"
    ),
    "ProvisionedThroughputExceededException": (
        "The level of configured provisioned throughput for the table was exceeded. Consider "
        "increasing your provisioning level with the UpdateTable API."
    ),
}
CONFLICT_MESSAGE = "Transaction is ongoing for the item"
# the single-item writes that fail with TransactionConflictException when a transaction holds
# the item (reads are not refused)
SINGLE_ITEM_WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem"})
EVENT_ENTRY_MESSAGES = {
    "InternalFailure": "Internal Failure",
    "ThrottlingException": "Rate exceeded",
}
QUERY_MESSAGES = {"Throttling": "Rate exceeded"}
QUERY_NAMESPACES = {
    "sts": "https://sts.amazonaws.com/doc/2011-06-15/",
    "cloudformation": "http://cloudformation.amazonaws.com/doc/2010-05-15/",
}
# codes of the query protocol that are the caller's fault (Type Sender); others are the service's
QUERY_SERVER_CODES = frozenset({"InternalFailure", "ServiceUnavailable", "InternalError"})

SERVICES = frozenset({"dynamodb", "events", "sts", "cloudformation"})

_installed = False


def install(injector: FaultInjector | None = None) -> None:
    """Wrap moto's dispatch and the JWKS route, once, in moto's server process."""
    global _installed
    if _installed:
        return
    _installed = True
    from moto.cognitoidp import urls as cognito_urls
    from moto.core.responses import BaseResponse

    faults = injector or moto_injector()
    call_action = BaseResponse.call_action

    def call_action_with_faults(self: BaseResponse) -> Any:
        if not faults.plan.rules:  # the common case
            return call_action(self)
        answer = _fault_answer(faults, self, lambda: call_action(self))
        return call_action(self) if answer is None else answer

    BaseResponse.call_action = call_action_with_faults  # type: ignore[method-assign]

    for path, handler in list(cognito_urls.url_paths.items()):
        if path.endswith("/.well-known/jwks.json$"):
            cognito_urls.url_paths[path] = _jwks_with_faults(faults, handler)


def _jwks_with_faults(faults: FaultInjector, serve: Callable[..., Any]) -> Callable[..., Any]:
    def serve_json_web_key(*args: Any) -> Any:
        if faults.plan.rules and faults.fault("jwks.unreachable"):
            headers = {"Content-Type": "text/plain", "Retry-After": "1"}
            return 503, headers, "Service Unavailable"
        return serve(*args)

    return serve_json_web_key


def _fault_answer(faults: FaultInjector, handler: Any, call: Callable[[], Any]) -> Answer | None:
    service = handler.service_name or ""
    if service not in SERVICES:  # the other services' calls pass untouched
        return None
    action = handler._get_action() or ""
    if service == "dynamodb":
        return _dynamodb(faults, action, _json_params(handler))
    if service == "events" and action == "PutEvents":
        return _put_events(faults, handler, call)
    if service == "sts":
        rule = faults.fault("sts.error", operation=action)
        return None if rule is None else _query_error("sts", rule)
    if service == "cloudformation":
        stack = _query_param(handler, "StackName")
        rule = faults.fault("cloudformation.error", operation=action, stack=stack)
        return None if rule is None else _query_error("cloudformation", rule)
    return None


# --- DynamoDB --------------------------------------------------------------------------------


def _json_params(handler: Any) -> Mapping[str, Any]:
    params = getattr(handler, "params", None)
    if isinstance(params, Mapping):
        return params
    body = handler.body
    if isinstance(body, Mapping):
        return body
    try:
        loaded = json.loads(body or "{}")
    except (TypeError, ValueError):
        return {}
    return loaded if isinstance(loaded, Mapping) else {}


def _item_tables(action: str, params: Mapping[str, Any]) -> list[str]:
    """The table of each item the request is about, in order (one entry per transaction item)."""
    if action in {"TransactWriteItems", "TransactGetItems"}:
        tables: list[str] = []
        for item in params.get("TransactItems") or []:
            operation: Any = next(iter(item.values()), {}) if isinstance(item, Mapping) else {}
            name = operation.get("TableName", "") if isinstance(operation, Mapping) else ""
            tables.append(str(name))
        return tables
    if action in {"BatchWriteItem", "BatchGetItem"}:
        return [str(name) for name in params.get("RequestItems") or {}]
    return [str(params.get("TableName", ""))]


def _dynamodb(faults: FaultInjector, action: str, params: Mapping[str, Any]) -> Answer | None:
    tables = _item_tables(action, params)
    for table in dict.fromkeys(tables):  # one draw per table the request is about
        rule = faults.fault("dynamodb.throttle", table=table, operation=action)
        if rule is not None:
            code = rule.error_code or "ThrottlingException"
            message = DYNAMODB_MESSAGES.get(code, DYNAMODB_MESSAGES["ThrottlingException"])
            return _dynamodb_error(code, message)
    if action != "TransactWriteItems" and action not in SINGLE_ITEM_WRITES:
        return None
    for table in dict.fromkeys(tables):
        if faults.fault("dynamodb.transaction_conflict", table=table, operation=action) is None:
            continue
        if action in SINGLE_ITEM_WRITES:
            return _dynamodb_error("TransactionConflictException", CONFLICT_MESSAGE)
        hit = tables.index(table)
        reasons: list[dict[str, str]] = [{"Code": "None"} for _ in tables]
        reasons[hit] = {"Code": "TransactionConflict", "Message": CONFLICT_MESSAGE}
        codes = ", ".join(reason["Code"] for reason in reasons)
        message = (
            "Transaction cancelled, please refer cancellation reasons for specific reasons "
            f"[{codes}]"
        )
        return _dynamodb_error(
            "TransactionCanceledException",
            message,
            {"Message": message, "CancellationReasons": reasons},
        )
    return None


def _dynamodb_error(code: str, message: str, extra: Mapping[str, Any] | None = None) -> Answer:
    body: dict[str, Any] = {"__type": DYNAMODB_PREFIX + code, "message": message}
    if extra:
        body.pop("message")
        body.update(extra)
    headers = {"Content-Type": "application/x-amz-json-1.0", **_request_id()}
    return 400, headers, json.dumps(body)


# --- EventBridge -----------------------------------------------------------------------------


def _bus_name(entry: Mapping[str, Any]) -> str:
    name = str(entry.get("EventBusName") or "default")
    return name.rsplit("/", 1)[-1] if name.startswith("arn:") else name


def _put_events(faults: FaultInjector, handler: Any, call: Callable[[], Any]) -> Answer | None:
    params = _json_params(handler)
    entries = [e for e in params.get("Entries") or [] if isinstance(e, Mapping)]
    for bus in dict.fromkeys(_bus_name(entry) for entry in entries):
        if faults.fault("eventbridge.throttle", bus=bus) is not None:
            body = {"__type": "ThrottlingException", "message": "Rate exceeded"}
            headers = {"Content-Type": "application/x-amz-json-1.1", **_request_id()}
            return 400, headers, json.dumps(body)
    failed: dict[int, FaultRule] = {}
    for n, entry in enumerate(entries):
        rule = faults.fault(
            "eventbridge.entry_failure",
            bus=_bus_name(entry),
            source=str(entry.get("Source", "")),
            detail_type=str(entry.get("DetailType", "")),
        )
        if rule is not None:
            failed[n] = rule
    if not failed:
        return None
    kept = [entry for n, entry in enumerate(entries) if n not in failed]
    results: list[dict[str, Any]] = []
    status, headers = 200, {"Content-Type": "application/x-amz-json-1.1", **_request_id()}
    if kept:  # the entries that were not hit go to the bus as usual
        handler.body = json.dumps({**params, "Entries": kept})
        status, headers, body = call()
        if status != 200:
            return int(status), headers, body
        results = list(json.loads(body)["Entries"])
    answer: list[dict[str, Any]] = []
    for n in range(len(entries)):
        rule = failed.get(n)
        if rule is None:
            answer.append(results.pop(0))
            continue
        code = rule.error_code or "InternalFailure"
        answer.append({"ErrorCode": code, "ErrorMessage": EVENT_ENTRY_MESSAGES.get(code, code)})
    document = {
        "FailedEntryCount": sum(1 for result in answer if "ErrorCode" in result),
        "Entries": answer,
    }
    return status, dict(headers), json.dumps(document)


# --- STS and CloudFormation (query protocol) ---------------------------------------------------


def _query_param(handler: Any, name: str) -> str:
    params = getattr(handler, "params", None)
    if isinstance(params, Mapping) and params.get(name):
        return str(params[name])
    values = handler.querystring.get(name) if handler.querystring else None
    return str(values[0]) if values else ""


def _query_error(service: str, rule: FaultRule) -> Answer:
    code = rule.error_code or "Throttling"
    message = QUERY_MESSAGES.get(code, f"{code} (injected fault)")
    kind = "Receiver" if code in QUERY_SERVER_CODES else "Sender"
    request_id = str(uuid.uuid4())
    body = (
        f'<ErrorResponse xmlns="{QUERY_NAMESPACES[service]}">'
        f"<Error><Type>{kind}</Type><Code>{code}</Code><Message>{message}</Message></Error>"
        f"<RequestId>{request_id}</RequestId></ErrorResponse>"
    )
    status = 500 if kind == "Receiver" else 400
    return status, {"Content-Type": "text/xml", "x-amzn-RequestId": request_id}, body


def _request_id() -> dict[str, str]:
    return {"x-amzn-RequestId": str(uuid.uuid4())}
