"""can-i-deploy's rules over this repository's real contracts (no store: records built in place).

Given the order and product services as they are, the working tree is compatible with itself;
an order version that stops publishing an event the product service reads is refused; a breaking
change to the order API (an operation removed, a newly required request field) is a warning that
does not refuse; a version with no other service recorded is accepted.
"""

from __future__ import annotations

import copy
from dataclasses import replace
from pathlib import Path

from saas_devtools.contracts.deployed import Contracts, can_i_deploy, candidate

REPOSITORY = Path(__file__).resolve().parents[2]


def _deployed() -> dict[str, Contracts]:
    return {name: candidate(REPOSITORY, name) for name in ("order", "product", "provisioner")}


def test_the_working_tree_is_compatible_with_itself() -> None:
    deployed = _deployed()
    for name, contracts in deployed.items():
        assert [f for f in can_i_deploy(contracts, deployed) if f.severity == "refused"] == [], name


def test_an_event_a_deployed_consumer_reads_that_is_no_longer_published_is_refused() -> None:
    deployed = _deployed()
    order = deployed["order"]
    events = {k: v for k, v in order.events.items() if k != "OrderPlaced.v1"}

    findings = can_i_deploy(replace(order, events=events), deployed)

    refused = [str(f) for f in findings if f.severity == "refused"]
    assert any(
        "no longer publishes OrderPlaced v1, which the deployed consumer product" in r
        for r in refused
    ), refused


def test_a_breaking_change_to_the_api_is_a_warning() -> None:
    deployed = _deployed()
    order = deployed["order"]
    openapi = copy.deepcopy(order.openapi)
    assert openapi is not None
    del openapi["paths"]["/orders/{order_id}/cancel"]
    place = openapi["components"]["schemas"]["PlaceOrderIn"]
    place["properties"]["coupon"] = {"type": "string"}
    place["required"] = [*place.get("required", []), "coupon"]

    findings = can_i_deploy(replace(order, openapi=openapi), deployed)

    warnings = [str(f) for f in findings if f.severity == "warning"]
    assert [f for f in findings if f.severity == "refused"] == []
    assert any("POST /orders/{order_id}/cancel removed" in w for w in warnings), warnings
    assert any(
        "POST /orders request body field 'coupon': required by the reader" in w for w in warnings
    ), warnings


def test_with_nothing_else_recorded_a_version_is_accepted() -> None:
    order = candidate(REPOSITORY, "order")
    findings = can_i_deploy(order, {})
    assert [f for f in findings if f.severity == "refused"] == []
    assert any("product has no record in this stage" in str(f) for f in findings)
