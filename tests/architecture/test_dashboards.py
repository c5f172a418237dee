"""The dashboards, alarms and Contributor Insights rules of the templates, held to the code.

- Every metric a widget, an alarm or a rule names is one a function emits: a literal
  `add_metric(name=...)` in a service, the provisioner's metric per event it publishes, or the
  metering contract's EMF fields (README, "Usage and cost"); AWS's own metrics from a short list.
- Every dead-letter or failure queue of every template has a depth alarm in its own template
  (threshold a parameter) and a line on the platform dashboard.
- Every dashboard body is JSON of the CloudWatch dashboard body's main shape, every rule body
  a Contributor Insights log rule keyed on the tenant over the platform's function log groups.
- Each alarm's threshold is a template parameter whose default the README states.
See README, "Dashboards and alarms".
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from cfnlint.decode import cfn_yaml

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = sorted([*ROOT.glob("services/*/template.yaml"), *ROOT.glob("infra/*.yaml")])
PLATFORM = ROOT / "infra" / "platform.yaml"
NAMESPACE = "saas"

# The EMF fields of the metering contract (issue 17): API functions, tenant-serving functions,
# the order consumer.
CONTRACT_METRICS = frozenset(
    {
        "Requests",
        "Errors4xx",
        "Errors5xx",
        "Latency",
        "ReadCapacityUnits",
        "WriteCapacityUnits",
        "BilledDurationMs",
        "EventsPublished",
        "FaunaComputeOps",
        "FaunaReadOps",
        "FaunaWriteOps",
        "SagaSeconds",
    }
)
# The record's dimensions and the tenant property (never a dimension).
CONTRACT_FIELDS = frozenset({"service", "tier", "route", "tenant_id"})
AWS_METRICS = {
    "AWS/SQS": {"ApproximateNumberOfMessagesVisible", "ApproximateAgeOfOldestMessage"},
    "AWS/ApiGateway": {"5XXError", "4XXError", "Count", "Latency", "IntegrationLatency"},
    "AWS/Lambda": {"Errors", "Invocations", "Duration", "Throttles", "ConcurrentExecutions"},
}
WIDGET_TYPES = {"metric", "text", "log", "alarm", "explorer", "custom"}
DEPTH_METRIC = ("AWS/SQS", "ApproximateNumberOfMessagesVisible")


def _load(path: Path) -> dict[str, Any]:
    return dict(cfn_yaml.load(str(path)))


def _resources(template: Mapping[str, Any], kind: str) -> dict[str, Mapping[str, Any]]:
    return {
        lid: res for lid, res in (template.get("Resources") or {}).items() if res["Type"] == kind
    }


def _text(body: Any) -> str:
    """A body given as a string or a Fn::Sub, its ${...} replaced by placeholders."""
    if isinstance(body, Mapping) and "Fn::Sub" in body:
        sub = body["Fn::Sub"]
        body = sub if isinstance(sub, str) else sub[0]
    assert isinstance(body, str), f"a body is a string or a Fn::Sub, not {body!r}"
    return re.sub(r"\$\{([^}]+)\}", lambda m: "x-" + re.sub(r"\W", "-", m.group(1)), body)


def _dashboards() -> Iterator[tuple[Path, str, dict[str, Any]]]:
    for path in TEMPLATES:
        for lid, res in _resources(_load(path), "AWS::CloudWatch::Dashboard").items():
            yield path, lid, json.loads(_text(res["Properties"]["DashboardBody"]))


def _rules() -> dict[str, dict[str, Any]]:
    """Every Contributor Insights rule of the templates, by rule name."""
    found = {}
    for path in TEMPLATES:
        for res in _resources(_load(path), "AWS::CloudWatch::InsightRule").values():
            props = res["Properties"]
            found[str(props["RuleName"])] = json.loads(_text(props["RuleBody"]))
    return found


# --- what the functions emit ----------------------------------------------------------------


def emitted_metrics(root: Path = ROOT) -> set[str]:
    """The metric names the functions emit: literal add_metric names, the metric named after
    each event the provisioner publishes, and the metering contract's EMF fields."""
    names = set(CONTRACT_METRICS)
    sources = [*root.glob("services/*/src/**/*.py"), *root.glob("shared/*/src/**/*.py")]
    for source in sources:
        text = source.read_text()
        names |= set(re.findall(r"add_metric\(\s*name=\"(\w+)\"", text))
        # product's consumer: the outcome's metric from its METRIC_OF table
        for table in re.findall(r"METRIC_OF = \{(.*?)\}", text, re.S):
            names |= set(re.findall(r":\s*\"(\w+)\"", table))
    stream = root / "services/provisioner/src/provisioner/entrypoints/stream.py"
    if "name=result.event.detail_type" in stream.read_text():
        contracts = root / "services/provisioner/contracts/events"
        names |= {p.name.split(".")[0] for p in contracts.glob("*.json")}
    return names


EMITTED = emitted_metrics()


def _expression_metrics(expression: str) -> set[tuple[str, str]]:
    """(namespace, metric) pairs an expression reads: Metrics Insights SELECT and SEARCH."""
    found = set()
    for name, namespace in re.findall(
        r"SELECT\s+\w+\((\w+)\)\s+FROM\s+(?:SCHEMA\()?\"?([\w/]+)", expression
    ):
        found.add((namespace, name))
    for namespace, name in re.findall(
        r"SEARCH\('\{([\w/]+)[^}]*\}[^']*MetricName=\"(\w+)\"", expression
    ):
        found.add((namespace, name))
    if ("SELECT" in expression or "SEARCH" in expression) and not found:
        raise AssertionError(f"an expression this test cannot read: {expression}")
    return found


def _widget_metrics(widget: Mapping[str, Any]) -> set[tuple[str, str]]:
    found = set()
    for row in widget.get("properties", {}).get("metrics", []):
        if row and isinstance(row[0], Mapping):
            found |= _expression_metrics(str(row[0].get("expression", "")))
        else:
            assert "..." not in row[:2], f"spell out the namespace and metric: {row}"
            found.add((str(row[0]), str(row[1])))
    return found


def _alarm_metrics(props: Mapping[str, Any]) -> set[tuple[str, str]]:
    found = set()
    if "MetricName" in props:
        found.add((str(props["Namespace"]), str(props["MetricName"])))
    for query in props.get("Metrics", []):
        if not isinstance(query, Mapping) or "Fn::If" in query:
            continue
        stat = query.get("MetricStat")
        if stat:
            metric = stat["Metric"]
            found.add((str(metric["Namespace"]), str(metric["MetricName"])))
        elif "SELECT" in str(query.get("Expression", "")):
            found |= _expression_metrics(str(query["Expression"]))
    return found


def _known(namespace: str, metric: str) -> bool:
    if namespace == NAMESPACE:
        return metric in EMITTED
    return metric in AWS_METRICS.get(namespace, set())


def _alarms() -> Iterator[tuple[Path, str, Mapping[str, Any]]]:
    for path in TEMPLATES:
        for lid, res in _resources(_load(path), "AWS::CloudWatch::Alarm").items():
            yield path, lid, res["Properties"]


def test_every_metric_a_widget_names_is_emitted() -> None:
    unknown = [
        f"{path.relative_to(ROOT)} {lid} ({widget.get('properties', {}).get('title')}): {pair}"
        for path, lid, body in _dashboards()
        for widget in body["widgets"]
        for pair in _widget_metrics(widget)
        if not _known(*pair)
    ]
    assert not unknown, "widgets name metrics no function emits:\n" + "\n".join(unknown)


def test_every_metric_an_alarm_names_is_emitted() -> None:
    unknown = [
        f"{path.relative_to(ROOT)} {lid}: {pair}"
        for path, lid, props in _alarms()
        for pair in _alarm_metrics(props)
        if not _known(*pair)
    ]
    assert not unknown, "alarms on metrics no function emits:\n" + "\n".join(unknown)


def test_every_field_a_log_query_reads_is_emitted() -> None:
    for path, lid, body in _dashboards():
        for widget in body["widgets"]:
            if widget["type"] != "log":
                continue
            query = widget["properties"]["query"]
            fields = set(re.findall(r"(?:ispresent|pct|sum|avg|max|min)\((\w+)", query))
            fields |= set(re.findall(r"\bby (\w+)", query))
            assert fields, f"{path.name} {lid}: a query that reads no field: {query}"
            assert fields <= EMITTED | CONTRACT_FIELDS, f"{path.name} {lid}: {fields - EMITTED}"


def test_every_rule_ranks_tenants_by_an_emitted_metric_over_the_function_logs() -> None:
    from saas_local.platform import stack_name

    rules = _rules()
    assert rules, "no Contributor Insights rule"
    # Every service stack is saas-<service>: its functions log to /aws/lambda/saas-<service>-...
    assert all(stack_name(p).startswith("saas-") for p in ROOT.glob("services/*/template.yaml"))
    for name, rule in rules.items():
        assert rule["Schema"] == {"Name": "CloudWatchLogRule", "Version": 1}, name
        assert rule["LogGroupNames"] == ["/aws/lambda/saas-*"], name
        assert rule["LogFormat"] == "JSON", name
        assert rule["AggregateOn"] in ("Sum", "Count"), name
        contribution = rule["Contribution"]
        keys = {k.removeprefix("$.") for k in contribution["Keys"]}
        assert "tenant_id" in keys, name
        assert keys <= CONTRACT_FIELDS, name
        value = contribution["ValueOf"].removeprefix("$.")
        assert value in EMITTED, f"{name} sums {value}, which no function emits"
        for rule_filter in contribution.get("Filters", []):
            field = rule_filter["Match"].removeprefix("$.")
            assert field in EMITTED | CONTRACT_FIELDS, f"{name} filters on {field}"


# --- the shape of a dashboard body ----------------------------------------------------------


def dashboard_shape_problems(body: Any, rule_names: set[str]) -> list[str]:
    """What breaks the main shape of a CloudWatch dashboard body (AWS's "Dashboard Body
    Structure and Syntax"): widgets on the 24-column grid, each of a known type with the
    properties that type needs."""
    problems = []
    if not isinstance(body, dict) or not isinstance(body.get("widgets"), list):
        return ["the body is an object with a list `widgets`"]
    if body.get("periodOverride", "auto") not in ("auto", "inherit"):
        problems.append("periodOverride is auto or inherit")
    for n, widget in enumerate(body["widgets"]):
        where = f"widget {n} ({widget.get('properties', {}).get('title', widget.get('type'))})"
        if widget.get("type") not in WIDGET_TYPES:
            problems.append(f"{where}: type {widget.get('type')!r} is not a widget type")
        x, y = widget.get("x", 0), widget.get("y", 0)
        width, height = widget.get("width", 6), widget.get("height", 6)
        if not all(isinstance(v, int) for v in (x, y, width, height)):
            problems.append(f"{where}: x, y, width and height are integers")
            continue
        if x < 0 or y < 0 or height < 1 or not 1 <= width <= 24 or x + width > 24:
            problems.append(f"{where}: outside the 24-column grid")
        props = widget.get("properties")
        if not isinstance(props, dict):
            problems.append(f"{where}: properties is an object")
            continue
        kind = widget.get("type")
        if kind == "text" and not isinstance(props.get("markdown"), str):
            problems.append(f"{where}: a text widget has markdown")
        if kind in ("metric", "log") and not isinstance(props.get("region"), str):
            problems.append(f"{where}: a {kind} widget names its region")
        if kind == "log" and not str(props.get("query", "")).startswith("SOURCE '"):
            problems.append(f"{where}: a log widget's query starts with SOURCE '<log group>'")
        if kind == "metric":
            rule = props.get("insightRule")
            metrics = props.get("metrics")
            if rule is not None:
                if rule.get("ruleName") not in rule_names:
                    problems.append(f"{where}: no rule named {rule.get('ruleName')!r}")
            elif not (isinstance(metrics, list) and metrics):
                problems.append(f"{where}: a metric widget has metrics or an insightRule")
            else:
                for row in metrics:
                    if not isinstance(row, list) or not row:
                        problems.append(f"{where}: each metric is an array")
                    elif isinstance(row[0], dict):
                        if not {"expression", "id"} <= set(row[0]):
                            problems.append(f"{where}: an expression has an id")
                    elif len(row) < 2 or not all(isinstance(v, str) for v in row[:2]):
                        problems.append(f"{where}: a metric starts with namespace and name")
    return problems


@pytest.mark.parametrize(
    ("path", "lid", "body"),
    [pytest.param(p, lid, body, id=f"{p.parent.name}-{lid}") for p, lid, body in _dashboards()],
)
def test_each_dashboard_body_has_the_dashboard_schemas_shape(
    path: Path, lid: str, body: dict[str, Any]
) -> None:
    assert dashboard_shape_problems(body, set(_rules())) == []


def test_the_shape_check_refuses_what_cloudwatch_refuses() -> None:
    bad = {
        "widgets": [
            {"type": "graph", "x": 0, "y": 0, "width": 6, "height": 6, "properties": {}},
            {"type": "metric", "x": 20, "y": 0, "width": 6, "height": 6, "properties": {}},
            {"type": "log", "properties": {"region": "r", "query": "fields @message"}},
            {"type": "metric", "properties": {"region": "r", "insightRule": {"ruleName": "x"}}},
        ]
    }
    problems = dashboard_shape_problems(bad, {"y"})
    assert len(problems) == 6, problems
    assert dashboard_shape_problems({"widget": []}, set()) != []


# --- every dead-letter queue: an alarm and a line on the platform dashboard ------------------


def _queue_ref(value: Any) -> str | None:
    """The logical id a GetAtt ...Arn or Ref names, else None."""
    if isinstance(value, Mapping):
        if "Fn::GetAtt" in value:
            target = value["Fn::GetAtt"]
            return str(target[0] if isinstance(target, list) else str(target).split(".")[0])
        if "Ref" in value:
            return str(value["Ref"])
    return None


def _walk(node: Any) -> Iterator[Mapping[str, Any]]:
    if isinstance(node, Mapping):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def dead_letter_queues(template: Mapping[str, Any]) -> dict[str, str]:
    """{logical id: queue name} of every queue that receives what failed: a redrive target, a
    rule target's or an event source's dead letters, or named as such (-dlq, -failures)."""
    queues = _resources(template, "AWS::SQS::Queue")
    found: set[str] = set()
    for node in _walk(template.get("Resources") or {}):
        for key in ("deadLetterTargetArn", "Destination", "Arn"):
            if key == "Arn" and set(node) != {"Arn"}:
                continue  # DeadLetterConfig: {Arn: ...}
            ref = _queue_ref(node.get(key))
            if ref in queues:
                found.add(ref)
    for lid, res in queues.items():
        name = str(res.get("Properties", {}).get("QueueName", ""))
        if name.endswith(("-dlq", "-failures")):
            found.add(lid)
    return {lid: str(queues[lid].get("Properties", {}).get("QueueName", lid)) for lid in found}


def _depth_alarm_problems(template: Mapping[str, Any]) -> list[str]:
    parameters = template.get("Parameters") or {}
    alarms = _resources(template, "AWS::CloudWatch::Alarm")
    problems = []
    for lid, name in dead_letter_queues(template).items():
        watching = [
            props
            for props in (a["Properties"] for a in alarms.values())
            if (props.get("Namespace"), props.get("MetricName")) == DEPTH_METRIC
            and any(_queue_ref(d.get("Value")) == lid for d in props.get("Dimensions", []))
        ]
        if not watching:
            problems.append(f"{name}: no depth alarm")
            continue
        props = watching[0]
        threshold = props.get("Threshold")
        if not (isinstance(threshold, Mapping) and threshold.get("Ref") in parameters):
            problems.append(f"{name}: the threshold is not a parameter")
        if props.get("ComparisonOperator") != "GreaterThanThreshold":
            problems.append(f"{name}: the alarm fires above its threshold")
    return problems


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_dead_letter_queue_has_a_depth_alarm_in_its_template(path: Path) -> None:
    assert _depth_alarm_problems(_load(path)) == []


def test_every_dead_letter_queue_is_on_the_platform_dashboard() -> None:
    platform = [body for path, _, body in _dashboards() if path == PLATFORM]
    assert len(platform) == 1
    shown = {
        row[3]
        for widget in platform[0]["widgets"]
        for row in widget.get("properties", {}).get("metrics", [])
        if isinstance(row[0], str) and tuple(row[:2]) == DEPTH_METRIC and row[2] == "QueueName"
    }
    queues = {name for path in TEMPLATES for name in dead_letter_queues(_load(path)).values()}
    assert len(queues) >= 9
    assert queues <= shown, f"not on the platform dashboard: {sorted(queues - shown)}"


def test_the_queue_finder_sees_every_kind_of_dead_letter_queue() -> None:
    template = {
        "Parameters": {"Depth": {"Type": "Number", "Default": 0}},
        "Resources": {
            "Redriven": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "a"}},
            "Source": {
                "Type": "AWS::SQS::Queue",
                "Properties": {
                    "RedrivePolicy": {"deadLetterTargetArn": {"Fn::GetAtt": "Redriven.Arn"}}
                },
            },
            "RuleDlq": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "b"}},
            "Rule": {
                "Type": "AWS::Events::Rule",
                "Properties": {
                    "Targets": [{"DeadLetterConfig": {"Arn": {"Fn::GetAtt": ["RuleDlq", "Arn"]}}}]
                },
            },
            "OnFailure": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "c"}},
            "Mapping": {
                "Type": "AWS::Lambda::EventSourceMapping",
                "Properties": {
                    "DestinationConfig": {
                        "OnFailure": {"Destination": {"Fn::GetAtt": "OnFailure.Arn"}}
                    }
                },
            },
            "Named": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "x-failures"}},
            "Alarm": {
                "Type": "AWS::CloudWatch::Alarm",
                "Properties": {
                    "Namespace": "AWS/SQS",
                    "MetricName": "ApproximateNumberOfMessagesVisible",
                    "Dimensions": [
                        {"Name": "QueueName", "Value": {"Fn::GetAtt": "Named.QueueName"}}
                    ],
                    "Threshold": {"Ref": "Depth"},
                    "ComparisonOperator": "GreaterThanThreshold",
                },
            },
        },
    }

    assert set(dead_letter_queues(template)) == {"Redriven", "RuleDlq", "OnFailure", "Named"}
    assert sorted(_depth_alarm_problems(template)) == [
        "a: no depth alarm",
        "b: no depth alarm",
        "c: no depth alarm",
    ]


# --- thresholds: parameters whose defaults the README states --------------------------------


def _readme_section() -> str:
    text = (ROOT / "README.md").read_text()
    start = text.index("## Dashboards and alarms")
    end = text.find("\n## ", start + 3)
    return text[start : end if end > 0 else None]


def test_the_new_alarms_thresholds_are_parameters_stated_in_the_readme() -> None:
    section = _readme_section()
    checked = 0
    for path, lid, props in _alarms():
        if lid in ("AliasErrorsAlarm", "Api5xxAlarm"):
            continue  # the rollback alarms: their thresholds are held by test_gradual_rollout
        threshold = props["Threshold"]
        assert isinstance(threshold, Mapping), f"{path.name} {lid}: a literal threshold"
        assert "Ref" in threshold, f"{path.name} {lid}: the threshold is not a parameter"
        parameter = _load(path)["Parameters"][threshold["Ref"]]
        default = parameter["Default"]
        assert f"`{threshold['Ref']}`" in section, f"README lacks {threshold['Ref']}"
        assert re.search(rf"`{threshold['Ref']}`[^\n]*\b{re.escape(str(default))}\b", section), (
            f"README does not state {threshold['Ref']}'s default {default}"
        )
        checked += 1
    assert checked >= 13


def test_the_saga_alarm_watches_the_slower_tiers_p95() -> None:
    order = _load(ROOT / "services/order/template.yaml")
    props = order["Resources"]["SagaP95Alarm"]["Properties"]
    stats = {
        q["Id"]: (
            q["MetricStat"]["Stat"],
            {d["Name"]: d["Value"] for d in q["MetricStat"]["Metric"]["Dimensions"]},
        )
        for q in props["Metrics"]
        if "MetricStat" in q
    }
    assert stats == {
        "basic": ("p95", {"service": "order", "tier": "basic"}),
        "premium": ("p95", {"service": "order", "tier": "premium"}),
    }
    assert props["Metrics"][0]["Expression"] == "MAX([basic, premium])"


def test_each_api_service_shows_its_tenants_latency_percentiles() -> None:
    for path in ROOT.glob("services/*/template.yaml"):
        template = _load(path)
        api_functions = [
            lid
            for lid, res in _resources(template, "AWS::Serverless::Function").items()
            if any(e.get("Type") == "Api" for e in (res["Properties"].get("Events") or {}).values())
        ]
        if not api_functions:
            continue
        dashboards = _resources(template, "AWS::CloudWatch::Dashboard").values()
        queries = [
            w["properties"]["query"]
            for d in dashboards
            for w in json.loads(_text(d["Properties"]["DashboardBody"]))["widgets"]
            if w["type"] == "log"
        ]
        for function in api_functions:
            source = f"SOURCE '/aws/lambda/x-{function}'"
            assert any(
                q.startswith(source)
                and "pct(Latency, 50)" in q
                and "pct(Latency, 95)" in q
                and "by tenant_id" in q
                for q in queries
            ), f"{path.parent.name}: no per-tenant p50/p95 latency over {function}'s log group"


# --- deployed in the local platform ---------------------------------------------------------


@pytest.mark.slow
def test_the_dashboards_alarms_and_rules_deploy_in_the_local_platform(local_platform: Any) -> None:
    cloudwatch = local_platform.client("cloudwatch")
    region = cloudwatch.meta.region_name

    dashboards = {d["DashboardName"] for d in cloudwatch.list_dashboards()["DashboardEntries"]}
    alarms = {a["AlarmName"] for a in cloudwatch.describe_alarms()["MetricAlarms"]}
    rules = {r["Name"] for r in cloudwatch.describe_insight_rules()["InsightRules"]}

    assert {
        f"saas-platform-{region}",
        f"saas-order-{region}",
        f"saas-tenant-{region}",
    } <= dashboards
    assert {"saas-platform-OrderDeadLetterQueueDepthAlarm", "saas-order-SagaP95Alarm"} <= alarms
    assert "saas-provisioner-DeadLetterQueueDepthAlarm" in alarms
    assert set(_rules()) <= rules
    body = cloudwatch.get_dashboard(DashboardName=f"saas-platform-{region}")["DashboardBody"]
    assert dashboard_shape_problems(json.loads(body), rules) == []
