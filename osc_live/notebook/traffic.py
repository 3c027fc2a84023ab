"""Counters of the live session: every message received, sent or seen by the virtual synth.

One row per (direction, address, peer), kept in least-recently-updated order and capped at
``max_rows`` (``%config OscLive.traffic_rows``, default :data:`DEFAULT_MAX_ROWS`): when a new
row would exceed the cap the row updated longest ago is dropped (counted in ``evicted``), so
a peer sending a million distinct addresses costs bounded memory. The totals are exact
whatever was dropped. The most recent rows are the cheapest to read (:meth:`Traffic.recent`),
which is what the monitor shows.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["DEFAULT_MAX_ROWS", "Traffic", "TrafficRow"]

#: rows kept by default (a row is a few hundred bytes: ~5 MB at the cap)
DEFAULT_MAX_ROWS = 10_000

_DIRECTIONS = ("received", "sent", "synth", "errors", "packets")


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

    def copy(self) -> TrafficRow:
        """A detached copy (the table keeps updating its own)."""
        return TrafficRow(
            self.direction,
            self.address,
            self.peer,
            self.type_tags,
            self.args,
            self.count,
            self.first,
            self.last,
        )


class Traffic:
    """Counts of everything received, sent and seen by the synth (thread-safe, bounded)."""

    def __init__(self, max_rows: int = DEFAULT_MAX_ROWS) -> None:
        if max_rows < 1:
            raise ValueError("max_rows must be at least 1")
        self.max_rows = max_rows
        self.rows: OrderedDict[tuple[str, str, str], TrafficRow] = OrderedDict()
        self.totals: dict[str, int] = dict.fromkeys(_DIRECTIONS, 0)
        #: rows dropped to stay within ``max_rows``
        self.evicted = 0
        self.lock = threading.Lock()

    def __len__(self) -> int:
        return len(self.rows)

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
            rows = self.rows
            row = rows.get(key)
            if row is None:
                row = rows[key] = TrafficRow(direction, address, peer, first=now)
                if len(rows) > self.max_rows:
                    rows.popitem(last=False)
                    self.evicted += 1
            else:
                rows.move_to_end(key)
            row.type_tags = type_tags
            row.args = tuple(args)
            row.count += 1
            row.last = now
            self.totals[direction] += 1

    def add(self, name: str, count: int = 1) -> None:
        """Add to a total (``errors``, ``packets``)."""
        with self.lock:
            self.totals[name] = self.totals.get(name, 0) + count

    def totals_copy(self) -> dict[str, int]:
        """The totals, copied under the lock."""
        with self.lock:
            return dict(self.totals)

    def resize(self, max_rows: int) -> None:
        """Change the cap; drops the least recent rows beyond it."""
        if max_rows < 1:
            raise ValueError("max_rows must be at least 1")
        with self.lock:
            self.max_rows = max_rows
            while len(self.rows) > max_rows:
                self.rows.popitem(last=False)
                self.evicted += 1

    def recent(self, limit: int, accept: Callable[[str], bool] | None = None) -> list[TrafficRow]:
        """Copies of the ``limit`` most recently updated rows (whose address ``accept``s),
        newest first. Reads only as many rows as it needs when nothing is filtered."""
        out: list[TrafficRow] = []
        with self.lock:
            for row in reversed(self.rows.values()):
                if accept is None or accept(row.address):
                    out.append(row.copy())
                    if len(out) >= limit:
                        break
        return out

    def snapshot(self) -> list[TrafficRow]:
        """Copies of every row, least recent first (safe while messages keep arriving)."""
        with self.lock:
            return [row.copy() for row in self.rows.values()]

    def addresses(self) -> set[str]:
        """Every address of the rows kept."""
        with self.lock:
            return {key[1] for key in self.rows}

    def __iter__(self) -> Iterator[TrafficRow]:
        return iter(self.snapshot())

    def clear(self) -> None:
        """Forget every row and total."""
        with self.lock:
            self.rows.clear()
            self.evicted = 0
            for key in self.totals:
                self.totals[key] = 0
