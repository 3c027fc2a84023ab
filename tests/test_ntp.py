"""NTP timetags: exact conversions to and from Unix seconds and datetimes."""

from __future__ import annotations

import datetime
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pythonosc.parsing import ntp as p_ntp

from osc_live.errors import NtpError
from osc_live.parsing import ntp

DELTA = 2208988800
PIVOT_UNIX = 2**32 - DELTA  # 2036-02-07 06:28:16 UTC: NTP era 1 starts
UNIX_RANGE = st.floats(
    min_value=ntp.NTP_MIN_UNIX, max_value=ntp.NTP_MAX_UNIX, exclude_max=True, allow_nan=False
)


def exact(ntp_value: int) -> Fraction:
    """Unix seconds of a timetag, eras resolved: top bit clear means era 1 (but 0 and 1)."""
    if 1 < ntp_value < 2**63:
        ntp_value += 2**64
    return Fraction(ntp_value, 2**32) - DELTA


def test_constants() -> None:
    assert ntp.IMMEDIATELY == p_ntp.IMMEDIATELY == b"\0" * 7 + b"\x01"
    assert ntp.IMMEDIATELY_NTP == 1
    assert ntp._NTP_DELTA == p_ntp._NTP_DELTA == DELTA
    assert datetime.datetime(1970, 1, 1) + datetime.timedelta(
        seconds=ntp.NTP_MIN_UNIX
    ) == datetime.datetime(1968, 1, 20, 3, 14, 8)
    assert datetime.datetime(1970, 1, 1) + datetime.timedelta(
        seconds=ntp.NTP_MAX_UNIX
    ) == datetime.datetime(2104, 2, 26, 9, 42, 24)


def test_known_values() -> None:
    assert ntp.unix_to_ntp(0) == DELTA << 32
    assert ntp.unix_to_ntp(0.5) == (DELTA << 32) + (1 << 31)
    assert ntp.ntp_to_unix(DELTA << 32) == 0.0
    assert ntp.datetime_to_ntp(datetime.datetime(1970, 1, 1)) == DELTA << 32
    assert ntp.ntp_to_datetime(DELTA << 32) == datetime.datetime(1970, 1, 1)
    assert ntp.parse_timestamp((5 << 32) | 7) == ntp.Timestamp(5, 7)


def test_era_boundaries() -> None:
    # era 0: top bit set, 1968-01-20 03:14:08 .. 2036-02-07 06:28:15
    assert ntp.unix_to_ntp(ntp.NTP_MIN_UNIX) == 1 << 63
    assert ntp.ntp_to_datetime(1 << 63) == datetime.datetime(1968, 1, 20, 3, 14, 8)
    assert ntp.unix_to_ntp(PIVOT_UNIX - 1) == (2**32 - 1) << 32
    assert ntp.ntp_to_datetime((2**32 - 1) << 32) == datetime.datetime(2036, 2, 7, 6, 28, 15)
    # era 1: top bit clear, 2036-02-07 06:28:16 .. 2104-02-26 09:42:23
    assert ntp.unix_to_ntp(PIVOT_UNIX + 1) == 1 << 32
    assert ntp.ntp_to_unix(1 << 32) == PIVOT_UNIX + 1
    assert ntp.ntp_to_datetime(1 << 32) == datetime.datetime(2036, 2, 7, 6, 28, 17)
    assert ntp.unix_to_ntp(PIVOT_UNIX + 0.5) == 1 << 31
    last = ntp.NTP_MAX_UNIX - 1
    assert ntp.unix_to_ntp(last) == (2**31 - 1) << 32
    assert ntp.ntp_to_unix((2**31 - 1) << 32) == last
    assert ntp.datetime_to_ntp(datetime.datetime(2104, 2, 26, 9, 42, 23)) == (2**31 - 1) << 32
    assert ntp.datetime_to_ntp(datetime.datetime(2040, 1, 1)) == ntp.unix_to_ntp(2208988800)
    assert ntp.unix_to_ntp(2208988800) == (2208988800 - PIVOT_UNIX) << 32  # 2040 wraps


def test_zero_and_immediately_stay_special() -> None:
    # 1 (immediately) and 0 (NTP "unknown") keep their era-0 reading: long past, due at once.
    assert ntp.ntp_to_unix(1) == -DELTA + 2**-32
    assert ntp.ntp_to_unix(0) == -DELTA
    assert ntp.ntp_to_datetime(1) == ntp.ntp_to_datetime(0) == datetime.datetime(1900, 1, 1)
    assert ntp.ntp_to_unix(2) == PIVOT_UNIX + 2 * 2**-32  # but 2 is era 1
    # the instant that would wrap to 0 or 1 is encoded as 2 (0.35 ns later at most)
    assert ntp.unix_to_ntp(PIVOT_UNIX) == 2
    assert ntp.datetime_to_ntp(datetime.datetime(2036, 2, 7, 6, 28, 16)) == 2
    assert ntp.unix_to_ntp(PIVOT_UNIX + 2**-22) == 1 << 10  # the next float after the pivot
    assert ntp.unwrap(0) == 0 and ntp.unwrap(1) == 1 and ntp.unwrap(2) == 2**64 + 2


@given(UNIX_RANGE)
def test_unix_to_ntp_is_nearest(seconds: float) -> None:
    value = ntp.unix_to_ntp(seconds)
    assert 2 <= value <= ntp.NTP_MAX
    assert abs(exact(value) - Fraction(seconds)) <= Fraction(1, 2**33) * 3


@given(UNIX_RANGE)
def test_unix_to_ntp_is_nearest_away_from_the_pivot(seconds: float) -> None:
    if abs(seconds - PIVOT_UNIX) > 1e-6:
        value = ntp.unix_to_ntp(seconds)
        assert abs(exact(value) - Fraction(seconds)) <= Fraction(1, 2**33)
        assert (value >= 2**63) == (seconds < PIVOT_UNIX)  # the era is in the top bit


@given(st.integers(min_value=0, max_value=2**64 - 1))
def test_ntp_to_unix_is_nearest_float(value: int) -> None:
    result = ntp.ntp_to_unix(value)
    assert Fraction(result) == Fraction(float(exact(value)))


@given(UNIX_RANGE)
def test_unix_round_trip_when_float_is_coarser(seconds: float) -> None:
    # Beyond 2**20 s a float's step is >= 2**-32 s, so the round trip is exact.
    if abs(seconds) >= 2**21:
        assert ntp.ntp_to_unix(ntp.unix_to_ntp(seconds)) == seconds


@given(st.integers(min_value=2, max_value=2**64 - 2**13))
def test_ntp_round_trip_through_datetime_is_within_half_a_microsecond(value: int) -> None:
    dt = ntp.ntp_to_datetime(value)
    assume_in_range = datetime.datetime(2104, 2, 26, 9, 42, 24)
    if dt < assume_in_range:
        back = ntp.datetime_to_ntp(dt)
        assert abs(ntp.unwrap(back) - ntp.unwrap(value)) <= 2**32 // 2_000_000 + 1


@given(
    st.datetimes(
        min_value=datetime.datetime(1968, 1, 20, 3, 14, 8),
        max_value=datetime.datetime(2104, 2, 26, 9, 42, 23, 999999),
    )
)
def test_datetime_round_trip_is_exact(dt: datetime.datetime) -> None:
    assert ntp.ntp_to_datetime(ntp.datetime_to_ntp(dt)) == dt


def test_aware_datetimes() -> None:
    tz = datetime.timezone(datetime.timedelta(hours=2))
    aware = datetime.datetime(2024, 5, 6, 9, 0, tzinfo=tz)
    assert ntp.datetime_to_ntp(aware) == ntp.datetime_to_ntp(datetime.datetime(2024, 5, 6, 7, 0))
    back = ntp.ntp_to_datetime(ntp.datetime_to_ntp(aware), tz)
    assert back == aware and back.tzinfo == tz


def test_python_osc_names() -> None:
    data = ntp.system_time_to_ntp(1700000000.5)
    assert data == p_ntp.system_time_to_ntp(1700000000.5)
    assert ntp.ntp_to_system_time(data) == 1700000000.5
    assert ntp.ntp_time_to_system_epoch(DELTA + 1.0) == 1.0
    assert ntp.system_time_to_ntp_epoch(1.0) == DELTA + 1.0
    with pytest.raises(NtpError):
        ntp.ntp_to_system_time(b"short")
    with pytest.raises(NtpError):
        ntp.system_time_to_ntp("x")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "bad",
    [
        float("nan"),
        float("inf"),
        -float("inf"),
        -DELTA,  # 1900: a clear top bit would read as 2036-2104
        ntp.NTP_MIN_UNIX - 1,
        ntp.NTP_MAX_UNIX,
        2**32,
        1e300,
    ],
)
def test_out_of_range(bad: float) -> None:
    with pytest.raises(NtpError, match=r"1968-01-20 03:14:08 to 2104-02-26|cannot convert"):
        ntp.unix_to_ntp(bad)


def test_datetime_out_of_range() -> None:
    assert ntp.ntp_to_datetime(ntp.datetime_to_ntp(datetime.datetime(2037, 1, 1))) == (
        datetime.datetime(2037, 1, 1)
    )
    for bad in (
        datetime.datetime(2104, 2, 26, 9, 42, 24),
        datetime.datetime(1968, 1, 20, 3, 14, 7),
        datetime.datetime(1899, 12, 31),
    ):
        with pytest.raises(NtpError):
            ntp.datetime_to_ntp(bad)
    with pytest.raises(NtpError):
        ntp.datetime_to_ntp(5)  # type: ignore[arg-type]


# --- through the codec: bundles, TimeTag arguments, the dispatcher's view ------------------


def test_bundles_after_2036() -> None:
    from osc_live.osc_bundle import OscBundle
    from osc_live.osc_bundle_builder import IMMEDIATELY, OscBundleBuilder
    from osc_live.osc_message_builder import OscMessageBuilder
    from osc_live.osc_packet import OscPacket

    when = 2208988800.25  # 2040-01-01 00:00:00.25 UTC
    b = OscBundleBuilder(when)
    b.add_content(OscMessageBuilder("/later").build())
    bundle = b.build()
    assert bundle.timetag == ntp.unix_to_ntp(when) < 2**63  # era 1 on the wire
    parsed = OscBundle(bundle.dgram)
    assert parsed.timestamp == when and parsed.timetag == bundle.timetag
    assert [t.time for t in OscPacket(bundle.dgram).messages] == [when]  # future: its time
    now = OscBundleBuilder(IMMEDIATELY)
    now.add_content(OscMessageBuilder("/now").build())
    immediate = OscBundle(now.build().dgram)
    assert immediate.timetag == 1 and immediate.timestamp == IMMEDIATELY
    zero = OscBundle(b"#bundle\0" + bytes(8))  # timetag 0: long past, due now
    assert zero.timestamp == -DELTA


def test_timetag_arguments_after_2036() -> None:
    from osc_live.osc_message import OscMessage, encode_message
    from osc_live.parsing.osc_types import TimeTag

    later = datetime.datetime(2050, 6, 1, 12, 0, 0)
    tt = TimeTag.from_datetime(later)
    assert tt.utc == later and tt.fraction == 0 and not tt.immediately
    assert tt.ntp == ntp.datetime_to_ntp(later) < 2**63
    assert tt.unix == ntp.ntp_to_unix(tt.ntp)
    assert TimeTag.from_ntp(tt.ntp) == tt
    (got,) = OscMessage(encode_message("/t", [tt], "t")).params
    assert got == tt
    (got,) = OscMessage(encode_message("/t", [later], "t")).params
    assert got == tt
    assert TimeTag.from_ntp(1).immediately and TimeTag.from_ntp(1).ntp == 1
    assert TimeTag.from_ntp(1).utc == datetime.datetime(1900, 1, 1)
    assert TimeTag.from_ntp(0).ntp == 0 and not TimeTag.from_ntp(0).immediately
    assert TimeTag.from_ntp(2).utc == datetime.datetime(2036, 2, 7, 6, 28, 16)
    assert TimeTag.from_ntp(2).ntp == 2
    with pytest.raises(NtpError):
        _ = TimeTag(datetime.datetime(1950, 1, 1), 0).ntp  # no era holds it


def test_explain_shows_era_1_dates() -> None:
    from osc_live.commands.annotate import _timetag_meaning

    assert "2040-01-01 00:00:00.000 UTC" in _timetag_meaning(ntp.unix_to_ntp(2208988800))
    assert _timetag_meaning(1) == "1 = immediately"


def test_magic_timetag_arguments_wrap_and_stop_at_2104() -> None:
    from osc_live.magics import grammar as g

    cmd = g.parse_command("send /x t:+1e9")  # about 2057: era 1
    assert isinstance(cmd, g.Send)
    (value,) = cmd.message.args
    assert 2 <= value.ntp < 2**63 and ntp.ntp_to_unix(value.ntp) > PIVOT_UNIX
    with pytest.raises(g.GrammarError, match="outside the NTP timetag range"):
        g.parse_command("send /x t:+1e10")  # beyond 2104
