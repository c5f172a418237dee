"""Every HTTP API, fuzzed from its own committed OpenAPI document (schemathesis) through the local
platform: real tokens, the tenant authorizer, the gateway and the handlers of the templates.

Whatever a client sends, the answer is never a 5xx, its status is one the document declares for
that route, and its body has the declared schema. Each route gets data that fits its document and
data that breaks it (schemathesis' positive and negative generation modes, drawn in one run): what
breaks the document must be refused with a 4xx (`negative_data_rejection`), never accepted. A route
that starts answering a status it does not document, accepts what its document forbids, or a
handler that fails on input nobody thought of, fails here first. The routes that take a body get
a second run of negative data alone (the mixed run draws few of it while fuzzing), as the body is
where most of a client's input goes (tests/e2e/test_bad_input_conformance.py sends the bodies
a generator seldom builds).
Examples are derandomized: a failure here reproduces on the next run. CONFORMANCE_EXAMPLES=200
searches deeper (the default, 25 per route, keeps CI short).
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.schemas import BaseSchema
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

sys.path.insert(0, str(Path(__file__).parent))

from tenant_e2e_kit import onboard, tenant_status

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "Conformance-Passw0rd-1"
EXAMPLES = int(os.environ.get("CONFORMANCE_EXAMPLES", "25"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)

pytestmark = pytest.mark.slow

product_api = schemathesis.openapi.from_path(ROOT / "services/product/contracts/openapi.json")
order_api = schemathesis.openapi.from_path(ROOT / "services/order/contracts/openapi.json")
tenant_api = schemathesis.openapi.from_path(ROOT / "services/tenant/contracts/openapi.json")
for _api in (product_api, order_api, tenant_api):
    # Both modes, said here rather than left to the default: the negative one is what
    # negative_data_rejection holds to a 4xx.
    _api.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE])


def _negative_bodies(service: str) -> BaseSchema:
    """The service's routes that take a body, with negative data alone (a schema of its own:
    the generation config is the schema's)."""
    api = schemathesis.openapi.from_path(ROOT / f"services/{service}/contracts/openapi.json")
    api.config.generation.update(modes=[GenerationMode.NEGATIVE])
    return api.include(func=lambda ctx: "requestBody" in ctx.operation.definition.raw)


negative_bodies = {s: _negative_bodies(s) for s in ("product", "order", "tenant")}


@dataclass(frozen=True)
class Callers:
    api_url: str
    system_admin: str  # ID tokens
    tenant_admin: str


@pytest.fixture(scope="module")
def callers() -> Iterator[Callers]:
    from saas_local.testing import start_platform

    with start_platform(ROOT, region_map={"us": "us-east-1"}) as platform:
        root = platform.login(*platform.system_admin)
        suffix = uuid.uuid4().hex[:8]
        tenant_id = onboard(platform, root, f"owner-{suffix}@conformance.test")
        platform.wait_until(
            lambda: tenant_status(platform, root, tenant_id) == "ACTIVE", timeout=120
        )
        username = f"admin-{suffix}"
        platform.create_user(username, PASSWORD, "TenantAdmin", tenant_id)
        yield Callers(platform.api_url, root, platform.login(username, PASSWORD))


def _check(case: Any, callers: Callers, token: str) -> None:
    case.call_and_validate(
        base_url=callers.api_url,
        headers={"Authorization": f"Bearer {token}"},
        checks=CHECKS,
        timeout=60,
    )


@product_api.parametrize()
@FUZZ
def test_the_product_api_answers_as_documented(case: Any, callers: Callers) -> None:
    _check(case, callers, callers.tenant_admin)


@order_api.parametrize()
@FUZZ
def test_the_order_api_answers_as_documented(case: Any, callers: Callers) -> None:
    _check(case, callers, callers.tenant_admin)


@tenant_api.parametrize()
@FUZZ
def test_the_tenant_api_answers_as_documented(case: Any, callers: Callers) -> None:
    # /tenants is the SystemAdmin's; /users a TenantAdmin's (each also refuses the other: 403)
    users = case.path.startswith("/users")
    _check(case, callers, callers.tenant_admin if users else callers.system_admin)


def _caller(case: Any, callers: Callers) -> str:
    # /tenants is the SystemAdmin's; /users and the tenant's data a TenantAdmin's
    return callers.system_admin if case.path.startswith("/tenants") else callers.tenant_admin


@negative_bodies["product"].parametrize()
@FUZZ
def test_the_product_api_refuses_bodies_that_break_its_document(
    case: Any, callers: Callers
) -> None:
    _check(case, callers, _caller(case, callers))


@negative_bodies["order"].parametrize()
@FUZZ
def test_the_order_api_refuses_bodies_that_break_its_document(case: Any, callers: Callers) -> None:
    _check(case, callers, _caller(case, callers))


@negative_bodies["tenant"].parametrize()
@FUZZ
def test_the_tenant_api_refuses_bodies_that_break_its_document(case: Any, callers: Callers) -> None:
    _check(case, callers, _caller(case, callers))
