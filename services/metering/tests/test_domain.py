from __future__ import annotations

import pytest

from metering_service.domain.errors import InvalidMetering
from metering_service.domain.events import MeteringCreated
from metering_service.domain.model import MAX_NAME_LENGTH, Metering


def test_a_new_metering_raises_its_created_event_once():
    created = Metering.create("a-1", "  First  ")

    assert created.name == "First"
    assert created.pull_events() == [MeteringCreated(metering_id="a-1", name="First")]
    assert created.pull_events() == []


@pytest.mark.parametrize("name", ["", "   ", "x" * (MAX_NAME_LENGTH + 1)])
def test_a_name_out_of_bounds_is_refused(name):
    with pytest.raises(InvalidMetering, match="name"):
        Metering.create("a-1", name)
