"""Every API that serves tenants is metered per tenant: its methods require the API key the
authorizer returns (API key source AUTHORIZER), and it declares one usage plan per tier, tagged
with the tier, whose numbers are the platform template's (imported, never written here). The
tier numbers exist once, as the platform template's parameters, and premium gets more."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from saas_local.templates import load_template

ROOT = Path(__file__).resolve().parents[2]
TIERS = ("basic", "premium")
# The APIs a tenant's users call: the tenant API is the operators' and tenant admins'.
METERED = ("order", "product")


def _apis(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        lid: res.get("Properties", {})
        for lid, res in template["Resources"].items()
        if res.get("Type") == "AWS::Serverless::Api"
    }


@pytest.mark.parametrize("service", METERED)
def test_a_tenant_serving_api_is_metered_by_the_tenants_key_in_its_tiers_plans(
    service: str,
) -> None:
    template = load_template(ROOT / "services" / service / "template.yaml")
    [(api, props)] = _apis(template).items()
    assert props["ApiKeySourceType"] == "AUTHORIZER"
    assert props["Auth"]["ApiKeyRequired"] is True
    throttled = props["GatewayResponses"]["THROTTLED"]["ResponseParameters"]["Headers"]
    assert throttled["Retry-After"]
    # The console (another origin) can read when to retry only if CORS exposes the header.
    assert "Retry-After" in throttled["Access-Control-Expose-Headers"]
    assert props["Auth"]["AddApiKeyRequiredToCorsPreflight"] is False  # a preflight has no key

    plans = {
        res["Properties"]["Tags"][0]["Value"]: res["Properties"]
        for res in template["Resources"].values()
        if res.get("Type") == "AWS::ApiGateway::UsagePlan"
    }
    assert set(plans) == set(TIERS)
    for tier, plan in plans.items():
        assert plan["UsagePlanName"] == f"saas-{service}-{tier}"
        assert plan["ApiStages"] == [{"ApiId": {"Ref": api}, "Stage": {"Ref": f"{api}.Stage"}}]
        assert plan["Throttle"] == {
            "RateLimit": {"Fn::ImportValue": f"saas-limits-{tier}-rate"},
            "BurstLimit": {"Fn::ImportValue": f"saas-limits-{tier}-burst"},
        }
        assert plan["Quota"] == {
            "Limit": {"Fn::ImportValue": f"saas-limits-{tier}-quota"},
            "Period": "DAY",
        }


def test_the_tier_numbers_live_in_the_platform_template_and_premium_gets_more() -> None:
    platform = load_template(ROOT / "infra/platform.yaml")
    parameters = platform["Parameters"]
    exported = {o["Export"]["Name"]: o["Value"] for o in platform["Outputs"].values()}
    for name in ("RateLimit", "BurstLimit", "DailyQuota"):
        assert parameters[f"Premium{name}"]["Default"] > parameters[f"Basic{name}"]["Default"]
    for tier in TIERS:
        capital = tier.capitalize()
        assert exported[f"saas-limits-{tier}-rate"] == {"Ref": f"{capital}RateLimit"}
        assert exported[f"saas-limits-{tier}-burst"] == {"Ref": f"{capital}BurstLimit"}
        assert exported[f"saas-limits-{tier}-quota"] == {"Ref": f"{capital}DailyQuota"}
