"""NTP/OSC timetags: 64-bit fixed point, seconds since 1900-01-01 UTC, resolution 2**-32 s.

python-osc compatible names (``IMMEDIATELY`` as bytes, ``Timestamp``, ``parse_timestamp``,
``ntp_to_system_time``, ``system_time_to_ntp``, ...) plus exact integer conversions:
``unix_to_ntp``, ``ntp_to_unix``, ``datetime_to_ntp``, ``ntp_to_datetime``.

Conversions are exact: a float is converted through its exact binary value with integer
arithmetic and rounded to the nearest 2**-32 s; an NTP value is converted to the float nearest to
it. Naive datetimes are taken as UTC.

Eras (RFC 4330 section 3, RFC 5905 practice): the 32-bit seconds field wraps on 2036-02-07
06:28:16 UTC.  A value whose most significant bit is set is in era 0 (seconds since 1900:
1968-01-20 03:14:08 to 2036-02-07 06:28:15); one whose top bit is clear is in era 1 (seconds
since 2036-02-07 06:28:16, up to 2104-02-26 09:42:23).  Encoding a time of 2036-2104 wraps.
The values 0 and 1 are special and keep their era-0 reading (1900-01-01, long past): 1 is OSC's
"immediately" and 0 NTP's "unknown" (which some senders use for "now"), so both stay due at
once; the one instant of era 1 that would encode as 0 or 1 (2036-02-07 06:28:16, within
0.35 ns) is encoded as 2.
"""

from __future__ import annotations

import datetime
import struct
from typing import NamedTuple

from osc_live.errors import NtpError

__all__ = [
    "IMMEDIATELY",
    "IMMEDIATELY_NTP",
    "NTP_MAX",
    "NTP_MAX_UNIX",
    "NTP_MIN_UNIX",
    "NtpError",
    "Timestamp",
    "datetime_to_ntp",
    "ntp_time_to_system_epoch",
    "ntp_to_datetime",
    "ntp_to_system_time",
    "ntp_to_unix",
    "parse_timestamp",
    "system_time_to_ntp",
    "system_time_to_ntp_epoch",
    "unix_to_ntp",
    "unwrap",
]

IMMEDIATELY_NTP = 1
"""The timetag value meaning "now": 63 zero bits and a final one."""

IMMEDIATELY = b"\x00\x00\x00\x00\x00\x00\x00\x01"
"""``IMMEDIATELY_NTP`` as the 8 bytes on the wire (python-osc's ``ntp.IMMEDIATELY``)."""

NTP_MAX = (1 << 64) - 1
"""Largest 64-bit timetag value."""

_NTP_TIMESTAMP_TO_SECONDS = 1.0 / 2.0**32.0
_SECONDS_TO_NTP_TIMESTAMP = 2.0**32.0
_SYSTEM_EPOCH = datetime.date(1970, 1, 1)
_NTP_EPOCH = datetime.date(1900, 1, 1)
_NTP_DELTA = 2208988800
"""Seconds from 1900-01-01 to 1970-01-01."""

_NTP_DELTA_FIXED = _NTP_DELTA << 32
_ERA = 1 << 64
"""One NTP era (2**32 seconds) in 2**-32 s units."""
_PIVOT = 1 << 63
"""Values below this (apart from 0 and 1) are in era 1."""
_FIRST = _PIVOT
"""First encodable instant, era-0 based: 1968-01-20 03:14:08 UTC."""
_END = _ERA + _PIVOT
"""First instant beyond the encodable range, era-0 based: 2104-02-26 09:42:24 UTC."""
NTP_MIN_UNIX = (_FIRST - _NTP_DELTA_FIXED) >> 32
"""Earliest Unix time a timetag can hold (1968-01-20 03:14:08 UTC)."""
NTP_MAX_UNIX = (_END - _NTP_DELTA_FIXED) >> 32
"""Unix time at which the timetag range ends (2104-02-26 09:42:24 UTC, excluded)."""
_RANGE = "1968-01-20 03:14:08 to 2104-02-26 09:42:24 UTC"
_NTP_EPOCH_DT = datetime.datetime(1900, 1, 1)
_UTC = datetime.timezone.utc
_Q = struct.Struct(">Q")


class Timestamp(NamedTuple):
    """An NTP timetag split into whole seconds since 1900 and a 32-bit fraction."""

    seconds: int
    fraction: int


def parse_timestamp(timestamp: int) -> Timestamp:
    """Split a 64-bit NTP timetag into ``Timestamp(seconds, fraction)``."""
    return Timestamp(timestamp >> 32, timestamp & 0xFFFFFFFF)


def unwrap(ntp: int) -> int:
    """A 64-bit timetag to 2**-32 s units since 1900-01-01 (era 1 values get 2**64 added).

    0 and 1 stay as they are (see the module docstring).
    """
    if 1 < ntp < _PIVOT:
        return ntp + _ERA
    return ntp


def _wrap(full: int, what: object) -> int:
    """2**-32 s units since 1900 to a 64-bit timetag (era 0 or 1); NtpError when out of range."""
    if not _FIRST <= full < _END:
        raise NtpError(f"time {what!r} is outside the NTP timetag range ({_RANGE})")
    if full < _ERA:
        return full
    full -= _ERA
    return full if full > 1 else 2  # 0 and 1 are special: take the next instant


def unix_to_ntp(seconds: float) -> int:
    """Unix time in seconds (int or float) to a 64-bit NTP timetag, rounded to nearest.

    Times from 2036-02-07 06:28:16 UTC wrap into NTP era 1.  Raises NtpError for NaN,
    infinities and times outside 1968-01-20 03:14:08 .. 2104-02-26 09:42:24 UTC.
    """
    if isinstance(seconds, int):
        ntp = (seconds << 32) + _NTP_DELTA_FIXED
    else:
        try:
            num, den = float(seconds).as_integer_ratio()
        except (OverflowError, ValueError, TypeError) as exc:
            raise NtpError(f"cannot convert {seconds!r} to an NTP timetag: {exc}") from None
        # den is a power of two: round half up with integer arithmetic, exactly.
        ntp = ((num << 33) + den) // (den << 1) + _NTP_DELTA_FIXED
    if _FIRST <= ntp < _ERA:  # era 0: the common case
        return ntp
    return _wrap(ntp, seconds)


def ntp_to_unix(ntp: int) -> float:
    """A 64-bit NTP timetag to Unix time in seconds (the float nearest to the exact value).

    Values with the top bit clear are in era 1 (2036-2104), except 0 and 1 (1900-01-01).
    """
    if 1 < ntp < _PIVOT:
        ntp += _ERA
    return (ntp - _NTP_DELTA_FIXED) / 4294967296


def datetime_to_ntp(dt: datetime.datetime) -> int:
    """A datetime (naive means UTC) to a 64-bit NTP timetag, rounded to nearest.

    Dates from 2036-02-07 06:28:16 UTC wrap into NTP era 1.  Raises NtpError for dates outside
    1968-01-20 03:14:08 .. 2104-02-26 09:42:24 UTC.
    """
    if not isinstance(dt, datetime.datetime):
        raise NtpError(f"expected a datetime, got {type(dt).__name__}")
    if dt.tzinfo is not None and dt.utcoffset() is not None:
        dt = dt.astimezone(_UTC).replace(tzinfo=None)
    delta = dt.replace(tzinfo=None) - _NTP_EPOCH_DT
    micros = (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds
    ntp = ((micros << 33) + 1_000_000) // 2_000_000
    return _wrap(ntp, dt)


def ntp_to_datetime(ntp: int, tz: datetime.tzinfo | None = None) -> datetime.datetime:
    """A 64-bit NTP timetag to a datetime, rounded to the nearest microsecond.

    Naive (UTC) by default; aware in ``tz`` when given.  Eras as :func:`ntp_to_unix`.
    """
    if 1 < ntp < _PIVOT:
        ntp += _ERA
    micros = ((ntp * 2_000_000) + (1 << 32)) >> 33
    dt = _NTP_EPOCH_DT + datetime.timedelta(microseconds=micros)
    if tz is not None:
        return dt.replace(tzinfo=_UTC).astimezone(tz)
    return dt


def ntp_to_system_time(timestamp: bytes) -> float:
    """8 timetag bytes to Unix time in seconds (python-osc name)."""
    try:
        (ntp,) = _Q.unpack(timestamp)
    except (struct.error, TypeError) as exc:
        raise NtpError(f"a timetag is 8 bytes: {exc}") from None
    return ntp_to_unix(ntp)


def system_time_to_ntp(seconds: float) -> bytes:
    """Unix time in seconds to the 8 timetag bytes (python-osc name)."""
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
        try:
            seconds = float(seconds)
        except (TypeError, ValueError) as exc:
            raise NtpError(f"cannot convert {seconds!r} to an NTP timetag: {exc}") from None
    return _Q.pack(unix_to_ntp(seconds))


def ntp_time_to_system_epoch(seconds: float) -> float:
    """Seconds since 1900 to seconds since 1970 (python-osc name)."""
    return seconds - _NTP_DELTA


def system_time_to_ntp_epoch(seconds: float) -> float:
    """Seconds since 1970 to seconds since 1900 (python-osc name)."""
    return seconds + _NTP_DELTA
