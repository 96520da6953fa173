"""Line accounting: the cap holds for any sequence of takes, releases and inbound calls."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from dialer.lines import LineBook, Trunk, trunk_of


def test_trunk_of() -> None:
    assert trunk_of("PJSIP/lines-0000001a") == "lines"
    assert trunk_of("PJSIP/my-trunk-00000001") == "my-trunk"
    assert trunk_of("Local/100@ctx-0001;1") is None


def test_reserved_inbound_lines() -> None:
    book = LineBook([Trunk("lines", 10, inbound_reserved=2)])
    assert book.free("lines") == 8
    for i in range(8):
        assert book.take("lines", f"c{i}")
    assert not book.take("lines", "c9")
    assert book.inbound_started("PJSIP/lines-00000001", "in1") == "lines"
    assert book.inbound_started("PJSIP/lines-00000002", "in2") == "lines"
    assert book.trunks["lines"].in_use == 10 and book.free("lines") == 0
    book.inbound_started("PJSIP/lines-00000003", "in3")  # a third inbound call arrives: over the reserve
    book.release("c0")
    assert book.free("lines") == 0  # the freed line is taken by inbound demand, not redialed
    book.release("in3")
    assert book.free("lines") == 1
    assert book.inbound_started("PJSIP/other-0001", "x") is None


OPS = st.lists(st.tuples(st.sampled_from(["take", "release", "in", "in_release"]), st.integers(0, 30)),
               max_size=200)


@settings(max_examples=300, deadline=None)
@given(ops=OPS, lines=st.integers(1, 12), reserved=st.integers(0, 4))
def test_a_take_never_overfills_the_trunk(ops: list[tuple[str, int]], lines: int, reserved: int) -> None:
    book = LineBook([Trunk("t", lines, inbound_reserved=reserved)])
    t = book.trunks["t"]
    for op, n in ops:
        if op == "take" and f"o{n}" not in t.outbound:
            taken = book.take("t", f"o{n}")
            demand = len(t.outbound) + max(reserved, len(t.inbound))
            # a take succeeds exactly when the trunk had room, and never leaves it over its lines
            assert (taken and demand <= lines) or (not taken and demand >= lines)
        elif op == "release":
            book.release(f"o{n}")
        elif op == "in":
            book.inbound_started("PJSIP/t-00000001", f"i{n}")
        elif op == "in_release":
            book.release(f"i{n}")
        assert t.free_for_outbound == max(0, lines - max(reserved, len(t.inbound)) - len(t.outbound))
