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
- CLOUDWATCH_VIA_CFN: CloudFormation skips `AWS::CloudWatch::Alarm` and
  `AWS::CloudWatch::InsightRule` (a warning, then CREATE_COMPLETE without them), though the
  CloudWatch API has PutMetricAlarm and PutInsightRule (`AWS::CloudWatch::Dashboard` deploys).
  Each alarm and rule is created through the API from the template's properties, resolved against
  the deployed stack (conditions evaluated), so DescribeAlarms and DescribeInsightRules list them
  as in AWS. moto evaluates neither: no alarm changes state and no rule ranks contributors, and
  PutDashboard checks only that the body is JSON (tests/architecture/test_dashboards.py holds the
  bodies to the dashboard schema's main shape instead).
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
- COGNITO_REVOKE_TOKEN: Cognito's RevokeToken (the console's sign-out) is not implemented (moto
  raises NotImplementedError, the client sees a 500). moto's server process answers it: the
  refresh token is revoked as AdminUserGlobalSignOut revokes one (later refreshes are refused),
  a token of another client is refused, an unknown one is nothing to do.
- SESSION_TAGS: STS AssumeRole drops the session tags it is given (`Tags`): moto's server process
  keeps them per access key id, for the principal tags below.
- ASSUMED_ROLE_POLICIES: moto evaluates no IAM policy (and none of its conditions) on DynamoDB
  requests: credentials of an assumed role read any table. moto's server process evaluates, for
  DynamoDB requests signed with assumed-role credentials, the role's policies and the session
  policy as AWS does for the shapes the templates use (Allow/Deny; Action and Resource with
  wildcards; `${aws:PrincipalTag/<key>}` in resources and condition values; conditions
  `ForAllValues:StringEquals|StringLike` on `dynamodb:LeadingKeys` and `StringEquals|StringLike`
  on `aws:PrincipalTag/<key>`), and answers AWS's AccessDeniedException. A shape it does not
  evaluate (NotAction, another condition, a permissions boundary, PartiQL) is refused with an
  error that names it, never guessed. Requests signed otherwise (the platform's own `testing`
  keys) are served as before.
- TRANSACTION_CAPACITY: TransactWriteItems answers an empty ConsumedCapacity whatever
  ReturnConsumedCapacity asks (DynamoDB reports the units consumed, which the metering reads
  per tenant). moto's server process reports 2 write units per item and started KB, as DynamoDB
  bills a transactional write, sized from the request's item or key.
- ACCOUNT_SUBSCRIPTIONS: an `AWS::Logs::AccountPolicy` (subscription filter policy) is skipped by
  moto's CloudFormation, its Logs has no account policies, and its Lambda cannot run our
  functions: saas_local/log_subscriptions.py reads the policy from the template and delivers the
  matching log lines to the destination function. Its `AWS::Lambda::Permission` for
  `logs.amazonaws.com` on the function's `live` alias fails create_stack in moto (a 500): it is
  left out, as the permissions for API Gateway are.
- SQS_RECEIVE_RACE: moto's ReceiveMessage takes no lock. Two receivers of one queue at once (the
  pumps poll each queue with several threads, as Lambda's pollers do) can both take a visible
  message (a second delivery within its visibility timeout, which SQS does not make), and both
  move a message past `maxReceiveCount` to the dead-letter queue: the second fails with
  "list.remove(x): x not in list" (a 500 to the poller). moto's server process serializes the
  receives of each queue (a long poll waits outside the lock).

Not a gap: moto's server answers a browser's CORS (the preflight and every answer, errors too,
for any origin), so the console calls Cognito there from its own origin; a test holds it.
"""

from __future__ import annotations

import copy
import json
import math
import re
import threading
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
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


def without_false_conditions(
    template: Mapping[str, Any], deployed: Collection[str]
) -> dict[str, Any]:
    """The template for moto's update_stack, which checks every Fn::GetAtt (even one inside a
    resource whose Condition is false) where create_stack does not: a resource with a Condition
    that the running stack did not create (false with these parameters) is left out. A new
    conditional resource of an update is left out too (its condition is not evaluated here)."""
    adapted = copy.deepcopy(dict(template))
    _remove_resources(adapted, lambda lid, res: "Condition" in res and lid not in deployed)
    return adapted


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
    if kind in ("double", "float") and isinstance(value, str):
        return float(value)
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
        # Permissions for what the local platform plays itself (the gateway, log subscriptions):
        # moto fails one on a function's alias (ACCOUNT_SUBSCRIPTIONS).
        invoked_by_api = kind == "AWS::Lambda::Permission" and (
            res.get("Properties", {}).get("Principal")
            in ("apigateway.amazonaws.com", "logs.amazonaws.com")
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


# --- CLOUDWATCH_VIA_CFN ----------------------------------------------------------------------

CLOUDWATCH_VIA_API = ("AWS::CloudWatch::Alarm", "AWS::CloudWatch::InsightRule")


def _conditions(
    template: Mapping[str, Any], resolve: Callable[[Any], Any]
) -> Callable[[str], bool]:
    """The template's conditions, each evaluated when first asked for (Fn::Equals, Fn::Not,
    Fn::And, Fn::Or, Condition)."""
    conditions = template.get("Conditions") or {}
    values: dict[str, bool] = {}

    def evaluate(node: Any) -> bool:
        ((key, arg),) = node.items()
        if key == "Condition":
            return one(str(arg))
        if key == "Fn::Equals":
            left, right = (str(resolve(v)) for v in arg)
            return left == right
        if key == "Fn::Not":
            return not evaluate(arg[0])
        if key == "Fn::And":
            return all(evaluate(a) for a in arg)
        if key == "Fn::Or":
            return any(evaluate(a) for a in arg)
        raise ValueError(f"condition function {key} is not supported by the local platform")

    def one(name: str) -> bool:
        if name not in values:
            values[name] = evaluate(conditions[name])
        return values[name]

    return one


_NO_VALUE = object()


def _chosen(node: Any, condition: Callable[[str], bool]) -> Any:
    """`node` with each Fn::If replaced by its chosen branch and AWS::NoValue dropped."""
    if isinstance(node, list):
        kept = [_chosen(v, condition) for v in node]
        return [v for v in kept if v is not _NO_VALUE]
    if not isinstance(node, dict):
        return node
    if node == {"Ref": "AWS::NoValue"}:
        return _NO_VALUE
    if len(node) == 1 and "Fn::If" in node:
        name, when_true, when_false = node["Fn::If"]
        return _chosen(when_true if condition(name) else when_false, condition)
    kept_items = {k: _chosen(v, condition) for k, v in node.items()}
    return {k: v for k, v in kept_items.items() if v is not _NO_VALUE}


def create_cloudwatch_resources(
    template: Mapping[str, Any],
    cloudwatch: Any,
    stack_name: str,
    resolve: Callable[[Any], Any],
) -> list[str]:
    """Each `AWS::CloudWatch::Alarm` and `AWS::CloudWatch::InsightRule` of the translated
    template (not one whose Condition is false), put through the CloudWatch API; returns their
    names. An alarm without AlarmName is named `<stack>-<logical id>` (AWS adds a random suffix)."""
    condition = _conditions(template, resolve)
    created = []
    for lid, res in (template.get("Resources") or {}).items():
        kind = res.get("Type")
        if kind not in CLOUDWATCH_VIA_API:
            continue
        if "Condition" in res and not condition(res["Condition"]):
            continue
        props = resolve(_chosen(res.get("Properties", {}), condition))
        if kind == "AWS::CloudWatch::Alarm":
            props = {"AlarmName": f"{stack_name}-{lid}", **props}
            cloudwatch.put_metric_alarm(**_api_arguments(cloudwatch, "PutMetricAlarm", props))
            created.append(str(props["AlarmName"]))
        else:
            cloudwatch.put_insight_rule(
                RuleName=str(props["RuleName"]),
                RuleState=str(props.get("RuleState", "ENABLED")),
                RuleDefinition=str(props["RuleBody"]),
            )
            created.append(str(props["RuleName"]))
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


# --- TRANSACTION_CAPACITY ---------------------------------------------------------------------
# moto answers TransactWriteItems with an empty ConsumedCapacity whatever ReturnConsumedCapacity
# asks; DynamoDB reports what the transaction consumed (the metering of each tenant reads it).


def transaction_write_units(transact_items: list[dict[str, Any]]) -> dict[str, float]:
    """What DynamoDB bills a transaction, per table: 2 write units per item and started KB
    (a transactional write costs twice a standard one). The size is the request's item (Put) or
    key (Update, Delete, ConditionCheck): for stored items over 1 KB this counts less."""
    units: dict[str, float] = {}
    for entry in transact_items:
        for action in entry.values():
            body = action.get("Item") or action.get("Key") or {}
            size = len(json.dumps(body, separators=(",", ":")).encode())
            table = str(action["TableName"])
            units[table] = units.get(table, 0.0) + 2.0 * max(1, math.ceil(size / 1024))
    return units


def transaction_consumed_capacity() -> None:
    """Install in this process's moto (its server): TransactWriteItems reports its capacity."""
    from moto.core.responses import ActionResult
    from moto.dynamodb.responses import DynamoHandler

    original = DynamoHandler.transact_write_items

    def reported(self: Any) -> Any:
        result = original(self)
        if self.body.get("ReturnConsumedCapacity", "NONE") == "NONE":
            return result
        consumed = [
            {"TableName": table, "CapacityUnits": units, "WriteCapacityUnits": units}
            for table, units in transaction_write_units(self.body["TransactItems"]).items()
        ]
        answered: dict[str, Any] = dict(result.result)  # type: ignore[call-overload]
        return ActionResult({**answered, "ConsumedCapacity": consumed})

    DynamoHandler.transact_write_items = reported  # type: ignore[method-assign]


# --- EVENT_DELIVERY_COST ----------------------------------------------------------------------


def cache_event_path_parsing() -> None:
    """Cache jsonpath_ng.ext.parse, which moto calls for each input path of each delivery."""
    import functools

    import jsonpath_ng.ext

    parse = jsonpath_ng.ext.parse  # type: ignore[attr-defined]
    if not hasattr(parse, "cache_info"):
        jsonpath_ng.ext.parse = functools.lru_cache(maxsize=512)(parse)  # type: ignore[attr-defined]


# --- SQS_RECEIVE_RACE -------------------------------------------------------------------------


def serialize_sqs_receives() -> None:
    """One ReceiveMessage at a time per queue in this process's moto (its server process); a
    long poll tries again each time a message arrives, or each second, until its wait is over."""
    import time

    from moto.sqs.models import SQSBackend

    receive = SQSBackend.receive_message
    if getattr(receive, "serialized", False):
        return
    locks: dict[tuple[int, str], threading.Lock] = {}
    locks_lock = threading.Lock()

    def receive_message(
        self: Any,
        queue_name: str,
        count: int,
        wait_seconds_timeout: int,
        visibility_timeout: int,
        message_attribute_names: list[str] | None = None,
    ) -> Any:
        with locks_lock:
            lock = locks.setdefault((id(self), queue_name), threading.Lock())
        deadline = time.monotonic() + wait_seconds_timeout
        while True:
            with lock:
                result = receive(
                    self, queue_name, count, 0, visibility_timeout, message_attribute_names
                )
            left = deadline - time.monotonic()
            if result or left <= 0:
                return result
            self.get_queue(queue_name).wait_for_messages(min(1.0, left))

    receive_message.serialized = True  # type: ignore[attr-defined]
    SQSBackend.receive_message = receive_message  # type: ignore[method-assign]


# --- COGNITO_REVOKE_TOKEN ---------------------------------------------------------------------


def revoke_token(self: Any) -> Any:
    """CognitoIdpResponse.revoke_token: RevokeToken(Token, ClientId) on the pools of the
    request's region."""
    from moto.cognitoidp.exceptions import NotAuthorizedError
    from moto.core.responses import EmptyResult

    token = self._get_param("Token")
    client_id = self._get_param("ClientId")
    for pool in self.backend.user_pools.values():
        issued = pool.refresh_tokens.get(token)
        if issued is None:
            continue
        if issued[0] != client_id:
            raise NotAuthorizedError("the token was not issued to this client")
        pool.refresh_tokens[token] = None
    return EmptyResult()


def cognito_revoke_token() -> None:
    """Install RevokeToken in this process's moto (its server process)."""
    from moto.cognitoidp.responses import CognitoIdpResponse

    if not hasattr(CognitoIdpResponse, "revoke_token"):
        CognitoIdpResponse.revoke_token = revoke_token  # type: ignore[attr-defined]


# --- SESSION_TAGS and ASSUMED_ROLE_POLICIES -------------------------------------------------

# access key id of an assumed-role session -> its session tags (moto's STS drops them)
SESSION_TAGS: dict[str, dict[str, str]] = {}

ACCESS_DENIED = "com.amazon.coral.service#AccessDeniedException"
_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/")
_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_TAG_VARIABLE = "aws:PrincipalTag/"
_TRANSACT_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
    "Get": "GetItem",
}


class UnsupportedPolicy(ValueError):
    """A policy or request shape this module does not evaluate: refused, never guessed."""


def keep_session_tags() -> None:
    """Record the `Tags` of each AssumeRole by the access key id of the session it creates."""
    from moto.sts.responses import TokenResponse

    assume_role = TokenResponse.assume_role
    if getattr(assume_role, "keeps_session_tags", False):
        return

    def with_tags(self: Any) -> Any:
        result: Any = assume_role(self)
        tags = self._get_param("Tags") or []
        credentials = result.result["Credentials"]
        SESSION_TAGS[credentials.access_key_id] = {t["Key"]: t["Value"] for t in tags}
        return result

    with_tags.keeps_session_tags = True  # type: ignore[attr-defined]
    TokenResponse.assume_role = with_tags  # type: ignore[method-assign]


@dataclass(frozen=True, slots=True)
class Check:
    """One authorization AWS makes for a DynamoDB request: an action on a resource, with the
    partition key values it touches (None: the request names no key, as Scan)."""

    action: str
    resource: str
    leading_keys: tuple[str, ...] | None


@dataclass(frozen=True, slots=True)
class Principal:
    arn: str
    identity_policies: tuple[Mapping[str, Any], ...]
    session_policy: Mapping[str, Any] | None
    tags: Mapping[str, str]


def dynamodb_checks(
    action: str,
    request: Mapping[str, Any],
    table_arn: Callable[[str], str],
    partition_key: Callable[[str, str | None], str | None],
) -> list[Check]:
    """The checks AWS makes for one DynamoDB request. `partition_key(table, index)` names the
    table's (or index's) partition key attribute, None when the table does not exist."""

    def keys_of(table: str, items: Iterable[Mapping[str, Any]]) -> tuple[str, ...] | None:
        name = partition_key(table, None)
        if name is None:
            return None
        return tuple(_scalar(item[name]) for item in items if name in item)

    if action in ("ExecuteStatement", "BatchExecuteStatement", "ExecuteTransaction"):
        raise UnsupportedPolicy(f"dynamodb:{action} (PartiQL) is not evaluated locally")
    if action in ("GetItem", "DeleteItem", "UpdateItem", "PutItem"):
        table = request["TableName"]
        key = request["Item"] if action == "PutItem" else request["Key"]
        return [Check(f"dynamodb:{action}", table_arn(table), keys_of(table, [key]))]
    if action == "Query":
        table, index = request["TableName"], request.get("IndexName")
        resource = table_arn(table) + (f"/index/{index}" if index else "")
        name = partition_key(table, index)
        value = None if name is None else (_query_partition_value(request, name),)
        return [Check("dynamodb:Query", resource, value)]
    if action == "BatchGetItem":
        return [
            Check("dynamodb:BatchGetItem", table_arn(table), keys_of(table, spec["Keys"]))
            for table, spec in request["RequestItems"].items()
        ]
    if action == "BatchWriteItem":
        return [
            Check(
                "dynamodb:BatchWriteItem",
                table_arn(table),
                keys_of(
                    table,
                    [
                        r["PutRequest"]["Item"] if "PutRequest" in r else r["DeleteRequest"]["Key"]
                        for r in writes
                    ],
                ),
            )
            for table, writes in request["RequestItems"].items()
        ]
    if action in ("TransactWriteItems", "TransactGetItems"):
        checks = []
        for entry in request["TransactItems"]:
            ((kind, op),) = entry.items()
            key = op["Item"] if kind == "Put" else op["Key"]
            table = op["TableName"]
            checks.append(
                Check(
                    f"dynamodb:{_TRANSACT_ACTIONS[kind]}", table_arn(table), keys_of(table, [key])
                )
            )
        return checks
    table_name = request.get("TableName")
    resource = table_arn(table_name) if isinstance(table_name, str) else "*"
    if isinstance(request.get("IndexName"), str):
        resource += f"/index/{request['IndexName']}"
    return [Check(f"dynamodb:{action}", resource, None)]


def _scalar(value: Mapping[str, Any]) -> str:
    ((_kind, scalar),) = value.items()
    return str(scalar)


def _query_partition_value(request: Mapping[str, Any], name: str) -> str:
    expression = request.get("KeyConditionExpression")
    if not isinstance(expression, str):
        raise UnsupportedPolicy("a Query without KeyConditionExpression is not evaluated locally")
    names = request.get("ExpressionAttributeNames") or {}
    values = request.get("ExpressionAttributeValues") or {}
    for clause in re.split(r"\s+AND\s+", expression.strip(), flags=re.IGNORECASE):
        match = re.fullmatch(r"\(?\s*([#\w.]+)\s*=\s*(:\w+)\s*\)?", clause.strip())
        if match and names.get(match.group(1), match.group(1)) == name:
            return _scalar(values[match.group(2)])
    raise UnsupportedPolicy(f"no partition key ({name}) equality in {expression!r}")


def denial(check: Check, principal: Principal) -> str | None:
    """AWS's AccessDenied message for `check` by `principal`, or None when it is allowed:
    an explicit Deny in any policy wins; otherwise an identity-based policy must allow it, and
    so must the session policy when the session has one."""
    prefix = (
        f"User: {principal.arn} is not authorized to perform: {check.action} "
        f"on resource: {check.resource} "
    )
    session = () if principal.session_policy is None else (principal.session_policy,)
    for kind, documents in (
        ("an identity-based", principal.identity_policies),
        ("a session", session),
    ):
        if any(_matches(s, check, principal.tags) for s in _statements(documents, "Deny")):
            return prefix + f"with an explicit deny in {kind} policy"
    if not any(
        _matches(s, check, principal.tags)
        for s in _statements(principal.identity_policies, "Allow")
    ):
        return prefix + f"because no identity-based policy allows the {check.action} action"
    if session and not any(
        _matches(s, check, principal.tags) for s in _statements(session, "Allow")
    ):
        return prefix + f"because no session policy allows the {check.action} action"
    return None


_STATEMENT_KEYS = {"Sid", "Effect", "Action", "Resource", "Condition"}


def _statements(documents: Iterable[Mapping[str, Any]], effect: str) -> Iterable[Mapping[str, Any]]:
    for document in documents:
        statements = document.get("Statement", [])
        for statement in [statements] if isinstance(statements, dict) else statements:
            unknown = set(statement) - _STATEMENT_KEYS
            if unknown:
                raise UnsupportedPolicy(f"policy statement element(s) {sorted(unknown)}")
            if statement.get("Effect") not in ("Allow", "Deny"):
                raise UnsupportedPolicy(f"policy statement Effect {statement.get('Effect')!r}")
            if statement["Effect"] == effect:
                yield statement


def _listed(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value or [])


def _wildcard(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, re.IGNORECASE if ignore_case else 0) is not None


def _resolve(pattern: str, tags: Mapping[str, str]) -> str | None:
    """`pattern` with its policy variables replaced; None when a tag it names is absent (the
    pattern then matches nothing, as in AWS)."""
    missing = False

    def one(match: re.Match[str]) -> str:
        nonlocal missing
        variable = match.group(1)
        if not variable.startswith(_TAG_VARIABLE):
            raise UnsupportedPolicy(f"policy variable ${{{variable}}}")
        value = tags.get(variable.removeprefix(_TAG_VARIABLE))
        if value is None:
            missing = True
            return ""
        return value

    resolved = _VARIABLE.sub(one, pattern)
    return None if missing else resolved


def _matches(statement: Mapping[str, Any], check: Check, tags: Mapping[str, str]) -> bool:
    if not any(
        _wildcard(a, check.action, ignore_case=True) for a in _listed(statement.get("Action"))
    ):
        return False
    resources = [_resolve(r, tags) for r in _listed(statement.get("Resource"))]
    if not any(r is not None and _wildcard(r, check.resource) for r in resources):
        return False
    return all(
        _condition(operator, key, _listed(values), check, tags)
        for operator, block in (statement.get("Condition") or {}).items()
        for key, values in block.items()
    )


def _condition(
    operator: str, key: str, values: list[str], check: Check, tags: Mapping[str, str]
) -> bool:
    patterns = [p for p in (_resolve(v, tags) for v in values) if p is not None]
    if operator.endswith("StringEquals"):

        def same(value: str) -> bool:
            return value in patterns
    elif operator.endswith("StringLike"):

        def same(value: str) -> bool:
            return any(_wildcard(p, value) for p in patterns)
    else:
        raise UnsupportedPolicy(f"condition operator {operator}")
    if key == "dynamodb:LeadingKeys":
        if not operator.startswith("ForAllValues:"):
            raise UnsupportedPolicy(f"condition {operator} on dynamodb:LeadingKeys")
        # ForAllValues holds for a request with no key (AWS: the key is absent, the set empty)
        return all(same(value) for value in check.leading_keys or ())
    if key.startswith(_TAG_VARIABLE) and ":" not in operator:
        tag = tags.get(key.removeprefix(_TAG_VARIABLE))
        return tag is not None and same(tag)
    raise UnsupportedPolicy(f"condition {operator} on {key}")


def assumed_role_principal(access_key_id: str, account_id: str) -> Principal | None:
    """The assumed-role session of `access_key_id` with its policies, or None for a key of no
    session (the platform's own keys)."""
    from moto.iam.exceptions import NotFoundException
    from moto.iam.models import iam_backends
    from moto.sts.models import sts_backends

    session = sts_backends[account_id]["aws"].get_assumed_role_from_access_key(access_key_id)
    if session is None:
        return None
    documents: list[Mapping[str, Any]] = []
    try:
        role = iam_backends[account_id]["aws"].get_role_by_arn(session.role_arn)
    except NotFoundException:  # moto lets any ARN be assumed: such a session is allowed nothing
        role = None
    if role is not None:
        if role.permissions_boundary_arn:
            raise UnsupportedPolicy(f"permissions boundary of {role.arn}")
        documents += [_document(text) for text in role.policies.values()]
        for managed in role.managed_policies.values():
            documents += [_document(v.document) for v in managed.versions if v.is_default]
    return Principal(
        arn=session.arn,
        identity_policies=tuple(documents),
        session_policy=_document(session.policy) if session.policy else None,
        tags=SESSION_TAGS.get(access_key_id, {}),
    )


def _document(text: Any) -> Mapping[str, Any]:
    if isinstance(text, Mapping):
        return text
    from urllib.parse import unquote

    document: Mapping[str, Any] = json.loads(
        text if text.lstrip().startswith("{") else unquote(text)
    )
    return document


def enforce_assumed_role_policies() -> None:
    """Evaluate, in this process's moto (its server), the policies of the assumed-role sessions
    that sign DynamoDB requests (see ASSUMED_ROLE_POLICIES)."""
    from moto.dynamodb.models import dynamodb_backends
    from moto.dynamodb.responses import DynamoHandler

    call_action = DynamoHandler.call_action
    if getattr(call_action, "enforces_policies", False):
        return

    def enforced(self: Any) -> Any:
        match = _CREDENTIAL.search(self.headers.get("Authorization", ""))
        if match is None:
            return call_action(self)
        try:
            principal = assumed_role_principal(match.group(1), self.current_account)
            if principal is None:
                return call_action(self)
            backend = dynamodb_backends[self.current_account][self.region]
            checks = dynamodb_checks(
                self._get_action(),
                json.loads(self.body or "{}"),
                lambda table: (
                    f"arn:aws:dynamodb:{self.region}:{self.current_account}:table/{table}"
                ),
                lambda table, index: _partition_key(backend, table, index),
            )
            reasons = [r for r in (denial(check, principal) for check in checks) if r]
        except UnsupportedPolicy as exc:
            body = {
                "__type": "com.amazonaws.dynamodb.v20120810#InternalServerError",
                "message": f"the local platform does not evaluate {exc}",
            }
            return 500, {"Content-Type": "application/x-amz-json-1.0"}, json.dumps(body)
        if reasons:
            return (
                400,
                {
                    "Content-Type": "application/x-amz-json-1.0",
                    "x-amzn-ErrorType": "AccessDeniedException",
                },
                json.dumps({"__type": ACCESS_DENIED, "Message": reasons[0]}),
            )
        return call_action(self)

    enforced.enforces_policies = True  # type: ignore[attr-defined]
    DynamoHandler.call_action = enforced  # type: ignore[method-assign]


def _partition_key(backend: Any, table_name: str, index: str | None) -> str | None:
    table = backend.tables.get(table_name)
    if table is None:
        return None  # AWS authorizes first; moto then answers ResourceNotFoundException
    if index is None:
        return str(table.hash_key_attr)
    for candidate in [*table.global_indexes, *table.indexes]:
        if candidate.name == index:
            return next(str(k["AttributeName"]) for k in candidate.schema if k["KeyType"] == "HASH")
    return None
