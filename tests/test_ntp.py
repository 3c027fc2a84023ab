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
ERA0_UNIX = st.floats(min_value=-DELTA, max_value=2**32 - DELTA - 1, allow_nan=False)


def exact(ntp_value: int) -> Fraction:
    return Fraction(ntp_value, 2**32) - DELTA


def test_constants() -> None:
    assert ntp.IMMEDIATELY == p_ntp.IMMEDIATELY == b"\0" * 7 + b"\x01"
    assert ntp.IMMEDIATELY_NTP == 1
    assert ntp._NTP_DELTA == p_ntp._NTP_DELTA == DELTA


def test_known_values() -> None:
    assert ntp.unix_to_ntp(0) == DELTA << 32
    assert ntp.unix_to_ntp(0.5) == (DELTA << 32) + (1 << 31)
    assert ntp.unix_to_ntp(-DELTA) == 0
    assert ntp.ntp_to_unix(DELTA << 32) == 0.0
    assert ntp.ntp_to_unix(1) == -DELTA + 2**-32
    assert ntp.datetime_to_ntp(datetime.datetime(1970, 1, 1)) == DELTA << 32
    assert ntp.datetime_to_ntp(datetime.datetime(1900, 1, 1)) == 0
    assert ntp.ntp_to_datetime(DELTA << 32) == datetime.datetime(1970, 1, 1)
    assert ntp.parse_timestamp((5 << 32) | 7) == ntp.Timestamp(5, 7)


@given(ERA0_UNIX)
def test_unix_to_ntp_is_nearest(seconds: float) -> None:
    value = ntp.unix_to_ntp(seconds)
    assert abs(exact(value) - Fraction(seconds)) <= Fraction(1, 2**33)


@given(st.integers(min_value=0, max_value=2**64 - 1))
def test_ntp_to_unix_is_nearest_float(value: int) -> None:
    result = ntp.ntp_to_unix(value)
    assert Fraction(result) == Fraction(float(exact(value)))


@given(ERA0_UNIX)
def test_unix_round_trip_when_float_is_coarser(seconds: float) -> None:
    # Beyond 2**20 s a float's step is >= 2**-32 s, so the round trip is exact.
    if abs(seconds) >= 2**21:
        assert ntp.ntp_to_unix(ntp.unix_to_ntp(seconds)) == seconds


@given(st.integers(min_value=0, max_value=2**64 - 2**13))
def test_ntp_round_trip_through_datetime_is_within_half_a_microsecond(value: int) -> None:
    dt = ntp.ntp_to_datetime(value)
    back = ntp.datetime_to_ntp(dt)
    assert abs(back - value) <= 2**32 // 2_000_000 + 1


@given(
    st.datetimes(min_value=datetime.datetime(1900, 1, 1), max_value=datetime.datetime(2036, 2, 7))
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


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -DELTA - 1, 2**32, 1e300])
def test_out_of_range(bad: float) -> None:
    with pytest.raises(NtpError):
        ntp.unix_to_ntp(bad)


def test_datetime_out_of_range() -> None:
    with pytest.raises(NtpError):
        ntp.datetime_to_ntp(datetime.datetime(2037, 1, 1))
    with pytest.raises(NtpError):
        ntp.datetime_to_ntp(datetime.datetime(1899, 12, 31))
    with pytest.raises(NtpError):
        ntp.datetime_to_ntp(5)  # type: ignore[arg-type]
