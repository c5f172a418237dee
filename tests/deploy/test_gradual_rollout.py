"""Every service template rolls a new version out gradually in AWS, and the local platform reads
the same templates, applying a version at once.

Given each services/*/template.yaml, its functions are published behind the `live` alias with a
CodeDeploy deployment preference whose alarms roll back (the errors of the aliases; for an API,
its 5xx rate); translated as AWS would, its SQS and stream event source mappings call the alias;
read by the local platform, the same mappings run the function, and the preference is reported.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from saas_local import templates

REPOSITORY = Path(__file__).resolve().parents[2]
TEMPLATES = sorted(REPOSITORY.glob("services/*/template.yaml"))


def _has_api(sam: dict[str, Any]) -> bool:
    return any(r.get("Type") == "AWS::Serverless::Api" for r in sam["Resources"].values())


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.parent.name)
def test_functions_are_published_behind_an_alias_with_alarms_that_roll_back(path: Path) -> None:
    sam = templates.load_template(path)
    function = sam["Globals"]["Function"]
    preference = function["DeploymentPreference"]
    alarms = {a["Ref"] for a in preference["Alarms"]}

    assert function["AutoPublishAlias"] == "live"
    if _has_api(sam):
        assert preference["Type"] == "Canary10Percent5Minutes"
        assert alarms == {"AliasErrorsAlarm", "Api5xxAlarm"}
        api_alarm = sam["Resources"]["Api5xxAlarm"]["Properties"]
        assert api_alarm["MetricName"] == "5XXError"
        assert api_alarm["Threshold"] == 0.02
    else:
        assert preference["Type"] == "Linear10PercentEvery1Minute"
        assert alarms == {"AliasErrorsAlarm"}
    errors = sam["Resources"]["AliasErrorsAlarm"]["Properties"]
    assert errors["Threshold"] == 5
    functions = {
        logical_id
        for logical_id, resource in sam["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function"
    }
    watched = set()
    for metric in errors["Metrics"][1:]:
        metric = metric["Fn::If"][1] if "Fn::If" in metric else metric
        dimensions = metric["MetricStat"]["Metric"]["Dimensions"]
        watched.add(dimensions[0]["Value"]["Ref"])
        assert dimensions[1]["Name"] == "Resource"
    assert watched == functions


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.parent.name)
def test_event_sources_call_the_alias_in_aws_and_the_function_locally(path: Path) -> None:
    sam = templates.load_template(path)
    cfn = templates.translate(sam, "us-east-1", cache_dir=REPOSITORY / ".local" / "sam-cache")
    mappings = [
        r["Properties"]
        for r in cfn["Resources"].values()
        if r["Type"] == "AWS::Lambda::EventSourceMapping"
    ]
    # The metering service is fed by the account's log subscription, not a mapping: its
    # destination is the alias too.
    subscriptions = [
        r["Properties"]["PolicyDocument"]["Fn::Sub"][1]["Arn"]["Ref"]
        for r in cfn["Resources"].values()
        if r["Type"] == "AWS::Logs::AccountPolicy"
    ]
    assert mappings or subscriptions, "every service template has an event source"
    for alias in subscriptions:
        assert cfn["Resources"][alias]["Type"] == "AWS::Lambda::Alias"
        assert cfn["Resources"][alias]["Properties"]["Name"] == "live"
    for mapping in mappings:
        target = cfn["Resources"][mapping["FunctionName"]["Ref"]]
        assert target["Type"] == "AWS::Lambda::Alias"
        assert target["Properties"]["Name"] == "live"

    local = {source.function for source in templates.event_sources(cfn)}
    assert local <= set(templates.functions(sam, cfn, path.parent))
    assert len(local) == len({m["FunctionName"]["Ref"] for m in mappings})
    preferences = templates.deployment_preferences(sam)
    assert set(preferences) == set(templates.functions(sam, cfn, path.parent))
