"""Map OSC addresses to handler functions and dispatch packets to them.

python-osc 1.10.2 compatible (``Dispatcher``, ``Handler``, ``map``, ``unmap``,
``set_default_handler``, ``handlers_for_address``, ``call_handlers_for_packet``,
``async_call_handlers_for_packet``, ``strict_timing``), plus:

- compiled address matching: an incoming address without wildcards is one dict lookup,
  whatever the number of mapped addresses; patterns (``* ? [..] {..}`` and OSC 1.1 ``//``,
  segment by segment) are compiled once, outside the dispatcher's lock, within bounded
  length and complexity (see :mod:`osc_live._pattern`, :mod:`osc_live._routing`) and their
  results cached until the next ``map`` / ``unmap`` / ``set_default_handler``;
- future-dated bundles are *scheduled*, never slept on: the sync path pushes them onto one
  scheduler thread per dispatcher, the async path uses ``loop.call_at``.  Messages due now
  are handled before the call returns and their results returned (as in python-osc); the
  results of scheduled messages go to the optional ``reply(results)`` callback when they
  run.  What waits is bounded in messages (``max_scheduled``) and datagram bytes
  (``max_scheduled_bytes``); beyond, the messages of a timetag are dropped, counted in
  ``stats.dropped`` and logged (see :mod:`osc_live._timing`);
- :func:`encode_replies` turns handler results into datagrams; ``close()`` cancels
  scheduled work and stops the scheduler thread;
- malformed packets still return ``[]`` (as in python-osc) but are counted in
  :attr:`Dispatcher.stats` and logged (rate-limited) on the ``osc_live.dispatcher`` logger;
- packet hooks for subclasses: :meth:`Dispatcher.packet_parsed` (once per packet that parsed,
  with all its messages, before any handler runs) and :meth:`Dispatcher.packet_rejected`
  (once per malformed packet) -- for monitors that must see every packet without parsing it
  a second time.  Not overridden, they cost nothing.

Handler call shapes (as python-osc)::

    handler(address, *osc_args)
    handler(address, fixed_args_list, *osc_args)                  # map(addr, h, *fixed)
    handler(client_address, address, *osc_args)                   # needs_reply_address=True
    handler(client_address, address, fixed_args_list, *osc_args)

Handler exceptions propagate out of ``call_handlers_for_packet`` /
``async_call_handlers_for_packet`` (as in python-osc); in scheduled work they are logged and
counted (``stats.handler_errors``) and the scheduler goes on.

Coroutine handlers: the async path awaits them.  The sync path, which python-osc leaves with
an un-awaited coroutine, runs them: as a task of the event loop running in the calling
thread if there is one (its result then goes to ``reply``), else to completion on a private
event loop (its result is returned like any other).
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
import time
from collections.abc import Callable, Generator, Sequence
from typing import Any, overload

from osc_live import _pattern
from osc_live._handlers import (
    DispatcherStats,
    Handler,
    ReplyCallback,
    encode_replies,
    logger,
    run_coroutine,
)
from osc_live._routing import MISS, Routes
from osc_live._timing import DEFAULT_MAX_SCHEDULED, DEFAULT_MAX_SCHEDULED_BYTES, FutureWork
from osc_live.errors import ParseError
from osc_live.osc_message import OscMessage
from osc_live.osc_packet import OscPacket

__all__ = [
    "DEFAULT_MAX_SCHEDULED",
    "DEFAULT_MAX_SCHEDULED_BYTES",
    "Dispatcher",
    "DispatcherStats",
    "Handler",
    "encode_replies",
]

_WARN_INTERVAL = 1.0


class Dispatcher:
    """Maps OSC addresses to handlers and dispatches packets to them (see the module doc).

    ``strict_timing`` (default True): messages of future-dated bundles run at their time
    (scheduled, never slept on); False runs them at once.  ``max_scheduled`` bounds the
    messages waiting for their time, ``max_scheduled_bytes`` their datagram bytes: the
    messages of a timetag that would go over either are dropped, logged and counted
    (``stats.dropped``).
    """

    def __init__(
        self,
        strict_timing: bool = True,
        *,
        max_scheduled: int = DEFAULT_MAX_SCHEDULED,
        max_scheduled_bytes: int = DEFAULT_MAX_SCHEDULED_BYTES,
    ) -> None:
        """Create an empty dispatcher."""
        self._strict_timing = strict_timing
        self.stats = DispatcherStats()
        self._routes = Routes()
        self._map = self._routes.handlers  # python-osc's name: address -> [Handler]
        self._cache = self._routes.cache  # read without the lock on the hot path
        self._exact = self._routes.exact
        self._wild = self._routes.wild
        self._lock = self._routes.lock
        self._default_handler: Handler | None = None
        self._future = FutureWork(max_scheduled, max_scheduled_bytes)
        self._last_warning = 0.0
        # The packet_parsed hook, only when a subclass overrides it (the hot path then pays
        # one attribute test, no call, when it is not used).
        self._on_parsed: Callable[[Sequence[tuple[float, OscMessage]], Any], None] | None = (
            None if type(self).packet_parsed is Dispatcher.packet_parsed else self.packet_parsed
        )

    # --- packet hooks (override in a subclass) -------------------------------------------

    def packet_parsed(
        self, timed_messages: Sequence[tuple[float, OscMessage]], client_address: Any
    ) -> None:
        """Called once for every packet that parsed, before any of its handlers runs.

        ``timed_messages`` holds every message of the packet, flattened from nested bundles
        and sorted by time, as ``(when, message)`` pairs: ``when`` is the Unix time the
        message is due (the arrival time for a lone message and for immediate or past
        bundles), future-dated ones included (they are handled later, or dropped when
        ``max_scheduled`` is reached).  ``client_address`` is the one given to the call
        method.  Both call methods (sync and async) call it, from the dispatching thread.

        The default does nothing and is never called: override it in a subclass (the
        dispatcher checks at construction).  It must be quick and should not raise (an
        exception propagates out of the call method, like a handler's).  The messages are
        the ones the handlers receive: do not change them.
        """

    def packet_rejected(self, exc: ParseError, data: Any, client_address: Any) -> None:
        """Called once for every malformed packet (after it was counted and logged).

        ``exc`` is the :class:`~osc_live.errors.ParseError`, ``data`` the packet as given to
        the call method.  The default does nothing.  Same rules as :meth:`packet_parsed`.
        """

    # --- configuration ---------------------------------------------------------------

    @property
    def strict_timing(self) -> bool:
        """Whether future-dated bundles wait for their time (True) or run at once."""
        return self._strict_timing

    @strict_timing.setter
    def strict_timing(self, value: bool) -> None:
        self._strict_timing = value

    @property
    def max_scheduled(self) -> int:
        """Most future-dated messages waiting at once (more are dropped and counted)."""
        return self._future.max_messages

    @max_scheduled.setter
    def max_scheduled(self, value: int) -> None:
        self._future.max_messages = value

    @property
    def max_scheduled_bytes(self) -> int:
        """Most datagram bytes of future-dated messages waiting at once."""
        return self._future.max_bytes

    @max_scheduled_bytes.setter
    def max_scheduled_bytes(self, value: int) -> None:
        self._future.max_bytes = value

    def map(
        self,
        address: str,
        handler: Callable[..., Any],
        *args: Any | list[Any],
        needs_reply_address: bool = False,
    ) -> Handler:
        """Map ``address`` to ``handler`` with fixed ``args``; return the Handler.

        Several handlers may be mapped to one address; they run in mapping order.  A ``*``
        in ``address`` matches any characters (``/`` included) of incoming addresses, as
        in python-osc.
        """
        handler_obj = Handler(handler, list(args), needs_reply_address)
        with self._lock:
            self._map[address].append(handler_obj)
            self._routes.changed(address)
        return handler_obj

    @overload
    def unmap(self, address: str, handler: Handler) -> None: ...

    @overload
    def unmap(
        self,
        address: str,
        handler: Callable[..., Any],
        *args: Any | list[Any],
        needs_reply_address: bool = False,
    ) -> None: ...

    def unmap(
        self,
        address: str,
        handler: Handler | Callable[..., Any],
        *args: Any | list[Any],
        needs_reply_address: bool = False,
    ) -> None:
        """Remove a mapping: the Handler returned by ``map``, or the same callback and args.

        Raises ValueError if ``address`` has no such handler.
        """
        target = (
            handler
            if isinstance(handler, Handler)
            else Handler(handler, list(args), needs_reply_address)
        )
        with self._lock:
            try:
                self._map[address].remove(target)
            except ValueError as exc:
                raise ValueError(
                    f"Address '{address}' doesn't have handler '{handler}' mapped to it"
                ) from exc
            finally:
                self._routes.changed(address)

    def set_default_handler(
        self, handler: Callable[..., Any] | None, needs_reply_address: bool = False
    ) -> None:
        """Set the handler called for messages no mapping matches (None removes it)."""
        with self._lock:
            self._default_handler = (
                None if handler is None else Handler(handler, [], needs_reply_address)
            )
            self._routes.invalidate()

    # --- matching ---------------------------------------------------------------------

    def _resolve(self, address: str) -> tuple[Handler, ...] | None:
        """Handlers of the mappings matching ``address`` in mapping order; None if none."""
        return self._routes.resolve(address)

    def handlers_for_address(self, address_pattern: str) -> Generator[Handler, None, None]:
        """Yield the handlers matching ``address_pattern`` (the default one if none does)."""
        handlers = self._resolve(address_pattern)
        if handlers is None:
            if self._default_handler is not None:
                logger.debug("no handler matched %r: default handler", address_pattern)
                yield self._default_handler
            return
        yield from handlers

    # --- dispatch ---------------------------------------------------------------------

    def _parse_failed(self, exc: ParseError, data: Any, client_address: Any) -> None:
        """Count a malformed packet and log it (a warning at most once a second)."""
        self.stats.parse_errors += 1
        now = time.monotonic()
        level = logging.DEBUG
        if now - self._last_warning >= _WARN_INTERVAL:
            self._last_warning = now
            level = logging.WARNING
        if logger.isEnabledFor(level):
            logger.log(
                level,
                "ignoring malformed OSC packet (%d bytes) from %s: %s [%d malformed so far]",
                len(data) if hasattr(data, "__len__") else -1,
                client_address,
                exc,
                self.stats.parse_errors,
            )
        self.packet_rejected(exc, data, client_address)

    def _parse(self, data: bytes, client_address: Any) -> list[tuple[float, OscMessage]] | None:
        """Parse a datagram into (time, message) pairs; None (counted, logged) if malformed."""
        lone = data[:1] == b"/"
        try:
            if lone:
                timed: list[tuple[float, OscMessage]] = [(0.0, OscMessage(data))]
            else:
                timed = OscPacket(data).messages  # type: ignore[assignment]
        except ParseError as exc:
            self._parse_failed(exc, data, client_address)
            return None
        on_parsed = self._on_parsed
        if on_parsed is not None:
            on_parsed(((time.time(), timed[0][1]),) if lone else timed, client_address)
        return timed

    def _handle(
        self,
        message: OscMessage,
        client_address: Any,
        results: list[Any],
        reply: ReplyCallback | None,
    ) -> None:
        """Run the handlers of one message now, appending non-None results."""
        self.stats.messages += 1
        address = message.address
        handlers = self._cache.get(address, MISS)
        if handlers is MISS:
            if self._wild or _pattern.is_pattern(address):
                handlers = self._routes.resolve_slow(address)
            else:
                handlers = self._exact.get(address)
        if handlers is None:
            self.stats.unmatched += 1
            if self._default_handler is None:
                return
            handlers = (self._default_handler,)
        for handler in handlers:
            result = handler.invoke(client_address, message)
            if result is not None:
                if inspect.iscoroutine(result):
                    self._sync_coroutine(result, results, reply)
                else:
                    results.append(result)

    def _sync_coroutine(self, coro: Any, results: list[Any], reply: ReplyCallback | None) -> None:
        """A coroutine handler in the sync path: task of the running loop, or run it here."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            value = run_coroutine(coro)
            if value is not None:
                results.append(value)
            return
        task = loop.create_task(coro)
        self._future.track(task, loop)
        task.add_done_callback(functools.partial(self._task_done, reply=reply))

    def _task_done(self, task: asyncio.Task[Any], reply: ReplyCallback | None) -> None:
        """Deliver the result of a coroutine handler started from the sync path."""
        self._future.forget(task)
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            self.stats.handler_errors += 1
            logger.error("an async OSC handler raised", exc_info=exc)
            return
        value = task.result()
        if value is not None and reply is not None:
            self._call_reply(reply, [value])

    def _call_reply(self, reply: ReplyCallback, results: list[Any]) -> Any:
        """Call ``reply`` for later results; log (never raise) its exceptions."""
        try:
            return reply(results)
        except Exception:
            self.stats.handler_errors += 1
            logger.exception("the reply callback raised")
            return None

    def _admit(self, messages: list[OscMessage]) -> int | None:
        """Reserve room for future ``messages``: their byte size, or None (counted, logged)."""
        count = len(messages)
        size = sum(m.size for m in messages)
        if self._future.admit(count, size):
            self.stats.scheduled += count
            return size
        self.stats.dropped += count
        now = time.monotonic()
        if now - self._last_warning >= _WARN_INTERVAL:
            self._last_warning = now
            future = self._future
            logger.warning(
                "%d future-dated OSC messages (%d bytes) dropped: %d messages (%d bytes) already"
                " scheduled (max_scheduled=%d, max_scheduled_bytes=%d)",
                count,
                size,
                future.messages,
                future.bytes,
                future.max_messages,
                future.max_bytes,
            )
        return None

    def _split(
        self, timed: list[tuple[float, OscMessage]]
    ) -> tuple[list[OscMessage], dict[float, list[OscMessage]]]:
        """Messages due now, and future ones grouped by time (empty if not strict)."""
        if len(timed) == 1 and timed[0][0] == 0.0:
            return [timed[0][1]], {}
        now = time.time()
        due: list[OscMessage] = []
        later: dict[float, list[OscMessage]] = {}
        strict = self._strict_timing
        for when, message in timed:
            if strict and when > now:
                later.setdefault(when, []).append(message)
            else:
                due.append(message)
        return due, later

    def call_handlers_for_packet(
        self,
        data: bytes,
        client_address: tuple[str, int] | Any,
        *,
        reply: ReplyCallback | None = None,
    ) -> list[Any]:
        """Dispatch a datagram; return the non-None results of the handlers run now.

        Messages of future-dated bundles are scheduled (strict timing) and their results
        passed to ``reply(results)`` when they run.  Malformed datagrams return ``[]``.
        """
        self.stats.packets += 1
        results: list[Any] = []
        if data[:1] == b"/":  # a lone message: the common case, kept short
            try:
                message = OscMessage(data)
            except ParseError as exc:
                self._parse_failed(exc, data, client_address)
                return results
            if self._on_parsed is not None:
                self._on_parsed(((time.time(), message),), client_address)
            self._handle(message, client_address, results, reply)
            return results
        timed = self._parse(data, client_address)
        if timed is None:
            return results
        due, later = self._split(timed)
        for message in due:
            self._handle(message, client_address, results, reply)
        for when, messages in later.items():
            size = self._admit(messages)
            if size is not None:
                self._future.schedule(
                    when,
                    len(messages),
                    size,
                    functools.partial(self._run_later, messages, client_address, reply),
                )
        return results

    def _run_later(
        self, messages: list[OscMessage], client_address: Any, reply: ReplyCallback | None
    ) -> None:
        """Scheduler job: run the messages of one timetag, then ``reply(results)``."""
        results: list[Any] = []
        for message in messages:
            try:
                self._handle(message, client_address, results, reply)
            except Exception:
                self.stats.handler_errors += 1
                logger.exception("an OSC handler raised for %s (scheduled)", message.address)
        if results and reply is not None:
            self._call_reply(reply, results)

    async def _ahandle(self, message: OscMessage, client_address: Any, results: list[Any]) -> None:
        """Run (and await) the handlers of one message now, appending non-None results."""
        self.stats.messages += 1
        handlers = self._resolve(message.address)
        if handlers is None:
            self.stats.unmatched += 1
            if self._default_handler is None:
                return
            handlers = (self._default_handler,)
        for handler in handlers:
            result = handler.invoke(client_address, message)
            if result is not None:
                if inspect.isawaitable(result):
                    result = await result
                    if result is None:
                        continue
                results.append(result)

    async def async_call_handlers_for_packet(
        self,
        data: bytes,
        client_address: tuple[str, int] | Any,
        *,
        reply: ReplyCallback | None = None,
    ) -> list[Any]:
        """Dispatch a datagram in the running loop; return the results of handlers run now.

        Coroutine handlers are awaited.  Future-dated messages are scheduled with
        ``loop.call_at`` and their results passed to ``reply(results)`` (awaited if it
        returns an awaitable).  Malformed datagrams return ``[]``.
        """
        self.stats.packets += 1
        results: list[Any] = []
        if data[:1] == b"/":  # a lone message: the common case, kept short
            try:
                message = OscMessage(data)
            except ParseError as exc:
                self._parse_failed(exc, data, client_address)
                return results
            if self._on_parsed is not None:
                self._on_parsed(((time.time(), message),), client_address)
            await self._ahandle(message, client_address, results)
            return results
        timed = self._parse(data, client_address)
        if timed is None:
            return results
        due, later = self._split(timed)
        for message in due:
            await self._ahandle(message, client_address, results)
        if later:
            loop = asyncio.get_running_loop()
            for when, messages in later.items():
                size = self._admit(messages)
                if size is not None:
                    self._future.call_at(
                        loop,
                        when,
                        len(messages),
                        size,
                        functools.partial(self._arun_later, messages, client_address, reply),
                    )
        return results

    async def _arun_later(
        self, messages: list[OscMessage], client_address: Any, reply: ReplyCallback | None
    ) -> None:
        """Task body: run the messages of one timetag, then ``reply(results)``."""
        results: list[Any] = []
        for message in messages:
            try:
                await self._ahandle(message, client_address, results)
            except Exception:
                self.stats.handler_errors += 1
                logger.exception("an OSC handler raised for %s (scheduled)", message.address)
        if results and reply is not None:
            outcome = self._call_reply(reply, results)
            if inspect.isawaitable(outcome):
                try:
                    await outcome
                except Exception:
                    self.stats.handler_errors += 1
                    logger.exception("the reply callback raised")

    # --- replies and lifetime -----------------------------------------------------------

    encode_replies = staticmethod(encode_replies)

    @property
    def pending(self) -> int:
        """Scheduled work not run yet (sync jobs + asyncio timers and tasks)."""
        return len(self._future)

    @property
    def pending_messages(self) -> int:
        """Future-dated messages waiting for their time (at most ``max_scheduled``)."""
        return self._future.messages

    @property
    def pending_bytes(self) -> int:
        """Datagram bytes of those messages (at most ``max_scheduled_bytes``)."""
        return self._future.bytes

    def close(self) -> None:
        """Cancel scheduled work and stop the scheduler thread (idempotent, reusable).

        Safe from any thread: asyncio timers and tasks are cancelled in their own loop.
        """
        self._future.close()

    def __enter__(self) -> Dispatcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return (
            f"<Dispatcher {len(self._routes)} addresses, strict_timing={self._strict_timing},"
            f" {self.pending} pending>"
        )
