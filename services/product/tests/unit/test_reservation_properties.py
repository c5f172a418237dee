"""The reservation rule over generated orders and stock: all lines or none, never below zero."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from product_service.domain.model import OrderLine, decide_reservation, merge_lines

PRODUCTS = st.sampled_from(["a", "b", "c", "d"])
LINES = st.lists(
    st.builds(OrderLine, product_id=PRODUCTS, quantity=st.integers(1, 20)), min_size=1, max_size=8
)
STOCK = st.dictionaries(PRODUCTS, st.one_of(st.none(), st.integers(0, 30)))


@given(lines=LINES, stock=STOCK)
def test_a_reservation_takes_every_line_or_none_and_never_goes_below_zero(
    lines: list[OrderLine], stock: dict[str, int | None]
) -> None:
    decision = decide_reservation("o-1", lines, stock)

    wanted = {line.product_id: line.quantity for line in merge_lines(lines)}
    fits = all((stock.get(pid) or 0) >= qty for pid, qty in wanted.items())
    assert decision.reserved is fits
    if fits:
        assert {m.product_id: -m.delta for m in decision.movements} == wanted
        assert all((stock.get(m.product_id) or 0) + m.delta >= 0 for m in decision.movements)
    else:
        assert decision.movements == ()
        assert {s.product_id for s in decision.short_lines} == {
            pid for pid, qty in wanted.items() if (stock.get(pid) or 0) < qty
        }
