"""Everything moto (the embedded AWS) does differently from AWS, worked around in one place.

Each gap below has a test in tests/local_platform/test_moto_gaps.py that fails when moto's
behaviour changes, so a workaround that is no longer needed gets noticed and removed.

Gaps:
- COGNITO_VIA_CFN: CloudFormation skips `AWS::Cognito::*` resources. The pool, its groups and its
  client are created through the Cognito API from the template's own properties, and the
  template's references to them are replaced by the created ids before deployment.
- EVENT_BUS_REF: `Ref` to an `AWS::Events::EventBus` yields the Python object's repr, and a
  rule whose `EventBusName` is such a Ref fails with a 500. Refs to a bus become its name.
- REST_API: the `AWS::ApiGateway::RestApi` SAM generates fails create_stack with a 500. API
  Gateway resources are left out; the local gateway serves the routes from the SAM events. Each
  API and its stage are created through the API Gateway API instead (no methods: the gateway
  serves them), so the lifecycle finds them (GetRestApis, GetStages) and the gateway's method
  ARNs carry their real ids.
- USAGE_PLANS_VIA_CFN: CloudFormation has no `AWS::ApiGateway::UsagePlan` (nor does it deploy
  what refers to the APIs left out): each plan is created through the API Gateway API from the
  template's properties (its numbers resolved against the deployed stack), so the tenant
  lifecycle finds them, adds its keys to them, and the gateway enforces them.
- AUTHORIZER_CACHE_FLUSH: `FlushStageAuthorizersCache` answers 404 (moto has no such route).
  moto's server process answers it (202, as AWS) and counts the flushes per API stage; a GET of
  the same path (which AWS does not have) returns every stage's count, which the local gateway
  polls to drop its cached authorizer answers as API Gateway does.
- EVENT_SOURCE_MAPPINGS: moto runs event source mappings itself (it invokes through Docker, and
  the stream records it hands over vanish for later readers). They are left out of the stack;
  the local pumps run them from the template.
- LAMBDA_INVOKE: functions are created but cannot be invoked without Docker: the local platform
  runs each function in its own worker process.
- QUEUE_POLICY: `AWS::SQS::QueuePolicy` is not supported (a warning, then skipped); it is left
  out explicitly (moto does not enforce queue policies anyway).
- SQS_ACCOUNT: events EventBridge delivers to SQS lack `account`, which Powertools' EventBridge
  model requires: it is added to the message body before the consumer sees it.
- REPLAY_WINDOW: `start_replay` re-sends every archived event, ignoring EventStartTime,
  EventEndTime and FilterArns: the pumps drop replayed events outside the replay's window or
  addressed to other rules.
- EVENT_DELIVERY_COST: for every target of every event, moto builds a new JSONPath parser (ply
  yacc tables) per input path: about 50 ms per delivery, seconds for a batch of events. The
  parsed paths are immutable, so moto's server process caches them.
- TRANSACTION_COPY: TransactWriteItems deep-copies every table it writes to, with all the table's
  items and every stream record the table ever had, to restore that copy if the transaction is
  cancelled. A transaction costs time and memory in proportion to the table's whole history
  (hundreds of MB per call once thousands of tenants have been onboarded, and moto's server ran
  out of memory), and a restored copy is a new table whose stream earlier iterators no longer
  see. moto's server process runs transactions that keep a copy of the items they write
  instead, and on cancellation put those back and drop the stream records the transaction made.
"""

from __future__ import annotations

import copy
import json
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from saas_local.templates import ACCOUNT_ID

# Resource types left out of every stack (see the module docstring for why).
API_GATEWAY_PREFIX = "AWS::ApiGateway::"
UNDEPLOYABLE_TYPES = ("AWS::Lambda::EventSourceMapping", "AWS::SQS::QueuePolicy")
COGNITO_PREFIX = "AWS::Cognito::"
PLACEHOLDER_API_ID = "local"


# --- substituting references to resources that are not deployed through CloudFormation -------


def replace_references(node: Any, values: Mapping[str, Mapping[str, Any]]) -> Any:
    """A copy of `node` where Ref/GetAtt/${...} of a logical id in `values` is its literal value.

    `values[logical_id]` maps "Ref" and each attribute name to the value to put in place.
    """
    if isinstance(node, list):
        return [replace_references(item, values) for item in node]
    if not isinstance(node, dict):
        return node
    if len(node) == 1:
        ((key, arg),) = node.items()
        if key == "Ref" and isinstance(arg, str) and arg in values:
            return values[arg]["Ref"]
        if key == "Fn::GetAtt":
            logical, attribute = arg if isinstance(arg, list) else arg.split(".", 1)
            if logical in values and attribute in values[logical]:
                return values[logical][attribute]
        if key == "Fn::Sub":
            text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])
            text = _substitute_in_sub(text, values)
            variables = replace_references(variables, values)
            return {"Fn::Sub": [text, variables] if variables else text}
    return {key: replace_references(value, values) for key, value in node.items()}


def _substitute_in_sub(text: str, values: Mapping[str, Mapping[str, Any]]) -> str:
    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        logical, _, attribute = name.partition(".")
        known = values.get(logical)
        if known is None:
            return match.group(0)
        value = known.get(attribute or "Ref")
        return match.group(0) if value is None else str(value)

    return re.sub(r"\$\{([^!}][^}]*)\}", one, text)


def _remove_resources(
    template: dict[str, Any], remove: Callable[[str, dict[str, Any]], bool]
) -> set[str]:
    removed = {lid for lid, res in template["Resources"].items() if remove(lid, res)}
    for logical_id in removed:
        del template["Resources"][logical_id]
    for resource in template["Resources"].values():
        depends = resource.get("DependsOn")
        if isinstance(depends, str) and depends in removed:
            del resource["DependsOn"]
        elif isinstance(depends, list):
            resource["DependsOn"] = [d for d in depends if d not in removed]
    return removed


# --- COGNITO_VIA_CFN --------------------------------------------------------------------------


def cognito_resources(template: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        lid: res
        for lid, res in template.get("Resources", {}).items()
        if str(res.get("Type", "")).startswith(COGNITO_PREFIX)
    }


def _api_arguments(client: Any, operation: str, properties: Mapping[str, Any]) -> dict[str, Any]:
    """CloudFormation properties as API arguments: the same names, except where CFN renamed them;
    properties the API does not take (tags and the like) are left out."""
    renamed = {"UserPoolName": "PoolName", "UserPoolTags": "UserPoolTags"}
    members = client.meta.service_model.operation_model(operation).input_shape.members
    arguments = {}
    for name, value in properties.items():
        name = renamed.get(name, name)
        if name in members:
            arguments[name] = _coerce(members[name], value)
    return arguments


def _coerce(shape: Any, value: Any) -> Any:
    """CloudFormation accepts "64" where the API wants 64 (and the reverse): follow the shape."""
    kind = shape.type_name
    if kind == "structure" and isinstance(value, Mapping):
        return {k: _coerce(shape.members[k], v) for k, v in value.items() if k in shape.members}
    if kind == "list" and isinstance(value, list):
        return [_coerce(shape.member, v) for v in value]
    if kind == "string" and not isinstance(value, str):
        return str(value).lower() if isinstance(value, bool) else str(value)
    if kind in ("integer", "long") and isinstance(value, str):
        return int(value)
    if kind == "boolean" and isinstance(value, str):
        return value.lower() == "true"
    return value


def create_cognito(template: Mapping[str, Any], cognito: Any) -> dict[str, dict[str, Any]]:
    """Create the template's user pools, groups and clients through the API.

    Returns the values that replace references to them (see `replace_references`).
    """
    resources = cognito_resources(template)
    values: dict[str, dict[str, Any]] = {}
    for lid, res in resources.items():
        if res["Type"] == "AWS::Cognito::UserPool":
            args = _api_arguments(cognito, "CreateUserPool", res.get("Properties", {}))
            pool = cognito.create_user_pool(**args)["UserPool"]
            region = pool["Arn"].split(":")[3]
            values[lid] = {
                "Ref": pool["Id"],
                "Arn": pool["Arn"],
                "ProviderName": f"cognito-idp.{region}.amazonaws.com/{pool['Id']}",
                "UserPoolId": pool["Id"],
            }
    for lid, res in resources.items():
        props = replace_references(res.get("Properties", {}), values)
        if res["Type"] == "AWS::Cognito::UserPoolGroup":
            cognito.create_group(**_api_arguments(cognito, "CreateGroup", props))
            values[lid] = {"Ref": props["GroupName"]}
        elif res["Type"] == "AWS::Cognito::UserPoolClient":
            args = _api_arguments(cognito, "CreateUserPoolClient", props)
            client = cognito.create_user_pool_client(**args)["UserPoolClient"]
            values[lid] = {"Ref": client["ClientId"], "ClientId": client["ClientId"]}
        elif res["Type"] != "AWS::Cognito::UserPool":
            raise ValueError(f"{lid}: {res['Type']} is not supported by the local platform")
    return values


# --- adapting a translated template for moto's CloudFormation ---------------------------------


def adapt_template(
    template: Mapping[str, Any], cognito_values: Mapping[str, Mapping[str, Any]]
) -> dict[str, Any]:
    """The template as moto can deploy it (see the module docstring for each change)."""
    adapted = copy.deepcopy(dict(template))
    resources = adapted["Resources"]
    values: dict[str, dict[str, Any]] = {k: dict(v) for k, v in cognito_values.items()}
    for lid, res in resources.items():
        if res.get("Type") == "AWS::Events::EventBus":
            name = res["Properties"]["Name"]
            values[lid] = {"Ref": name, "Name": name}
        elif str(res.get("Type", "")).startswith(API_GATEWAY_PREFIX):
            values[lid] = {"Ref": PLACEHOLDER_API_ID, "RootResourceId": PLACEHOLDER_API_ID}

    def undeployable(_lid: str, res: dict[str, Any]) -> bool:
        kind = str(res.get("Type", ""))
        invoked_by_api = kind == "AWS::Lambda::Permission" and (
            res.get("Properties", {}).get("Principal") == "apigateway.amazonaws.com"
        )
        return (
            kind.startswith((COGNITO_PREFIX, API_GATEWAY_PREFIX))
            or kind in UNDEPLOYABLE_TYPES
            or invoked_by_api
        )

    _remove_resources(adapted, undeployable)
    return replace_references(adapted, values)  # type: ignore[no-any-return]


# --- REST_API, USAGE_PLANS_VIA_CFN -----------------------------------------------------------


def create_rest_apis(
    template: Mapping[str, Any], apigateway: Any, stack_name: str
) -> dict[str, tuple[str, list[str]]]:
    """Each `AWS::ApiGateway::RestApi` of the translated template, created with its stages:
    {logical id: (rest api id, stage names)}."""
    resources = template.get("Resources", {})
    created: dict[str, tuple[str, list[str]]] = {}
    for lid, res in resources.items():
        if res.get("Type") != "AWS::ApiGateway::RestApi":
            continue
        api_id = apigateway.create_rest_api(name=f"{stack_name}-{lid}")["id"]
        stages = [
            str(stage["Properties"]["StageName"])
            for stage in resources.values()
            if stage.get("Type") == "AWS::ApiGateway::Stage"
            and stage.get("Properties", {}).get("RestApiId") == {"Ref": lid}
        ]
        for stage in stages:
            apigateway.create_stage(restApiId=api_id, stageName=stage, deploymentId="local")
        created[lid] = (api_id, stages)
    return created


def create_usage_plans(
    template: Mapping[str, Any],
    apigateway: Any,
    apis: Mapping[str, tuple[str, list[str]]],
    resolve: Callable[[Any], Any],
) -> list[dict[str, Any]]:
    """Each `AWS::ApiGateway::UsagePlan` of the translated template, created with its stages,
    throttle, quota and tags; returns the plans as API Gateway describes them."""
    resources = template.get("Resources", {})
    created = []
    for lid, res in resources.items():
        if res.get("Type") != "AWS::ApiGateway::UsagePlan":
            continue
        props = res.get("Properties", {})
        stages = []
        for entry in props.get("ApiStages", []):
            api_ref = entry.get("ApiId", {}).get("Ref")
            if api_ref not in apis:
                raise ValueError(f"{lid}: ApiStages names {entry.get('ApiId')}, not an API here")
            stage = entry.get("Stage")
            if isinstance(stage, dict) and "Ref" in stage:
                stage = resources[stage["Ref"]]["Properties"]["StageName"]
            stages.append({"apiId": apis[api_ref][0], "stage": str(stage)})
        arguments: dict[str, Any] = {
            "name": str(resolve(props.get("UsagePlanName", lid))),
            "apiStages": stages,
            "tags": {str(t["Key"]): str(resolve(t["Value"])) for t in props.get("Tags", [])},
        }
        throttle = props.get("Throttle")
        if throttle:
            arguments["throttle"] = {
                "rateLimit": float(resolve(throttle["RateLimit"])),
                "burstLimit": int(resolve(throttle["BurstLimit"])),
            }
        quota = props.get("Quota")
        if quota:
            arguments["quota"] = {
                "limit": int(resolve(quota["Limit"])),
                "period": str(quota.get("Period", "DAY")),
            }
        created.append(apigateway.create_usage_plan(**arguments))
    return created


# --- AUTHORIZER_CACHE_FLUSH -------------------------------------------------------------------

AUTHORIZER_CACHE_PATH = (
    r"{0}/restapis/(?P<function_id>[^/]+)/stages/(?P<stage_name>[^/]+)/cache/authorizers$"
)
_flushes: dict[str, int] = {}
_flushes_lock = threading.Lock()


def _authorizer_cache(request: Any, full_url: str, headers: Any) -> tuple[int, dict[str, str], str]:
    parts = urlsplit(full_url).path.strip("/").split("/")
    if request.method == "DELETE":
        with _flushes_lock:
            key = f"{parts[1]}/{parts[3]}"
            _flushes[key] = _flushes.get(key, 0) + 1
        return 202, {}, ""
    with _flushes_lock:
        return 200, {"Content-Type": "application/json"}, json.dumps(_flushes)


def serve_authorizer_cache_flushes() -> None:
    """Install FlushStageAuthorizersCache (and the count of flushes) in this process's moto."""
    from moto.apigateway import urls

    urls.url_paths[AUTHORIZER_CACHE_PATH] = _authorizer_cache


def authorizer_cache_flushes(endpoint_url: str, region: str) -> dict[str, int]:
    """Every API stage's count of flushes ("<api id>/<stage>": n), from moto's server."""
    import urllib.request

    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    url = f"{endpoint_url.rstrip('/')}/restapis/-/stages/-/cache/authorizers"
    request = AWSRequest(method="GET", url=url)
    SigV4Auth(Credentials("testing", "testing"), "apigateway", region).add_auth(request)
    with urllib.request.urlopen(
        urllib.request.Request(url, headers=dict(request.headers.items())), timeout=5
    ) as answer:
        counts: dict[str, int] = json.loads(answer.read())
    return counts


# --- SQS_ACCOUNT ------------------------------------------------------------------------------


def complete_eventbridge_body(body: str, account_id: str = ACCOUNT_ID) -> str:
    """An EventBridge event delivered to SQS, with the `account` field AWS always sets."""
    try:
        event = json.loads(body)
    except ValueError:
        return body
    if not isinstance(event, dict) or "detail-type" not in event or "account" in event:
        return body
    return json.dumps({**event, "account": account_id})


# --- REPLAY_WINDOW ----------------------------------------------------------------------------


def replay_admits(
    body: str,
    describe_replay: Callable[[str], Mapping[str, Any]],
    rule_arns_to_queue: Iterable[str],
) -> bool:
    """False when moto re-delivered an archived event that the replay should not have sent:
    outside [EventStartTime, EventEndTime], or to a queue none of whose rules are in FilterArns."""
    try:
        event = json.loads(body)
    except ValueError:
        return True
    if not isinstance(event, dict) or "replay-name" not in event:
        return True
    replay = describe_replay(event["replay-name"])
    occurred = _parse_time(event.get("time"))
    start, end = replay.get("EventStartTime"), replay.get("EventEndTime")
    if occurred is not None and start is not None and occurred < _aware(start):
        return False
    if occurred is not None and end is not None and occurred > _aware(end):
        return False
    filter_arns = (replay.get("Destination") or {}).get("FilterArns") or []
    return not filter_arns or bool(set(filter_arns) & set(rule_arns_to_queue))


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return _aware(datetime.fromisoformat(value.replace("Z", "+00:00")))
    except ValueError:
        return None


def _aware(value: Any) -> datetime:
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    moment: datetime = value
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# --- TRANSACTION_COPY -------------------------------------------------------------------------


def transact_write_items(backend: Any, transact_items: list[dict[str, Any]]) -> None:
    """moto's DynamoDBBackend.transact_write_items (5.2), with an item-level undo log in place of
    its copy of whole tables. The checks, the errors and the cancellation reasons are moto's."""
    from moto.dynamodb.comparisons import get_filter_expression
    from moto.dynamodb.exceptions import (
        ConditionalCheckFailed,
        MockValidationException,
        MultipleTransactionsException,
        TooManyTransactionsException,
        TransactionCanceledException,
        TransactWriteSingleOpException,
    )

    if len(transact_items) > 100:
        raise TooManyTransactionsException()
    undo: list[tuple[Any, Any, Any, Any]] = []  # (table, hash key, range key, item before)
    stream_lengths: dict[int, tuple[Any, int]] = {}  # id(shard) -> (shard, records before)
    target_items: set[tuple[str, str]] = set()

    def rollback() -> None:
        for table, hash_key, range_key, before in reversed(undo):
            _restore_item(table, hash_key, range_key, before)
        for shard, length in stream_lengths.values():
            del shard.items[length:]

    errors: list[tuple[str | None, str | None, dict[str, Any] | None]] = []
    for item in transact_items:
        original_item: dict[str, Any] | None = None
        if len(list(item.keys())) > 1:
            raise TransactWriteSingleOpException
        try:
            op_type, op = next(iter(item.items()))
            if op_type not in {"ConditionCheck", "Put", "Delete", "Update"}:
                raise ValueError("Unsupported transaction operation")
            table_name = op["TableName"]
            condition_expression = op.get("ConditionExpression")
            names = op.get("ExpressionAttributeNames")
            values = op.get("ExpressionAttributeValues")
            table = backend.get_table(table_name)
            if op_type == "Put":
                attrs = op["Item"]
                key = {table.hash_key_attr: attrs[table.hash_key_attr]}
                if table.range_key_attr is not None:
                    key[table.range_key_attr] = attrs[table.range_key_attr]
            else:
                key = op["Key"]
            unique = (str(table_name), str(dict(sorted(key.items()))))
            if unique in target_items:
                raise MultipleTransactionsException()
            target_items.add(unique)

            current = backend.get_item(table_name, key)
            if condition_expression is not None:
                condition = get_filter_expression(condition_expression, names, values)
                if not condition.expr(current):
                    if op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and current:
                        original_item = current.to_json()["Attributes"]
                    raise ConditionalCheckFailed(item=original_item)

            if op_type != "ConditionCheck":
                hash_key, range_key = backend.get_keys_value(table, key)
                undo.append((table, hash_key, range_key, copy.deepcopy(current)))
                shard = table.stream_shard
                if shard is not None and id(shard) not in stream_lengths:
                    stream_lengths[id(shard)] = (shard, len(shard.items))
            expression = {
                "condition_expression": condition_expression,
                "expression_attribute_names": names,
                "expression_attribute_values": values,
            }
            if op_type == "Put":
                backend.put_item(table_name, op["Item"], **expression)
            elif op_type == "Delete":
                backend.delete_item(table_name, key, **expression)
            elif op_type == "Update":
                backend.update_item(
                    table_name, key, update_expression=op["UpdateExpression"], **expression
                )
            errors.append((None, None, None))
        except (MultipleTransactionsException, MockValidationException):
            rollback()
            raise
        except ConditionalCheckFailed as e:
            errors.append(("ConditionalCheckFailed", str(e.message), original_item))
        except Exception as e:  # moto reports any other failure as the item's reason
            errors.append((type(e).__name__, str(e), original_item))

    if any(code is not None for code, _, _ in errors):
        rollback()
        raise TransactionCanceledException(errors)


def _restore_item(table: Any, hash_key: Any, range_key: Any, before: Any) -> None:
    """Put an item back as it was (absent when `before` is None), without a stream record."""
    if range_key is not None:
        if before is None:
            table.items.get(hash_key, {}).pop(range_key, None)
        else:
            table.items[hash_key][range_key] = before
    elif before is None:
        table.items.pop(hash_key, None)
    else:
        table.items[hash_key] = before


def lean_transactions() -> None:
    """Install `transact_write_items` in this process's moto (its server process)."""
    from moto.dynamodb.models import DynamoDBBackend

    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign,assignment]


# --- EVENT_DELIVERY_COST ----------------------------------------------------------------------


def cache_event_path_parsing() -> None:
    """Cache jsonpath_ng.ext.parse, which moto calls for each input path of each delivery."""
    import functools

    import jsonpath_ng.ext

    parse = jsonpath_ng.ext.parse  # type: ignore[attr-defined]
    if not hasattr(parse, "cache_info"):
        jsonpath_ng.ext.parse = functools.lru_cache(maxsize=512)(parse)  # type: ignore[attr-defined]
