import json
from datetime import UTC, datetime

import pytest
from pydantic import BaseModel

from tenant_context import (
    InvalidEnvelope,
    MissingTenantId,
    RegionGroup,
    Role,
    TenantContext,
    Tier,
    new_metadata,
    read_envelope,
    write_envelope,
)

CTX = TenantContext("t-1", Role.TENANT_USER, "u-1", Tier.BASIC, RegionGroup.US)


class OrderPlaced(BaseModel):
    order_id: str
    lines: list[dict[str, int | str]]


def test_writes_the_envelope_of_the_architecture():
    at = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    metadata = new_metadata(
        tenant_id="t-1",
        producer="saas.order",
        correlation_id="c-1",
        causation_id="e-0",
        context=CTX,
        occurred_at=at,
        event_id="e-1",
    )

    detail = write_envelope(
        metadata, OrderPlaced(order_id="o-1", lines=[{"product_id": "p", "quantity": 2}])
    )

    assert detail == {
        "metadata": {
            "event_id": "e-1",
            "event_version": 1,
            "tenant_id": "t-1",
            "correlation_id": "c-1",
            "causation_id": "e-0",
            "occurred_at": "2026-11-23T12:00:00Z",
            "producer": "saas.order",
            "tier": "basic",
            "region_group": "us",
        },
        "data": {"order_id": "o-1", "lines": [{"product_id": "p", "quantity": 2}]},
    }
    json.dumps(detail)  # JSON-ready as it is


def test_a_new_flow_correlates_with_its_own_event_id():
    metadata = new_metadata(tenant_id="t-1", producer="saas.tenant")

    assert metadata.correlation_id == metadata.event_id
    assert metadata.causation_id is None
    assert metadata.occurred_at.tzinfo is not None


def test_every_event_gets_a_fresh_id():
    ids = {new_metadata(tenant_id="t", producer="saas.order").event_id for _ in range(50)}

    assert len(ids) == 50


def test_reads_back_what_it_wrote_from_a_mapping_and_from_json_text():
    detail = write_envelope(new_metadata(tenant_id="t-1", producer="saas.order"), {"x": 1})

    for source in (detail, json.dumps(detail), json.dumps(detail).encode()):
        envelope = read_envelope(source)
        assert envelope.metadata.tenant_id == "t-1"
        assert envelope.data == {"x": 1}


def test_unknown_metadata_fields_are_ignored_by_readers():
    detail = write_envelope(new_metadata(tenant_id="t-1", producer="saas.order"), {})
    detail["metadata"]["added_later"] = "ok"

    assert read_envelope(detail).metadata.tenant_id == "t-1"


@pytest.mark.parametrize("tenant_id", [None, "", "  "])
def test_writing_without_a_tenant_fails(tenant_id):
    with pytest.raises(MissingTenantId):
        new_metadata(tenant_id=tenant_id, producer="saas.order")  # type: ignore[arg-type]


@pytest.mark.parametrize("tenant_id", [None, "", "  "])
def test_reading_without_a_tenant_fails(tenant_id):
    detail = write_envelope(new_metadata(tenant_id="t-1", producer="saas.order"), {})
    if tenant_id is None:
        del detail["metadata"]["tenant_id"]
    else:
        detail["metadata"]["tenant_id"] = tenant_id

    with pytest.raises(MissingTenantId):
        read_envelope(detail)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.pop("metadata"), "detail.metadata is missing"),
        (lambda d: d.pop("data"), "data: Field required"),
        (lambda d: d["metadata"].update(event_version=0), "metadata.event_version"),
        (lambda d: d["metadata"].update(occurred_at="yesterday"), "metadata.occurred_at"),
        (lambda d: d["metadata"].update(occurred_at="2026-11-23T12:00:00"), "metadata.occurred_at"),
        (lambda d: d["metadata"].update(producer="order"), "metadata.producer"),
        (lambda d: d["metadata"].pop("event_id"), "metadata.event_id"),
    ],
)
def test_invalid_envelopes_say_what_is_wrong(mutate, message):
    detail = write_envelope(new_metadata(tenant_id="t-1", producer="saas.order"), {})
    mutate(detail)

    with pytest.raises(InvalidEnvelope, match=message):
        read_envelope(detail)


@pytest.mark.parametrize("detail", ["{not json", "[1, 2]", b"42"])
def test_non_object_details_are_rejected(detail):
    with pytest.raises(InvalidEnvelope):
        read_envelope(detail)
