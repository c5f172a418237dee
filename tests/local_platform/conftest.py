from __future__ import annotations

from pathlib import Path

import pytest

from saas_local.testing import start_platform

FIXTURES = Path(__file__).parent / "fixture_services"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def shop_platform():
    """The real platform template with two small fixture services (an authorizer and a shop),
    so these tests do not depend on the real services."""
    templates = [FIXTURES / "gatekeeper/template.yaml", FIXTURES / "shop/template.yaml"]
    with start_platform(ROOT, templates, region_map={"us": "us-east-1"}) as platform:
        yield platform


def stack_output(platform, stack: str, key: str) -> str:
    outputs = platform.client("cloudformation").describe_stacks(StackName=stack)["Stacks"][0]
    return next(o["OutputValue"] for o in outputs["Outputs"] if o["OutputKey"] == key)
