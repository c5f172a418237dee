"""Outbox messages: the envelope of a domain event, with the cause's ids passed on."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel

from tenant_context import (
    Cause,
    RegionGroup,
    Role,
    TenantContext,
    Tier,
    outbox_message,
    outbox_messages,
    read_envelope,
)


class ThingHappened(BaseModel):
    event_version: ClassVar[int] = 2
    thing_id: str


CTX = TenantContext(
    tenant_id="t-1",
    role=Role.TENANT_USER,
    user_id="u-1",
    tier=Tier.BASIC,
    region_group=RegionGroup.EU,
)


def test_a_new_flow_starts_its_own_correlation_id() -> None:
    message = outbox_message(CTX, ThingHappened(thing_id="x"), source="saas.thing", cause=Cause())

    envelope = read_envelope(message.detail)
    assert message.source == "saas.thing"
    assert message.detail_type == "ThingHappened"
    assert envelope.metadata.event_id == message.event_id
    assert envelope.metadata.correlation_id == message.event_id
    assert envelope.metadata.causation_id is None
    assert envelope.metadata.event_version == 2
    assert envelope.metadata.tenant_id == "t-1"
    assert envelope.metadata.tier == "basic"
    assert envelope.data == {"thing_id": "x"}


def test_a_reaction_passes_the_correlation_on_and_names_its_cause() -> None:
    cause = Cause(correlation_id="c-1", event_id="e-1")

    messages = outbox_messages(
        CTX,
        [ThingHappened(thing_id="a"), ThingHappened(thing_id="b")],
        source="saas.t",
        cause=cause,
    )

    metadata = [read_envelope(m.detail).metadata for m in messages]
    assert [m.correlation_id for m in metadata] == ["c-1", "c-1"]
    assert [m.causation_id for m in metadata] == ["e-1", "e-1"]
    assert len({m.event_id for m in messages}) == 2
