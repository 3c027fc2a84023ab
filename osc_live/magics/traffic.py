"""Counters of the live session: every message received, sent or seen by the virtual synth.

Also :func:`pattern_regex`, the OSC address patterns of ``monitor`` / ``plot`` filters.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Traffic", "TrafficRow", "pattern_regex"]


# ------------------------------------------------------------------------------------------
# traffic counters


@dataclass
class TrafficRow:
    """One line of the monitor: a direction, an address and a peer, and what was seen."""

    direction: str
    address: str
    peer: str
    type_tags: str = ""
    args: tuple[Any, ...] = ()
    count: int = 0
    first: float = 0.0
    last: float = 0.0


@dataclass
class Traffic:
    """Counts of everything received, sent and seen by the synth (thread-safe)."""

    rows: dict[tuple[str, str, str], TrafficRow] = field(default_factory=dict)
    totals: dict[str, int] = field(
        default_factory=lambda: {"received": 0, "sent": 0, "synth": 0, "errors": 0, "packets": 0}
    )
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record(
        self,
        direction: str,
        address: str,
        peer: str,
        type_tags: str,
        args: Sequence[Any],
        now: float,
    ) -> None:
        """Count one message."""
        key = (direction, address, peer)
        with self.lock:
            row = self.rows.get(key)
            if row is None:
                row = self.rows[key] = TrafficRow(direction, address, peer, first=now)
            row.type_tags = type_tags
            row.args = tuple(args)
            row.count += 1
            row.last = now
            self.totals[direction] += 1

    def add(self, name: str, count: int = 1) -> None:
        """Add to a total (``errors``, ``packets``)."""
        with self.lock:
            self.totals[name] = self.totals.get(name, 0) + count

    def snapshot(self) -> list[TrafficRow]:
        """A copy of the rows (safe to read while messages keep arriving)."""
        with self.lock:
            return [
                TrafficRow(
                    r.direction, r.address, r.peer, r.type_tags, r.args, r.count, r.first, r.last
                )
                for r in self.rows.values()
            ]

    def addresses(self) -> set[str]:
        """Every address seen or sent."""
        with self.lock:
            return {key[1] for key in self.rows}

    def clear(self) -> None:
        """Forget every row and total."""
        with self.lock:
            self.rows.clear()
            for key in self.totals:
                self.totals[key] = 0


# ------------------------------------------------------------------------------------------
# OSC address patterns (monitor / plot filters)


def pattern_regex(pattern: str) -> re.Pattern[str]:
    """An OSC address pattern (``* ? [a-z] [!a] {a,b}``, ``//``) as a compiled regex."""
    out, i = [], 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "*":
            out.append("[^/]*")
        elif ch == "?":
            out.append("[^/]")
        elif ch == "[":
            end = pattern.find("]", i)
            if end < 0:
                out.append(re.escape(ch))
            else:
                body = pattern[i + 1 : end]
                neg = body.startswith("!")
                body = body[1:] if neg else body
                out.append("[" + ("^" if neg else "") + body.replace("\\", "\\\\") + "]")
                i = end
        elif ch == "{":
            end = pattern.find("}", i)
            if end < 0:
                out.append(re.escape(ch))
            else:
                alts = pattern[i + 1 : end].split(",")
                out.append("(?:" + "|".join(re.escape(a) for a in alts) + ")")
                i = end
        elif pattern.startswith("//", i):
            out.append("/(?:.*/)?")
            i += 1
        else:
            out.append(re.escape(ch))
        i += 1
    try:
        return re.compile("".join(out) + r"\Z")
    except re.error:
        return re.compile(re.escape(pattern) + r"\Z")
