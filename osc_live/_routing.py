"""The dispatcher's address table: mapped addresses → handlers, and a bounded lookup cache.

- An incoming address without wildcards is one dict lookup, whatever the number of mappings.
- Incoming patterns (``* ? [..] {..} //``) are compiled by :mod:`osc_live._pattern` (bounded
  length and complexity, LRU-cached) *outside* the table's lock, then matched against a
  snapshot of the mapped addresses, also outside the lock: a costly pattern from the network
  never holds up ``map``/``unmap`` or the other dispatching threads.
- Mapped addresses holding ``*`` match incoming addresses as in python-osc
  (:func:`osc_live._pattern.compile_mapped`).
- Results are cached (at most :data:`LOOKUP_CACHE_SIZE` addresses, oldest first out) until the
  next change of the table; a lookup computed across a change is not cached.
"""

from __future__ import annotations

import collections
import re
import threading
from typing import Any

from osc_live import _pattern

__all__ = ["LOOKUP_CACHE_SIZE", "MISS", "Routes"]

LOOKUP_CACHE_SIZE = 4096
"""Distinct incoming addresses whose matching handlers are remembered."""

MISS: Any = object()
"""Returned by ``cache.get(address, MISS)`` for an address not looked up yet."""


class Routes:
    """Mapped addresses and their handlers (python-osc order), thread-safe.

    ``cache`` is a plain dict (address → tuple of handlers, or None for no match) that the
    dispatcher reads without a lock on its hot path; it is cleared, never replaced.
    """

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.handlers: collections.defaultdict[str, list[Any]] = collections.defaultdict(list)
        self.exact: dict[str, tuple[Any, ...]] = {}  # non-empty mappings
        self.wild: dict[str, re.Pattern[str]] = {}  # mapped addresses holding '*'
        self.cache: dict[str, tuple[Any, ...] | None] = {}
        self._order: dict[str, int] = {}  # address -> first-mapped rank (python-osc order)
        self._generation = 0
        # Copies of exact/wild for matching outside the lock, made once per change.
        self._snapshot: tuple[dict[str, tuple[Any, ...]], list[tuple[str, Any]]] | None = None

    def __len__(self) -> int:
        """Number of mapped addresses (with at least one handler)."""
        return len(self.exact)

    def changed(self, address: str) -> None:
        """Rebuild the lookup tables of ``address`` after its handler list changed (lock held)."""
        self._order.setdefault(address, len(self._order))
        handlers = self.handlers.get(address)
        if handlers:
            self.exact[address] = tuple(handlers)
            if "*" in address:
                self.wild[address] = _pattern.compile_mapped(address)
        else:
            self.exact.pop(address, None)
            self.wild.pop(address, None)
        self.invalidate()

    def invalidate(self) -> None:
        """Forget cached lookups (lock held)."""
        self._generation += 1
        self._snapshot = None
        self.cache.clear()

    def resolve(self, address: str) -> tuple[Any, ...] | None:
        """Handlers of the mappings matching ``address`` in mapping order; None if none."""
        found = self.cache.get(address, MISS)
        if found is not MISS:
            return found  # type: ignore[no-any-return]
        if not self.wild and not _pattern.is_pattern(address):
            return self.exact.get(address)
        return self.resolve_slow(address)

    def resolve_slow(self, address: str) -> tuple[Any, ...] | None:
        """Match a pattern, or an address against wildcard mappings, and cache the result."""
        rx = _pattern.compile_pattern(address) if _pattern.is_pattern(address) else None
        with self.lock:
            generation = self._generation
            snapshot = self._snapshot
            if snapshot is None:
                snapshot = self._snapshot = (dict(self.exact), list(self.wild.items()))
            exact, wild = snapshot
            order = self._order
        if rx is not None:
            wild_of = dict(wild)
            prefix = _pattern.literal_prefix(address)
            names = [
                name
                for name in exact
                if (name.startswith(prefix) and rx.fullmatch(name))
                or (name in wild_of and wild_of[name].fullmatch(address))
            ]
        elif _pattern.is_pattern(address):  # malformed or over the limits: only '*' mappings
            names = [name for name, wrx in wild if wrx.fullmatch(address)]
        else:
            names = [address] if address in exact else []
            names += [name for name, wrx in wild if name != address and wrx.fullmatch(address)]
        if len(names) > 1:
            names.sort(key=order.__getitem__)
        result = tuple(h for name in names for h in exact[name]) or None
        with self.lock:
            if generation == self._generation:
                cache = self.cache
                if len(cache) >= LOOKUP_CACHE_SIZE:
                    del cache[next(iter(cache))]
                cache[address] = result
        return result
