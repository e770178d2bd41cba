import logging

from pipeline.stream.quiet import QuietClientLogs


def _record(name: str, msg: str, level: int = logging.ERROR) -> logging.LogRecord:
    return logging.LogRecord(name, level, __file__, 1, msg, (), None)


def test_a_repeated_client_error_is_shown_once_a_window_with_the_count_held_back() -> None:
    now = [0.0]
    quiet = QuietClientLogs(every_s=30, clock=lambda: now[0])
    shown = []
    for second in range(100):
        now[0] = second * 0.5  # two a second, for 50 s
        record = _record("aiokafka.conn", "Unable connect to %r")
        if quiet.filter(record):
            shown.append((now[0], record.msg))
    assert shown == [(0.0, "Unable connect to %r"), (30.0, "Unable connect to %r (59 more like it in the last 30 s)")]
    # Another message, our own lines and the clients' info lines are never held back.
    assert quiet.filter(_record("aiokafka.consumer", "Heartbeat failed"))
    assert all(quiet.filter(_record("claimwatch.worker", "x")) for _ in range(5))
    assert all(quiet.filter(_record("aiokafka", "y", logging.INFO)) for _ in range(5))


def test_the_worker_says_it_waits_for_the_broker_once_a_window(caplog) -> None:  # type: ignore[no-untyped-def]
    now = [0.0]
    quiet = QuietClientLogs(every_s=30, clock=lambda: now[0])
    with caplog.at_level(logging.WARNING, logger="claimwatch.worker"):
        quiet.filter(_record("aiokafka", "GroupCoordinatorNotAvailableError"))  # harmless at start: no word
        for second in range(40):
            now[0] = float(second)
            quiet.filter(_record("aiokafka.conn", "Unable connect to node with id 1: [Errno 111] Connect call failed"))
    said = [r.getMessage() for r in caplog.records if r.name == "claimwatch.worker"]
    assert len(said) == 2 and all(s.startswith("the broker cannot be reached") for s in said)


def test_a_coordinator_not_yet_known_at_start_is_not_an_error_but_one_that_lasts_is() -> None:
    from aiokafka.errors import CoordinatorNotAvailableError, GroupAuthorizationFailedError

    now = [0.0]
    quiet = QuietClientLogs(every_s=30, clock=lambda: now[0])

    def lookup_failed(error: Exception) -> logging.LogRecord:
        return logging.LogRecord("aiokafka.consumer.group_coordinator", logging.ERROR, __file__, 1,
                                 "Group Coordinator Request failed: %s", (error,), None)

    now[0] = 5.0
    assert not quiet.filter(lookup_failed(CoordinatorNotAvailableError()))  # a fresh broker's first group
    assert quiet.filter(lookup_failed(GroupAuthorizationFailedError()))  # not retried: always shown
    now[0] = 90.0
    assert quiet.filter(lookup_failed(CoordinatorNotAvailableError()))  # still unknown after a minute: shown
