"""The saga and the tenant lifecycle keep their promises under a plan mixing every fault kind
(fixed seed, CI size); `make bench` runs the same harness at full size (bench/faults.py).

What is checked, and how "never" and "once" are known: invariants.py's docstring.
"""

from __future__ import annotations

from typing import Any

import pytest
from invariants import (
    check_events,
    dead_letters,
    mixed_plan,
    onboarding_under_faults,
    saga_under_faults,
    unexpected_failures,
    unexplained,
)

pytestmark = pytest.mark.slow

ORDERS, STOCK = 40, 10
TENANTS = 8
# Seconds from the faults' end to a final state that a loaded 2-core CI runner stays within: a
# message a crashed function left comes back after the queue's visibility timeout (10 s here),
# and a stream record is retried with a backoff of at most 2 s.
SETTLE_BOUND = 120.0


def test_the_saga_decides_every_order_once_and_never_oversells(faulty_platform: Any) -> None:
    # Given a product with stock 10, when 40 orders for one unit are placed concurrently while
    # the plan injects its faults (then stops)
    run = saga_under_faults(
        faulty_platform, mixed_plan(), orders=ORDERS, stock=STOCK, settle_bound=SETTLE_BOUND
    )

    # Then every order is final within the bound: 10 CONFIRMED, 30 REJECTED, stock 0
    assert run.violations == []
    assert (run.confirmed, run.rejected, run.final_stock) == (STOCK, ORDERS - STOCK, 0)
    assert run.settle_s <= SETTLE_BOUND
    # And no event was lost or applied twice
    events = check_events(faulty_platform, [run.tenant_id])
    assert events.violations == []
    assert events.decisions_per_order_placed == {1: ORDERS}
    assert events.outbox_items >= 1 + ORDERS * 2  # ProductCreated, OrderPlaced, outcome each
    # And no function failed but for the faults; whatever was dead-lettered says why
    assert unexpected_failures(faulty_platform.function_log) == {}
    letters = dead_letters(faulty_platform, faulty_platform.function_log)
    assert unexplained(letters, faulty_platform.function_log) == []


def test_every_tenant_comes_in_and_goes_out_with_one_stack(faulty_platform: Any) -> None:
    # When tenants are onboarded and offboarded while the plan injects its faults
    run = onboarding_under_faults(
        faulty_platform, mixed_plan(seed=16), tenants=TENANTS, settle_bound=SETTLE_BOUND
    )

    # Then every tenant became ACTIVE (a failed one after a retry), with one stack each, and
    # every one is OFFBOARDED with no stack left
    assert run.violations == []
    assert run.active == TENANTS
    assert run.retried_to_active == run.failed
    assert run.stacks_while_active == TENANTS
    assert run.stacks_left == 0
    # And the provisioner's events were applied once per run
    runs = dict.fromkeys(run.tenant_ids, 1)
    events = check_events(faulty_platform, run.tenant_ids, provisioning_runs=runs)
    assert events.violations == []
    # And no function failed but for the faults (a premium tenant's purge once failed on its
    # table, gone with its stack: every TenantDeprovisioned dead-lettered); all dead letters say why
    assert unexpected_failures(faulty_platform.function_log) == {}
    letters = dead_letters(faulty_platform, faulty_platform.function_log)
    assert unexplained(letters, faulty_platform.function_log) == []
