"""The unit of work: the aggregate, its outbox message and the processed marker, all at once."""

from __future__ import annotations

import pytest

from metering_service.adapters.memory_unit_of_work import MemoryStore, MemoryUnitOfWorkFactory
from metering_service.domain.errors import ConcurrentUpdate, EventAlreadyProcessed
from metering_service.domain.model import Metering
from tenant_context import Cause, RegionGroup, Role, TenantContext, Tier

TENANT = TenantContext(
    tenant_id="t-1",
    role=Role.TENANT_ADMIN,
    user_id="u-1",
    tier=Tier.BASIC,
    region_group=RegionGroup.US,
)


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


def test_a_commit_writes_the_metering_and_its_event(store):
    uow = MemoryUnitOfWorkFactory(store, source="saas.metering")

    with uow(TENANT, Cause(correlation_id="c-1")) as work:
        work.meterings.add(Metering.create("a-1", "First"))
        work.commit()

    assert store.meterings[("t-1", "a-1")].version == 1
    [message] = store.outbox
    assert (message.source, message.detail_type) == ("saas.metering", "MeteringCreated")
    assert message.detail["metadata"]["correlation_id"] == "c-1"
    assert message.detail["data"] == {"metering_id": "a-1", "name": "First"}


def test_leaving_without_commit_writes_nothing(store):
    uow = MemoryUnitOfWorkFactory(store, source="saas.metering")

    with uow(TENANT, Cause()) as work:
        work.meterings.add(Metering.create("a-1", "First"))

    assert store.meterings == {}
    assert store.outbox == []


def test_an_event_is_processed_once(store):
    uow = MemoryUnitOfWorkFactory(store, source="saas.metering")
    cause = Cause(event_id="e-1")
    with uow(TENANT, cause) as work:
        work.commit()

    with uow(TENANT, cause) as work, pytest.raises(EventAlreadyProcessed):
        work.commit()
    assert store.processed == {("t-1", "e-1")}


def test_an_id_taken_meanwhile_is_a_concurrent_update(store):
    uow = MemoryUnitOfWorkFactory(store, source="saas.metering")
    with uow(TENANT, Cause()) as first, uow(TENANT, Cause()) as second:
        first.meterings.add(Metering.create("a-1", "First"))
        second.meterings.add(Metering.create("a-1", "Second"))
        first.commit()

        with pytest.raises(ConcurrentUpdate):
            second.commit()

    assert store.meterings[("t-1", "a-1")].name == "First"
