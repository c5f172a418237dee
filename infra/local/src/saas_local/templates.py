"""Reading CloudFormation/SAM templates: YAML with the short-form intrinsics, SAM translated
offline with aws-sam-translator, and what the local platform needs from a translated template."""

from __future__ import annotations

import copy
import hashlib
import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ACCOUNT_ID = "123456789012"


class _CfnLoader(yaml.SafeLoader):  # type: ignore[misc]
    """SafeLoader that reads `!Ref x` as {"Ref": "x"}, `!GetAtt a.b` as {"Fn::GetAtt": [a, b]}..."""


def _tag(name: str) -> Any:
    def construct(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, Any]:
        if isinstance(node, yaml.ScalarNode):
            value: Any = loader.construct_scalar(node)
            if name == "Fn::GetAtt" and isinstance(value, str):
                value = value.split(".", 1)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)
        return {name: value}

    return construct


_SHORT_FORMS = (
    "Base64 Cidr FindInMap GetAtt GetAZs ImportValue Join Select Split Sub Transform "
    "And Equals If Not Or ToJsonString Length"
)
for _short in _SHORT_FORMS.split():
    _CfnLoader.add_constructor(f"!{_short}", _tag(f"Fn::{_short}"))
_CfnLoader.add_constructor("!Ref", _tag("Ref"))
_CfnLoader.add_constructor("!Condition", _tag("Condition"))


def load_template(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as stream:
        loaded = yaml.load(stream, Loader=_CfnLoader)
    if not isinstance(loaded, dict) or "Resources" not in loaded:
        raise ValueError(f"{path.name}: not a CloudFormation template (no Resources)")
    return loaded


class _AnyManagedPolicy(dict[str, str]):
    """SAM resolves managed policy names through IAM; offline, every name maps to its AWS ARN."""

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str)

    def __missing__(self, key: str) -> str:
        return f"arn:aws:iam::aws:policy/{key}"

    def get(self, key: str, default: Any = None) -> str:
        return self[key]


def is_sam(template: dict[str, Any]) -> bool:
    transform = template.get("Transform")
    transforms = transform if isinstance(transform, list) else [transform]
    return "AWS::Serverless-2016-10-31" in transforms


def translate(
    template: dict[str, Any],
    region: str,
    code: dict[str, str] | None = None,
    cache_dir: Path | None = None,
) -> dict[str, Any]:
    """The CloudFormation that AWS would deploy for a SAM template (offline, no AWS calls).

    Every function's code is `code` (an S3 location): what `sam package` would have uploaded.
    Translations are cached in `cache_dir` (the translator costs seconds to import).
    """
    if not is_sam(template):
        return copy.deepcopy(template)
    sam = copy.deepcopy(template)
    location = code or {"Bucket": "saas-local-code", "Key": "code.zip"}
    for resource in sam.get("Resources", {}).values():
        if resource.get("Type") == "AWS::Serverless::Function":
            resource.setdefault("Properties", {})["CodeUri"] = dict(location)
    cache_file = None
    if cache_dir is not None:
        key = hashlib.sha256(json.dumps([sam, region], sort_keys=True).encode()).hexdigest()
        cache_file = cache_dir / f"{key}.json"
        if cache_file.is_file():
            return json.loads(cache_file.read_text())  # type: ignore[no-any-return]
    translated = _translate(sam, region)
    if cache_file is not None:
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        # Written aside, then renamed: another platform (a test run in parallel) reads it whole.
        partial = cache_file.with_name(f"{cache_file.name}.{os.getpid()}.tmp")
        partial.write_text(json.dumps(translated))
        os.replace(partial, cache_file)
    return translated


def _translate(sam: dict[str, Any], region: str) -> dict[str, Any]:
    import logging

    import boto3
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.arn_generator import ArnGenerator
    from samtranslator.translator.translator import Translator

    logging.getLogger("samtranslator").setLevel(logging.ERROR)
    ArnGenerator.BOTO_SESSION_REGION_NAME = region  # not the region of this process
    translator = Translator(None, Parser(), boto_session=boto3.session.Session(region_name=region))
    return translator.translate(  # type: ignore[no-any-return]
        sam, parameter_values={}, get_managed_policy_map=_AnyManagedPolicy
    )


@dataclass(frozen=True)
class Route:
    """One `Api` event of a function: what the gateway serves."""

    function: str  # logical id
    path: str
    method: str  # upper case, or ANY
    api: str  # logical id of the Api resource (ServerlessRestApi when implicit)
    stage: str
    authorizer: Authorizer | None
    api_key_required: bool = False  # metered by the usage plans of the API's stage


@dataclass(frozen=True)
class Authorizer:
    name: str
    function_arn: Any  # an intrinsic, resolved against the deployed stack
    payload_type: str  # TOKEN or REQUEST
    identity_headers: tuple[str, ...]
    ttl_seconds: int


@dataclass(frozen=True)
class EventSource:
    """One `SQS` or `DynamoDB` event of a function, as the translated EventSourceMapping says."""

    function: str
    kind: str  # "sqs" or "dynamodb"
    source_arn: Any  # an intrinsic
    batch_size: int
    report_batch_item_failures: bool
    filters: tuple[dict[str, Any], ...] = ()
    maximum_retry_attempts: int = -1
    bisect_batch_on_function_error: bool = False
    on_failure: Any = None  # an intrinsic for the destination ARN
    starting_position: str = "TRIM_HORIZON"
    maximum_concurrency: int = 2


@dataclass
class FunctionSpec:
    logical_id: str
    handler: str
    environment: dict[str, Any] = field(default_factory=dict)
    timeout: int = 3
    memory_size: int = 128
    code_dir: Path | None = None  # a local directory CodeUri (fixtures); zips run from the venv


def functions(sam: dict[str, Any], cfn: dict[str, Any], base: Path) -> dict[str, FunctionSpec]:
    """Every Lambda function of the translated template, by logical id."""
    found: dict[str, FunctionSpec] = {}
    for logical_id, resource in cfn.get("Resources", {}).items():
        if resource.get("Type") != "AWS::Lambda::Function":
            continue
        props = resource.get("Properties", {})
        code_uri = sam.get("Resources", {}).get(logical_id, {}).get("Properties", {}).get("CodeUri")
        if code_uri is None:
            code_uri = sam.get("Globals", {}).get("Function", {}).get("CodeUri")
        code_dir = None
        if isinstance(code_uri, str) and not code_uri.startswith("s3://"):
            candidate = (base / code_uri).resolve()
            code_dir = candidate if candidate.is_dir() else None
        found[logical_id] = FunctionSpec(
            logical_id=logical_id,
            handler=props.get("Handler", ""),
            environment=dict(props.get("Environment", {}).get("Variables", {})),
            timeout=int(props.get("Timeout", 3)),
            memory_size=int(props.get("MemorySize", 128)),
            code_dir=code_dir,
        )
    return found


def deployment_preferences(sam: dict[str, Any]) -> dict[str, str]:
    """The deployment preference type of each function that has one (Globals included), by
    logical id: AWS shifts traffic to a new version gradually; the local platform does not."""
    default = (sam.get("Globals", {}).get("Function", {}) or {}).get("DeploymentPreference")
    found = {}
    for logical_id, resource in sam.get("Resources", {}).items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        preference = resource.get("Properties", {}).get("DeploymentPreference", default)
        if isinstance(preference, dict) and preference.get("Type"):
            found[logical_id] = str(preference["Type"])
    return found


def _sam_events(sam: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for logical_id, resource in sam.get("Resources", {}).items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        for event in (resource.get("Properties", {}).get("Events") or {}).values():
            yield logical_id, event.get("Type", ""), event.get("Properties", {}) or {}


def _auth_config(sam: dict[str, Any], api_ref: Any) -> tuple[str, dict[str, Any], str]:
    """(api logical id, its Auth, its stage) for an event's RestApiId (None = the implicit API)."""
    globals_api = sam.get("Globals", {}).get("Api", {})
    if isinstance(api_ref, dict) and "Ref" in api_ref:
        logical = api_ref["Ref"]
        props = sam["Resources"][logical].get("Properties", {})
        auth = {**globals_api.get("Auth", {}), **props.get("Auth", {})}
        return logical, auth, str(props.get("StageName", globals_api.get("StageName", "Prod")))
    return "ServerlessRestApi", dict(globals_api.get("Auth", {})), "Prod"


def routes(sam: dict[str, Any]) -> list[Route]:
    """The template's `Api` events; routes exist only where the template says so."""
    found = []
    for function, kind, props in _sam_events(sam):
        if kind != "Api":
            continue
        api, auth, stage = _auth_config(sam, props.get("RestApiId"))
        name = (props.get("Auth") or {}).get("Authorizer", auth.get("DefaultAuthorizer"))
        authorizer = None
        if name and name not in ("NONE", "AWS_IAM"):
            config = auth.get("Authorizers", {}).get(name)
            if config is None:
                raise ValueError(f"{function}: authorizer {name} is not defined on {api}")
            identity = config.get("Identity") or {}
            payload = config.get("FunctionPayloadType", "TOKEN")
            headers = identity.get("Headers") or [identity.get("Header", "Authorization")]
            ttl = identity.get("ReauthorizeEvery", 300)
            authorizer = Authorizer(
                name=name,
                function_arn=config.get("FunctionArn"),
                payload_type=payload,
                identity_headers=tuple(headers),
                ttl_seconds=int(ttl),
            )
        found.append(
            Route(
                function=function,
                path=str(props["Path"]),
                method=str(props["Method"]).upper().replace("ANY", "ANY"),
                api=api,
                stage=stage,
                authorizer=authorizer,
                api_key_required=bool(
                    (props.get("Auth") or {}).get("ApiKeyRequired", auth.get("ApiKeyRequired"))
                ),
            )
        )
    return found


@dataclass(frozen=True)
class ApiAnswers:
    """What an API answers by itself, read from its translated `AWS::ApiGateway::RestApi` body
    (values as the template has them, intrinsics unresolved): the headers of each resource's
    OPTIONS mock integration (SAM's `Cors`), and of each gateway response type with its
    application/json body template where it has one."""

    preflight: dict[str, dict[str, Any]]
    gateway_responses: dict[str, dict[str, Any]]
    templates: dict[str, str] = field(default_factory=dict)


def _headers(parameters: Mapping[str, Any], prefix: str) -> dict[str, Any]:
    return {k.removeprefix(prefix): v for k, v in parameters.items() if k.startswith(prefix)}


def api_answers(cfn: Mapping[str, Any]) -> dict[str, ApiAnswers]:
    """Each RestApi of the translated template, by logical id (that of the SAM `Api`)."""
    found = {}
    for logical_id, resource in (cfn.get("Resources") or {}).items():
        if resource.get("Type") != "AWS::ApiGateway::RestApi":
            continue
        body = (resource.get("Properties") or {}).get("Body") or {}
        preflight = {}
        for path, operations in (body.get("paths") or {}).items():
            integration = (operations.get("options") or {}).get(
                "x-amazon-apigateway-integration"
            ) or {}
            if integration.get("type") != "mock":
                continue
            answer = (integration.get("responses") or {}).get("default") or {}
            parameters = answer.get("responseParameters") or {}
            preflight[path] = _headers(parameters, "method.response.header.")
        gateway_responses = body.get("x-amazon-apigateway-gateway-responses") or {}
        responses = {
            kind: _headers(spec.get("responseParameters") or {}, "gatewayresponse.header.")
            for kind, spec in gateway_responses.items()
        }
        bodies = {
            kind: str(spec["responseTemplates"]["application/json"])
            for kind, spec in gateway_responses.items()
            if "application/json" in (spec.get("responseTemplates") or {})
        }
        found[logical_id] = ApiAnswers(preflight, responses, bodies)
    return found


def event_sources(cfn: dict[str, Any]) -> list[EventSource]:
    """SQS and DynamoDB event sources, read from the translated EventSourceMappings."""
    found = []
    resources = cfn.get("Resources", {})
    for resource in resources.values():
        if resource.get("Type") != "AWS::Lambda::EventSourceMapping":
            continue
        props = resource.get("Properties", {})
        function = props["FunctionName"]
        function = str(function.get("Ref") if isinstance(function, dict) else function)
        # With AutoPublishAlias the mapping calls the function's alias: the local platform runs
        # the function's one version (a deployment preference is applied at once).
        alias = resources.get(function, {})
        if alias.get("Type") == "AWS::Lambda::Alias":
            target = alias["Properties"]["FunctionName"]
            function = str(target.get("Ref") if isinstance(target, dict) else target)
        source_arn = props["EventSourceArn"]
        kind = "dynamodb" if "StartingPosition" in props else "sqs"
        filters = tuple((props.get("FilterCriteria") or {}).get("Filters", []))
        destination = ((props.get("DestinationConfig") or {}).get("OnFailure") or {}).get(
            "Destination"
        )
        scaling = (props.get("ScalingConfig") or {}).get("MaximumConcurrency", 2)
        found.append(
            EventSource(
                function=function,
                kind=kind,
                source_arn=source_arn,
                batch_size=int(props.get("BatchSize", 10 if kind == "sqs" else 100)),
                report_batch_item_failures="ReportBatchItemFailures"
                in (props.get("FunctionResponseTypes") or []),
                filters=filters,
                maximum_retry_attempts=int(props.get("MaximumRetryAttempts", -1)),
                bisect_batch_on_function_error=bool(props.get("BisectBatchOnFunctionError")),
                on_failure=destination,
                starting_position=str(props.get("StartingPosition", "TRIM_HORIZON")),
                maximum_concurrency=int(scaling),
            )
        )
    return found
