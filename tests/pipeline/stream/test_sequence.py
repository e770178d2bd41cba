from pipeline.stream.sequence import DROP, TAKE, Admission, InOrder, Verdict


def test_events_in_order_are_taken_and_read_again_are_dropped() -> None:
    order = InOrder()
    assert [order.admit("p0", o, committed=3) for o in (3, 4, 5)] == [TAKE] * 3
    assert order.admit("p0", 4) == DROP  # handed on again (Faust seeking to the committed offset)
    assert order.admit("p1", 9) == TAKE  # a partition with no committed offset takes what comes


def test_a_gap_is_filled_from_the_broker_before_the_event_after_it() -> None:
    order = InOrder()
    assert order.admit("p0", 50, committed=50) == TAKE
    assert order.admit("p0", 53) == Admission(Verdict.FILL, 51)  # 51 and 52 are read directly
    assert [order.admit("p0", o) for o in (51, 52, 53, 54)] == [DROP, DROP, DROP, TAKE]


def test_the_first_event_after_an_assignment_must_be_at_the_committed_offset() -> None:
    # What a restarted worker met: Faust lost the first events after the committed offset.
    order = InOrder()
    assert order.admit("p0", 89, committed=88) == Admission(Verdict.FILL, 88)
    assert order.admit("p0", 90) == TAKE
    order.reset()  # reassigned: starts again where the group committed
    assert order.admit("p0", 60, committed=60) == TAKE
