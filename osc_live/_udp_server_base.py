"""What the UDP servers share: counters, checks of datagrams, the bounded queue and worker pool.

- :class:`ServerStats` -- the UDP servers' counters (``server.stats``);
- :func:`looks_like_osc`, :func:`drop` (count and log a malformed datagram),
  :func:`check_parsed` (did the dispatcher find this datagram malformed?);
- :class:`PendingQueue` -- datagrams waiting for a handler, bounded in count and bytes, with a
  share per sender host so that one flooding host cannot take the whole queue (sans-I/O);
- :class:`WorkerPool` -- a bounded pool of threads handling queued datagrams: a slow handler
  occupies one worker, the others go on (what ``ThreadingOSCUDPServer`` uses instead of a thread
  per datagram);
- :func:`infer_family`, :func:`loopback_default`, :func:`format_peer`.
"""

from __future__ import annotations

import logging
import socket
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from osc_live._limits import PeerLog
from osc_live._net import DEFAULT_BIND_HOST, format_address
from osc_live.dispatcher import Dispatcher
from osc_live.errors import OscError
from osc_live.osc_packet import OscPacket
from osc_live.udp_client import resolve_udp

__all__ = [
    "DEFAULT_MAX_PENDING",
    "DEFAULT_MAX_PENDING_BYTES",
    "DEFAULT_MAX_WORKERS",
    "Address",
    "PendingQueue",
    "ServerStats",
    "WorkerPool",
    "check_parsed",
    "drop",
    "format_peer",
    "infer_family",
    "logger",
    "looks_like_osc",
    "loopback_default",
    "overflow",
    "parse_errors",
]

logger = logging.getLogger("osc_live.osc_server")

DEFAULT_MAX_PENDING = 4096
"""Datagrams that may wait for a handler (threading and asyncio servers)."""
DEFAULT_MAX_PENDING_BYTES = 8 << 20
"""Bytes of datagrams that may wait for a handler (8 MiB)."""
DEFAULT_MAX_WORKERS = 16
"""Threads of ``ThreadingOSCUDPServer``'s pool: handlers that may run at once."""

_WARN_FIRST = 20
"""After this many warnings about malformed datagrams, only every 1000th is logged."""

Address = tuple[Any, ...]


@dataclass
class ServerStats:
    """Counters of a UDP server (thread-safe increments).

    Attributes:
        packets: datagrams handed to the dispatcher.
        dropped: datagrams dropped because they are not valid OSC.
        overflow: datagrams dropped because ``max_pending`` datagrams (or
            ``max_pending_bytes``, or the sender host's share of them) already waited for a
            handler.
        handler_errors: exceptions raised by handlers (logged, the server keeps serving).
        replies: reply datagrams sent back to senders.
    """

    packets: int = 0
    dropped: int = 0
    overflow: int = 0
    handler_errors: int = 0
    replies: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def count_packet(self) -> None:
        with self._lock:
            self.packets += 1

    def add(self, name: str, count: int = 1) -> int:
        with self._lock:
            value = int(getattr(self, name)) + count
            setattr(self, name, value)
            return value


def looks_like_osc(data: bytes) -> bool:
    """Cheap first check of a datagram: an OSC message starts with ``/``, a bundle ``#bundle``."""
    return data[:1] == b"/" or data[:8] == b"#bundle\0"


def loopback_default(server_address: tuple[str | None, int]) -> tuple[str, int]:
    """``(None, port)`` binds loopback (``127.0.0.1``), never every interface."""
    host, port = server_address[0], server_address[1]
    return (DEFAULT_BIND_HOST if host is None else host, port)


def infer_family(host: str, port: int, family: socket.AddressFamily | None) -> socket.AddressFamily:
    """The address family to bind ``host`` with: given, or IPv4 unless ``host`` is IPv6-only."""
    if family is not None:
        return family
    if not host:
        return socket.AF_INET
    try:
        return resolve_udp(host, port)[0]
    except OSError:
        return socket.AF_INET  # let bind() report the problem with the address


def format_peer(address: Address) -> str:
    """``host:port`` of a sender address."""
    if isinstance(address, tuple) and len(address) >= 2:
        return format_address(address[0], address[1])
    return str(address)


def drop(stats: ServerStats, data: bytes, client_address: Address, why: object) -> None:
    """Count a malformed datagram; warn about the first ones, then every 1000th."""
    dropped = stats.add("dropped")
    if dropped <= _WARN_FIRST or dropped % 1000 == 0:
        logger.warning(
            "dropped a malformed datagram (%d bytes) from %s: %s [%d dropped so far]",
            len(data),
            format_peer(client_address),
            why,
            dropped,
        )


def parse_errors(dispatcher: Dispatcher) -> int:
    """The dispatcher's count of malformed packets (0 if it keeps none)."""
    try:
        return dispatcher.stats.parse_errors
    except AttributeError:
        return 0


def _malformed(data: bytes) -> OscError | None:
    """Why ``data`` is not a valid OSC packet, or None if it is one."""
    try:
        OscPacket(data)
    except OscError as exc:
        return exc
    return None


def check_parsed(
    stats: ServerStats, dispatcher: Dispatcher, before: int, data: bytes, address: Address
) -> None:
    """After a dispatch: if the dispatcher counted a malformed packet meanwhile, find out
    whether it was this datagram (another thread may have dispatched concurrently) and, if so,
    drop-count it. Valid datagrams pay nothing extra."""
    if parse_errors(dispatcher) != before:
        error = _malformed(data)
        if error is not None:
            drop(stats, data, address, error)


class PendingQueue:
    """FIFO of datagrams waiting for a handler, bounded three ways (not thread-safe).

    At most ``max_pending`` items and ``max_bytes`` bytes, and at most ``max_per_host`` items
    from one sender host (a quarter of ``max_pending`` by default): a host flooding the server
    fills its share, not the queue.  :meth:`put` returns False for an item that does not fit.
    """

    def __init__(self, max_pending: int, max_bytes: int, max_per_host: int | None = None) -> None:
        """Bound the queue; ``max_per_host`` defaults to ``max(1, max_pending // 4)``."""
        for name, value in (("max_pending", max_pending), ("max_pending_bytes", max_bytes)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an int >= 1, not {value!r}")
        self.max_pending = max_pending
        self.max_bytes = max_bytes
        self.max_per_host = max_per_host or max(1, max_pending // 4)
        self._items: deque[tuple[Any, str, int]] = deque()
        self._per_host: dict[str, int] = {}
        self.bytes = 0

    def __len__(self) -> int:
        """Items waiting."""
        return len(self._items)

    def put(self, item: Any, host: str, size: int) -> bool:
        """Append ``item`` (``size`` bytes, from ``host``) unless a bound would be exceeded."""
        count = self._per_host.get(host, 0)
        if (
            len(self._items) >= self.max_pending
            or self.bytes + size > self.max_bytes
            or count >= self.max_per_host
        ):
            return False
        self._items.append((item, host, size))
        self._per_host[host] = count + 1
        self.bytes += size
        return True

    def get(self) -> Any:
        """Remove and return the oldest item (the queue must not be empty)."""
        item, host, size = self._items.popleft()
        self.bytes -= size
        count = self._per_host[host] - 1
        if count:
            self._per_host[host] = count
        else:
            del self._per_host[host]
        return item

    def clear(self) -> int:
        """Drop every item; return how many there were."""
        n = len(self._items)
        self._items.clear()
        self._per_host.clear()
        self.bytes = 0
        return n


SPILL = 0.002
"""Seconds queued datagrams may wait behind busy handlers before another worker helps."""


class WorkerPool:
    """Up to ``max_workers`` threads handling queued items; more start only when needed.

    One worker drains the queue while its handlers are quick (one thread, no hand-offs: fast
    handlers run back to back).  While a handler runs and items wait, one idle worker watches:
    if nobody has taken an item for :data:`SPILL` seconds (the running handlers are slow or
    blocked), it takes the next one -- so a slow handler never holds up the others for more
    than a couple of milliseconds, and the pool grows, up to ``max_workers``, only as handlers
    block.  :meth:`submit` / :meth:`submit_many` queue (False / the refused entries when the
    queue is full: the caller counts the drops); :meth:`close` drops what still waits, lets
    running handlers finish and joins every worker.
    """

    def __init__(
        self,
        handle: Callable[[Any], None],
        queue: PendingQueue,
        max_workers: int = DEFAULT_MAX_WORKERS,
        name: str = "osc_live-udp-worker",
    ) -> None:
        """Handle items with ``handle`` (it must not raise) in at most ``max_workers`` threads."""
        if isinstance(max_workers, bool) or not isinstance(max_workers, int) or max_workers < 1:
            raise ValueError(f"max_workers must be an int >= 1, not {max_workers!r}")
        self._handle = handle
        self.queue = queue
        self.max_workers = max_workers
        self._name = name
        self._cond = threading.Condition(threading.Lock())
        self._threads: list[threading.Thread] = []
        self._idle = 0  # workers waiting for work
        self._active = 0  # workers running a handler
        self._progress = 0  # items taken so far (a watcher sees whether the queue moves)
        self._watcher = False  # an idle worker watches the queue while handlers run
        self._closing = False

    @property
    def workers(self) -> int:
        """Worker threads started (they stay until :meth:`close`)."""
        return len(self._threads)

    def submit(self, item: Any, host: str, size: int) -> bool:
        """Queue one item; False if it does not fit (or the pool is closed)."""
        with self._cond:
            if self._closing or not self.queue.put(item, host, size):
                return False
            self._wake_locked()
        return True

    def submit_many(self, items: list[tuple[Any, str, int]]) -> list[tuple[Any, str, int]]:
        """Queue several ``(item, host, size)``; return those that did not fit."""
        refused: list[tuple[Any, str, int]] = []
        with self._cond:
            put = self.queue.put
            for entry in items:
                if self._closing or not put(*entry):
                    refused.append(entry)
            if len(refused) < len(items):
                self._wake_locked()
        return refused

    def _wake_locked(self) -> None:
        """Items were queued: get a worker to take them, or one to watch the busy ones."""
        if self._active and self._watcher:
            return  # a worker drains, another watches: nothing to do
        if self._idle:
            self._cond.notify()
        elif len(self._threads) < self.max_workers:
            thread = threading.Thread(
                target=self._work, name=f"{self._name}-{len(self._threads) + 1}", daemon=True
            )
            self._threads.append(thread)
            thread.start()

    def _next_locked(self, drained: bool) -> Any:
        """Wait for an item this worker should take (None: closing); the lock is held."""
        queue = self.queue
        cond = self._cond
        if drained and queue:
            return queue.get()  # it just finished one: it goes on draining
        watching = False
        seen = -1
        while True:
            if self._closing:
                if watching:
                    self._watcher = False
                return None
            if queue and (self._active == 0 or (watching and self._progress == seen)):
                break  # nobody is draining, or the running handlers stalled: take one
            if queue and not watching and not self._watcher:
                self._watcher = watching = True
            seen = self._progress
            self._idle += 1
            cond.wait(SPILL if watching else None)
            self._idle -= 1
        if watching:
            self._watcher = False
        return queue.get()

    def _work(self) -> None:
        cond = self._cond
        handle = self._handle
        queue = self.queue
        drained = False
        while True:
            with cond:
                if drained:
                    self._active -= 1  # (done with the previous item: one lock per item)
                item = self._next_locked(drained)
                if item is None:
                    return
                self._progress += 1
                self._active += 1
                if queue:
                    self._wake_locked()  # more waiting: make sure somebody watches
            drained = True
            try:
                handle(item)
            except BaseException:
                with cond:
                    self._active -= 1
                raise

    def close(self) -> int:
        """Stop: drop what waits (returned), let running handlers finish, join the workers."""
        with self._cond:
            self._closing = True
            dropped = self.queue.clear()
            self._cond.notify_all()
            threads = list(self._threads)
        current = threading.current_thread()
        for thread in threads:
            if thread is not current:
                thread.join()
        return dropped


def overflow(
    stats: ServerStats, log: PeerLog, client_address: Address, queue: PendingQueue
) -> None:
    """Count a datagram refused by a full queue; warn once per sender host."""
    stats.add("overflow")
    host = str(client_address[0]) if isinstance(client_address, tuple) else str(client_address)
    log.warn(
        host,
        "max_pending",
        "%s: datagram dropped: %d datagrams (%d bytes) already wait for a handler"
        " (max_pending %d, max_pending_bytes %d, %d per host)",
        format_peer(client_address),
        len(queue),
        queue.bytes,
        queue.max_pending,
        queue.max_bytes,
        queue.max_per_host,
    )
