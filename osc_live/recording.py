"""Recordings of OSC traffic: a line-oriented file of packets with their times.

The format (version 1), one JSON object per line, UTF-8, ``\\n`` line ends::

    {"format": "osc-live-recording", "version": 1, "clock": "monotonic_ns", "wall_ns": 1765...,
     "created": "2026-12-01T10:00:00.000000Z", "source": "udp://127.0.0.1:9000"}
    {"t": 0, "dir": "in", "peer": "udp:127.0.0.1:57120", "addr": "/n_go", "data": "L25fZ28A..."}
    {"t": 1250000, "dir": "out", "peer": "udp:127.0.0.1:57110", "addr": "/s_new", "data": "..."}
    {"end": true, "t": 9000000000, "packets": 2, "dropped": 0}

- line 1, the header: ``wall_ns`` is the Unix time (ns) of ``t = 0``, so a record's wall time is
  ``wall_ns + t`` (replay uses it to shift bundle timetags); ``source`` is free text;
- each record: ``t`` nanoseconds since the start on the monotonic clock (never goes back, not
  moved by NTP or DST), ``dir`` ``"in"`` (received) or ``"out"`` (sent), ``peer`` who sent it
  (or to whom), ``addr`` the address of the message -- the first message's for a bundle,
  prefixed with ``#`` -- for grep and jq, and ``data`` the raw packet, standard base64;
- the last line, written when recording stops: ``t`` of the stop, the number of packets
  written and of those dropped (the disk could not keep up).  A file without it (the recorder
  was killed) still reads, up to its last complete line.

Why JSON Lines: every language reads it with its standard library (``jq -c 'select(.addr ==
"/x")'``, ``pandas.read_json(path, lines=True)``, ``grep /fader``); one line per packet makes the
file appendable while recording, readable while it grows (``tail -f``), and a damaged line is
found by number; the raw bytes keep every packet exactly (types, padding, bundles), which a
decoded form would not.  pcap needs Wireshark-style tools and fakes IP headers for WebSocket
or TCP traffic; a binary format would need our code to read.

Memory is bounded while recording: each packet is written at once through a 64 KiB buffer
(flushed every ``flush_interval`` seconds and at the stop), nothing is kept.  Reading is
streamed too (:func:`read_records`), so hours-long recordings replay in constant memory.
A truncated or damaged file raises :class:`RecordingError` naming the file and the line.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import json
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from osc_live._pattern import compile_pattern
from osc_live.errors import OscError, ParseError
from osc_live.osc_bundle import OscBundle
from osc_live.osc_message import OscMessage
from osc_live.osc_packet import parse_packet

__all__ = [
    "FORMAT",
    "VERSION",
    "Record",
    "Recorder",
    "RecordingError",
    "RecordingInfo",
    "packet_address",
    "packet_matches",
    "read_records",
    "scan",
]

FORMAT = "osc-live-recording"
VERSION = 1
DIRECTIONS = ("in", "out")
MAX_LINE = 4 * 1024 * 1024
"""Longest line read (a 3 MiB packet in base64): longer ones are an error, not a memory hog."""


class RecordingError(ParseError):
    """A recording file that cannot be read: ``path`` and ``line`` (1-based) say where."""

    def __init__(self, path: str | os.PathLike[str], line: int, message: str) -> None:
        super().__init__(f"{os.fspath(path)}, line {line}: {message}")
        self.path = os.fspath(path)
        self.line = line


@dataclass(frozen=True)
class Record:
    """One recorded packet: ``t`` ns since the start, direction, peer, raw bytes, line."""

    t: int
    direction: str
    peer: str
    data: bytes
    line: int = 0


@dataclass
class RecordingInfo:
    """What :func:`scan` learnt about a file: header, counts, time span (ns)."""

    header: dict[str, Any]
    packets: int = 0
    first_t: int | None = None
    last_t: int = 0
    end_t: int | None = None
    complete: bool = False

    @property
    def wall_ns(self) -> int:
        """Unix time (ns) of ``t = 0``."""
        return int(self.header.get("wall_ns", 0))

    @property
    def duration_ns(self) -> int:
        """From the first packet to the stop (or the last packet if the file has no end)."""
        if self.first_t is None:
            return 0
        end = self.end_t if self.end_t is not None else self.last_t
        return max(0, end - self.first_t)


def _messages(packet: OscMessage | OscBundle) -> Iterator[OscMessage]:
    if isinstance(packet, OscMessage):
        yield packet
        return
    for content in packet:
        yield from _messages(content)


def packet_address(packet: OscMessage | OscBundle) -> str:
    """The ``addr`` of a record: the message's address, ``#`` + the first one for a bundle."""
    if isinstance(packet, OscMessage):
        return packet.address
    first = next(_messages(packet), None)
    return "#" + (first.address if first is not None else "")


def packet_matches(packet: OscMessage | OscBundle, pattern: str | None) -> bool:
    """True when ``pattern`` is None or matches an address in ``packet``."""
    if pattern is None:
        return True
    matcher = compile_pattern(pattern)
    if matcher is None:
        return False
    return any(matcher.fullmatch(m.address) for m in _messages(packet))


class Recorder:
    """Writes packets to a recording file as they come (thread-safe; bounded memory).

    ``record(data, peer, direction)`` is called by whatever receives or sends (the notebook
    session, the CLI, the bridge).  ``pattern`` keeps only packets with a matching address;
    ``directions`` which directions are kept (``("in",)`` by default: received only).
    ``close()`` writes the end line.  ``packets``, ``dropped``, ``filtered`` and ``bytes``
    count what happened.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        pattern: str | None = None,
        directions: tuple[str, ...] = ("in",),
        source: str = "",
        flush_interval: float = 1.0,
        overwrite: bool = True,
    ) -> None:
        """Create (or truncate) the file and write the header."""
        for d in directions:
            if d not in DIRECTIONS:
                raise ValueError(f"direction must be 'in' or 'out', not {d!r}")
        if pattern is not None and compile_pattern(pattern) is None:
            raise ValueError(f"malformed OSC address pattern {pattern!r}")
        self.path = Path(path)
        self.pattern = pattern
        self.directions = tuple(directions)
        self.flush_interval = flush_interval
        self.packets = 0
        self.filtered = 0
        self.dropped = 0
        self.bytes = 0
        self._lock = threading.Lock()
        self._t0 = time.monotonic_ns()
        wall = time.time_ns()
        self._file: BinaryIO | None = open(  # noqa: SIM115 - closed by close()
            self.path, "wb" if overwrite else "xb", buffering=64 * 1024
        )
        self._next_flush = self._t0 + int(flush_interval * 1e9)
        created = datetime.datetime.fromtimestamp(wall / 1e9, datetime.timezone.utc)
        header = {
            "format": FORMAT,
            "version": VERSION,
            "clock": "monotonic_ns",
            "wall_ns": wall,
            "created": created.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "source": source,
        }
        self._write_line(header)
        self._file.flush()  # the header is on disk even if the process dies before a packet

    @property
    def closed(self) -> bool:
        """True once :meth:`close` has run."""
        return self._file is None

    def elapsed_ns(self) -> int:
        """Nanoseconds since the recording started."""
        return time.monotonic_ns() - self._t0

    def _write_line(self, obj: dict[str, Any]) -> None:
        assert self._file is not None
        line = json.dumps(obj, separators=(",", ":")).encode() + b"\n"
        self._file.write(line)
        self.bytes += len(line)

    def record(self, data: bytes, peer: str = "", direction: str = "in") -> bool:
        """Write one packet (if kept by direction and pattern); True if written.

        ``data`` is the raw packet; one that does not parse is not written (a recording holds
        OSC only) and counts in ``filtered``.
        """
        if direction not in self.directions or self._file is None:
            return False
        try:
            packet = parse_packet(bytes(data))
        except OscError:
            self.filtered += 1
            return False
        if not packet_matches(packet, self.pattern):
            self.filtered += 1
            return False
        record = {
            "t": 0,
            "dir": direction,
            "peer": peer,
            "addr": packet_address(packet),
            "data": base64.b64encode(data).decode("ascii"),
        }
        with self._lock:
            if self._file is None:
                return False
            now = time.monotonic_ns()
            record["t"] = now - self._t0  # taken under the lock: times never go back in the file
            try:
                self._write_line(record)
                if now >= self._next_flush:
                    self._file.flush()
                    self._next_flush = now + int(self.flush_interval * 1e9)
            except OSError:
                self.dropped += 1
                return False
            self.packets += 1
        return True

    def close(self) -> None:
        """Write the end line and close the file (idempotent)."""
        with self._lock:
            f = self._file
            if f is None:
                return
            try:
                end = {
                    "end": True,
                    "t": time.monotonic_ns() - self._t0,
                    "packets": self.packets,
                    "dropped": self.dropped,
                }
                self._write_line(end)
            finally:
                self._file = None
                f.close()

    def __enter__(self) -> Recorder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self.closed else "recording"
        return f"<Recorder {self.path} {state}: {self.packets} packets>"


# ------------------------------------------------------------------------------------ reading
def _lines(path: str | os.PathLike[str]) -> Iterator[tuple[int, bytes]]:
    """(line number, line without its newline); a last line without newline is truncation."""
    with open(path, "rb") as f:
        number = 0
        while True:
            raw = f.readline(MAX_LINE + 1)
            if not raw:
                return
            number += 1
            if len(raw) > MAX_LINE:
                raise RecordingError(path, number, f"line longer than {MAX_LINE} bytes")
            if not raw.endswith(b"\n"):
                raise RecordingError(
                    path, number, "truncated: the file ends in the middle of a record"
                )
            yield number, raw[:-1]


def _object(path: str | os.PathLike[str], number: int, raw: bytes) -> dict[str, Any]:
    try:
        obj = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise RecordingError(path, number, f"not a JSON object ({exc})") from None
    if not isinstance(obj, dict):
        raise RecordingError(path, number, "not a JSON object")
    return obj


def _header(path: str | os.PathLike[str], lines: Iterator[tuple[int, bytes]]) -> dict[str, Any]:
    first = next(lines, None)
    if first is None:
        raise RecordingError(path, 1, "empty file: not an osc_live recording")
    number, raw = first
    header = _object(path, number, raw)
    if header.get("format") != FORMAT:
        raise RecordingError(path, number, f'not an osc_live recording (no "format": "{FORMAT}")')
    if header.get("version") != VERSION:
        raise RecordingError(
            path,
            number,
            f"recording format version {header.get('version')!r} (this reads {VERSION})",
        )
    wall = header.get("wall_ns")
    if not isinstance(wall, int) or isinstance(wall, bool):
        raise RecordingError(path, number, "header without an integer wall_ns")
    return header


def _record(path: str | os.PathLike[str], number: int, obj: dict[str, Any], last_t: int) -> Record:
    t = obj.get("t")
    if not isinstance(t, int) or isinstance(t, bool) or t < 0:
        raise RecordingError(path, number, f"bad time t={t!r} (nanoseconds, an integer >= 0)")
    if t < last_t:
        raise RecordingError(path, number, f"time goes back ({t} after {last_t})")
    direction = obj.get("dir")
    if direction not in DIRECTIONS:
        raise RecordingError(path, number, f"bad direction {direction!r} ('in' or 'out')")
    encoded = obj.get("data")
    if not isinstance(encoded, str):
        raise RecordingError(path, number, "no packet data")
    try:
        data = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise RecordingError(path, number, f"packet data is not base64 ({exc})") from None
    try:
        parse_packet(data)
    except OscError as exc:
        raise RecordingError(path, number, f"packet is not valid OSC ({exc})") from None
    peer = obj.get("peer", "")
    return Record(t, direction, peer if isinstance(peer, str) else str(peer), data, number)


def read_records(
    path: str | os.PathLike[str], info: RecordingInfo | None = None
) -> Iterator[Record]:
    """Stream the records of a file, checking each line (RecordingError names a bad one).

    ``info``, if given, is filled in as the file is read (header, counts, times, end line).
    """
    lines = _lines(path)
    header = _header(path, lines)
    if info is not None:
        info.header = header
    last_t = 0
    ended = False
    count = 0
    for number, raw in lines:
        if not raw.strip():
            continue
        if ended:
            raise RecordingError(path, number, "data after the end line")
        obj = _object(path, number, raw)
        if obj.get("end") is True:
            ended = True
            packets = obj.get("packets")
            if packets != count:
                raise RecordingError(
                    path, number, f"end line counts {packets!r} packets, the file holds {count}"
                )
            if info is not None:
                end_t = obj.get("t")
                info.end_t = end_t if isinstance(end_t, int) and end_t >= last_t else last_t
                info.complete = True
            continue
        record = _record(path, number, obj, last_t)
        last_t = record.t
        count += 1
        if info is not None:
            info.packets = count
            info.last_t = last_t
            if info.first_t is None:
                info.first_t = last_t
        yield record


def scan(path: str | os.PathLike[str]) -> RecordingInfo:
    """Read and check a whole file (streamed, constant memory); its :class:`RecordingInfo`."""
    info = RecordingInfo(header={})
    for _ in read_records(path, info):
        pass
    return info
