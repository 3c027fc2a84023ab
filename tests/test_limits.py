"""The shared limits, counters, once-per-peer warnings and admission/byte budget (_limits)."""

from __future__ import annotations

import logging
import threading

import pytest
from hypothesis import given
from hypothesis import strategies as st

from osc_live._limits import UNSET, ConnectionGate, Limits, PeerLog, ServerStats

LOG = logging.getLogger("osc_live.test_limits")


def gate(**kw: int) -> ConnectionGate:
    return ConnectionGate(Limits(**kw), ServerStats(), PeerLog(LOG))


def test_limits_defaults_are_the_documented_ones() -> None:
    limits = Limits()
    assert limits.max_packet_size == 1 << 20
    assert limits.max_buffered == 4 << 20
    assert limits.max_buffered_total == 32 << 20
    assert (limits.max_connections, limits.max_connections_per_host) == (128, 32)
    assert (limits.frame_timeout, limits.idle_timeout, limits.send_timeout) == (10.0, None, 10.0)


@pytest.mark.parametrize(
    ("name", "value"),
    [("max_packet_size", 0), ("max_connections", -1), ("max_buffered", 1.5), ("send_timeout", 0)],
)
def test_limits_refuse_nonsense(name: str, value: object) -> None:
    with pytest.raises(ValueError, match=name):
        Limits(**{name: value})  # type: ignore[arg-type]


def test_limits_build_applies_only_given_overrides() -> None:
    base = Limits(max_connections=5)
    built = Limits.build(base, max_connections=UNSET, max_packet_size=100)
    assert built.max_connections == 5 and built.max_packet_size == 100
    assert Limits.build(None) == Limits()
    with pytest.raises(TypeError, match="unknown limit"):
        Limits.build(None, nonsense=1)


def test_connection_limits_refuse_count_and_free_slots(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, LOG.name)
    g = gate(max_connections=3, max_connections_per_host=2)
    a1, a2 = g.admit("10.0.0.1"), g.admit("10.0.0.1")
    assert a1 is not None and a2 is not None
    assert g.admit("10.0.0.1") is None  # per host
    assert g.admit("10.0.0.1") is None
    b1 = g.admit("10.0.0.2")
    assert b1 is not None
    assert g.admit("10.0.0.3") is None  # in all
    assert g.stats.refused == 3 and g.active == 3
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 2  # once per (host, limit)
    a1.release()
    a1.release()  # idempotent
    assert g.active == 2
    assert g.admit("10.0.0.3") is not None


def test_byte_budget_per_connection_and_in_all() -> None:
    g = gate(max_buffered=100, max_buffered_total=150)
    a, b = g.admit("h1"), g.admit("h2")
    assert a is not None and b is not None
    assert a.hold(100) is None
    assert a.hold(101) == "max_buffered"
    assert a.held == 100  # refused bytes are not recorded
    assert b.hold(50) is None
    assert b.hold(51) == "max_buffered_total"
    assert g.held == 150 and g.stats.over_buffer == 2
    assert a.hold(0) is None and b.hold(51) is None  # shrinking frees the budget
    b.release()
    assert g.held == 0


@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 300)), max_size=60))
def test_budget_is_never_exceeded_and_held_matches_tickets(ops: list[tuple[int, int]]) -> None:
    g = gate(max_buffered=200, max_buffered_total=400)
    tickets = [g.admit(f"h{i}") for i in range(4)]
    for index, nbytes in ops:
        ticket = tickets[index]
        assert ticket is not None
        ticket.hold(nbytes)
        assert g.held <= 400
        assert g.held == sum(t.held for t in tickets if t is not None)
        assert all(t is not None and t.held <= 200 for t in tickets)


def test_gate_is_consistent_under_threads() -> None:
    g = gate(max_connections=50, max_connections_per_host=50)

    def churn() -> None:
        for _ in range(500):
            ticket = g.admit("h")
            if ticket is not None:
                ticket.hold(10)
                ticket.release()

    threads = [threading.Thread(target=churn, name=f"churn-{i}") for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert g.active == 0 and g.held == 0


def test_peer_log_warns_once_per_peer_and_limit_with_bounded_memory(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, LOG.name)
    log = PeerLog(LOG, max_peers=3)
    assert log.warn("a", "x", "a hits x") is True
    assert log.warn("a", "x", "a hits x again") is False
    assert log.warn("a", "y", "a hits y") is True
    for host in "bcdef":
        log.warn(host, "x", "%s hits x", host)
    assert len(log._seen) == 3
    levels = [r.levelno for r in caplog.records]
    assert levels.count(logging.WARNING) == 7 and levels.count(logging.DEBUG) == 1


def test_stats_count_and_report() -> None:
    stats = ServerStats()
    assert stats.add("packets", 3) == 3
    assert stats.as_dict()["packets"] == 3
    assert set(stats.as_dict()) == set(ServerStats.FIELDS)
    assert "packets=3" in repr(stats)
