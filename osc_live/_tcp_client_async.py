"""The asyncio OSC TCP clients: :class:`AsyncTCPClient`, :class:`AsyncSimpleTCPClient`,
:class:`AsyncDispatchTCPClient`.

Public face: :mod:`osc_live.tcp_client` (see its docstring for the behaviour).  The logic the
blocking clients share lives in :mod:`osc_live._tcp_client_base`; here is the asyncio code.

Each connection is a :class:`ClientProtocol` with its own framer.  A send writes to the
transport at once unless the transport's buffer is above its high-water mark: then it first
waits (at most the client's timeout) for the buffer to drain, so a client never holds more
than the high-water mark plus one message, and a send that times out has written nothing
(the stream stays in frame).  A reconnecting client tracks which packets may still sit in the
buffer of a connection that dies and sends them again, whole, on the next one.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import socket
import time
from collections import deque
from collections.abc import Callable, Generator, Iterable
from types import TracebackType
from typing import Any

from osc_live._net import local_host_port, named_error, strip_brackets
from osc_live._reconnect import ReconnectQueueFull
from osc_live._tcp_client_base import (
    LIVENESS_INTERVAL,
    ClientBase,
    args_of,
    call_hook,
    unconfirmed,
)
from osc_live._tcp_client_protocol import MAX_PENDING, AsyncReceive, ClientProtocol
from osc_live.osc_bundle import OscBundle
from osc_live.osc_message import ADDRESS_PLANS, LOOKUP_OR_FAST_FAIL, OscMessage, encode_message
from osc_live.osc_message_builder import ArgValue

__all__ = ["AsyncSimpleTCPClient", "AsyncTCPClient"]

logger = logging.getLogger("osc_live.tcp_client")

_SETTLE_TIMEOUT = 5.0
"""Seconds a reconnecting async client lets a dying connection flush what it still buffers."""


def _resolve(fut: asyncio.Future[None]) -> None:
    """Timer callback: end a wait."""
    if not fut.done():
        fut.set_result(None)


class AsyncTCPClient(ClientBase):
    """asyncio OSC client over TCP.

    Connects on first use, on ``await client`` or on ``async with``.  ``send`` /
    ``send_message`` are coroutines; ``receive`` / ``get_messages`` are used with ``async for``
    (see :mod:`osc_live.tcp_client`).  ``timeout`` bounds connecting, a send waiting for a
    peer that does not read, and the default wait of ``receive``.  Keyword-only extensions as
    :class:`~osc_live.tcp_client.TCPClient` (``reconnect``, ``on_disconnect``,
    ``on_reconnect`` -- callbacks may be coroutine functions -- and ``max_packet_size``).
    """

    def _start_io(self) -> None:
        """Remember where to connect; nothing happens on the network yet."""
        self._proto: ClientProtocol | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._connect_lock: asyncio.Lock | None = None
        self._reconnect_task: asyncio.Task[None] | None = None
        self._hook_tasks: set[asyncio.Task[Any]] = set()
        self._ever_connected = False
        self._lost_exc: BaseException | None = None
        self._last_yield = 0.0
        self._retiring: deque[ClientProtocol] = deque()

    # -- connection ----------------------------------------------------------------------------

    def __await__(self) -> Generator[Any, None, AsyncTCPClient]:
        """``client = await AsyncTCPClient(...)`` connects and returns the client."""
        return self._open_self().__await__()

    async def _open_self(self) -> AsyncTCPClient:
        await self.connect()
        return self

    async def __aenter__(self) -> AsyncTCPClient:
        """Connect and return the client."""
        await self.connect()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> None:
        """Close the client."""
        await self.close()

    async def __open__(self) -> None:
        """python-osc's name for :meth:`connect`."""
        await self.connect()

    @property
    def connected(self) -> bool:
        """True while a connection is up (and the server has not closed its side)."""
        return self._proto is not None and not self._proto.dead

    @property
    def local_address(self) -> tuple[str, int] | None:
        """``(host, port)`` of the connected socket's local end (a new one after a reconnect),
        None while not connected."""
        proto = self._proto
        if proto is None or proto.dead or proto.transport is None:
            return None
        return local_host_port(proto.transport.get_extra_info("socket"))

    async def connect(self) -> None:
        """Connect now if not connected (reconnecting clients retry in the background).

        Without reconnection a failure raises (``ConnectionRefusedError`` naming host:port...);
        with reconnection only an unresolvable host raises, other failures start the
        background reconnection and sends are queued meanwhile.
        """
        if self._closed:
            raise self._closed_error()
        if self._connect_lock is None:
            self._connect_lock = asyncio.Lock()
        async with self._connect_lock:
            if self.connected or self._closed:
                return
            if self._policy is not None and self._ever_connected:
                return  # the reconnect task is on it
            try:
                await self._open(self._timeout)
            except OSError as exc:
                self._first_connect_failed(exc)
                self._ever_connected = True
                self._start_reconnect()

    async def _open(self, timeout: float | None) -> ClientProtocol:
        """Open one connection (errors name host:port)."""
        loop = asyncio.get_running_loop()
        host = strip_brackets(self.address)
        try:
            _transport, proto = await asyncio.wait_for(
                loop.create_connection(
                    lambda: ClientProtocol(self), host, self.port, family=self.family
                ),
                timeout,
            )
        except (OSError, asyncio.TimeoutError) as exc:
            if isinstance(exc, socket.gaierror):
                raise socket.gaierror(exc.errno, f"cannot resolve {self._where}: {exc}") from exc
            if not isinstance(exc, OSError):
                exc = TimeoutError("timed out")
            raise named_error(exc, self.address, self.port, "connecting to") from exc
        self._proto = proto
        self._ever_connected = True
        self._eof = False
        return proto

    def _connection_lost(self, proto: ClientProtocol, exc: BaseException | None) -> None:
        """The current connection is unusable: wake readers, start reconnecting when enabled.

        Called by the protocol on EOF (the server closes: nothing more may be written, what
        the transport still buffers is flushed while our servers drain) and on the loss.  A
        reconnecting client retires the connection: :meth:`_settle` later queues again what it
        could not send.
        """
        if proto is not self._proto:
            return
        proto.ok = False
        self._eof = True
        self._lost_exc = exc
        self._wake()
        if self._closed or self._policy is None:
            return
        self._proto = None
        self._retiring.append(proto)
        logger.warning("connection to %s lost (%s); reconnecting", self._where, exc or "EOF")
        self._run_hook(self.on_disconnect, exc)
        self._start_reconnect()

    async def _settle(self, timeout: float) -> None:
        """Let retired connections finish flushing; queue again, in front, what they could not.

        A connection still flushing after ``timeout`` seconds is aborted, its unsent packets
        taken exactly before.  After a reset, the packets not known to have left the write
        buffer are sent again (the kernel's own send queue is lost with a reset anyway).
        """
        retiring = self._retiring
        for proto in list(retiring):
            if not proto.lost:
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(asyncio.shield(proto.closed), timeout)
        # No await from here on: a cancellation cannot lose packets taken from a connection.
        packets: list[bytes] = []
        aborted: list[asyncio.Future[None]] = []
        for proto in retiring:
            packets.extend(proto.unsent())
            if not proto.lost and proto.transport is not None:
                proto.transport.abort()
                aborted.append(proto.closed)
        retiring.clear()
        if packets:
            logger.info(
                "%d messages not sent before the connection to %s was lost: queued again",
                len(packets),
                self._where,
            )
            self._queue.requeue(packets)
        if aborted:
            await asyncio.wait(aborted, timeout=1.0)

    def _run_hook(self, hook: Callable[..., Any] | None, *args: Any) -> None:
        """Call a callback; a coroutine result runs as a task (kept until done)."""
        result = call_hook(hook, *args)
        if inspect.isawaitable(result):
            task = asyncio.ensure_future(result)
            self._hook_tasks.add(task)
            task.add_done_callback(self._hook_tasks.discard)

    def _start_reconnect(self) -> None:
        """Start the reconnect task unless it runs already."""
        if self._reconnect_task is None and not self._closed:
            self._reconnect_task = asyncio.get_running_loop().create_task(self._reconnect_loop())

    async def _reconnect_loop(self) -> None:
        """Reconnect with backoff, then flush the queue in order."""
        assert self._policy is not None
        attempts = 0
        last: BaseException | None = None
        try:
            # What the old connection still buffers goes first, to its server or queued again.
            await self._settle(_SETTLE_TIMEOUT)
            for delay in self._policy.delays():
                if delay:
                    await asyncio.sleep(delay)
                if self._closed:
                    return
                attempts += 1
                try:
                    proto = await self._open(self._policy.connect_timeout)
                except OSError as exc:
                    last = exc
                    logger.debug(
                        "reconnect attempt %d to %s failed: %s", attempts, self._where, exc
                    )
                    continue
                packets = self._queue.take_all()
                if packets:
                    self._write_now(proto, packets)
                self.reconnects += 1
                self._reconnect_task = None
                logger.info("reconnected to %s after %d attempt(s)", self._where, attempts)
                self._wake()
                self._run_hook(self.on_reconnect)
                return
            gave_up = self._give_up(attempts)
            logger.error("%s (last error: %s)", gave_up, last)
            self._wake()
        finally:
            if self._reconnect_task is asyncio.current_task():
                self._reconnect_task = None

    async def close(self, timeout: float | None = None) -> None:
        """Close the connection, stop reconnecting (idempotent).

        Half-closes, then waits for the server to close its side -- its confirmation that it
        has read everything sent -- at most ``timeout`` seconds (default: the client's
        timeout, or :data:`~osc_live._tcp_client_base.CLOSE_TIMEOUT` when it has none);
        replies arriving meanwhile are dropped.  Without that confirmation in time, the
        connection is closed anyway and a WARNING on ``osc_live.tcp_client`` says what may be
        lost.  A reconnecting client lets connections the server closed finish flushing within
        the same time; what they could not send is counted in the "never sent" warning.
        """
        if self._closed:
            return
        self._closed = True
        wait = self._close_timeout(timeout)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        task, self._reconnect_task = self._reconnect_task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._retiring:
            await self._settle(max(0.0, deadline - loop.time()))
        self._warn_unsent_on_close()
        proto, self._proto = self._proto, None
        self._wake()
        self._pending.clear()  # unread replies: nobody reads a closed client
        if proto is not None and proto.transport is not None:
            proto.ok = False
            proto.resume_reading_if_paused()
            transport = proto.transport
            if not proto.lost:
                # Half-close, then let the server close its side (its EOF closes the
                # transport): closing with replies unread would reset the connection, and a
                # reset destroys messages the server has not read yet.
                with contextlib.suppress(OSError, RuntimeError):
                    if transport.can_write_eof():
                        transport.write_eof()
                try:
                    await asyncio.wait_for(
                        asyncio.shield(proto.closed), max(0.0, deadline - loop.time())
                    )
                except asyncio.TimeoutError:
                    self._warn_unconfirmed_close(unconfirmed(wait, proto.undelivered()))
                transport.close()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(asyncio.shield(proto.closed), 5.0)
        for hook_task in list(self._hook_tasks):
            with contextlib.suppress(BaseException):
                await hook_task

    # -- sending -------------------------------------------------------------------------------

    async def send(self, content: OscMessage | OscBundle | bytes) -> None:
        """Send an :class:`OscMessage` or :class:`OscBundle` (or a raw packet as bytes)."""
        dgram = content if isinstance(content, (bytes, bytearray)) else content.dgram
        await self._write([bytes(dgram)])

    async def send_message(self, address: str, value: ArgValue | Iterable[ArgValue] = "") -> None:
        """Build and send one message: ``value`` is one argument or a list of them."""
        cls = type(value)
        if cls is list or cls is tuple:
            try:  # encode_message's fast path, inlined: one lookup, one call
                packet = ADDRESS_PLANS[address].encode(value)
            except LOOKUP_OR_FAST_FAIL:
                packet = encode_message(address, value)  # type: ignore[arg-type]
        else:
            packet = encode_message(address, args_of(value))
        proto = self._proto
        if proto is not None and proto.ok and not proto.paused and self._policy is None:
            proto.transport.write(proto.frame(packet))  # type: ignore[union-attr]
            return
        await self._write([packet])

    async def send_messages(self, messages: Iterable[tuple[str, Any]]) -> None:
        """Send many ``(address, value)`` messages in one write (batching)."""
        packets = [encode_message(a, args_of(v)) for a, v in messages]
        if packets:
            await self._write(packets)

    async def _write(self, packets: list[bytes]) -> None:
        """Write packets, connecting first, or queue them while reconnecting."""
        while True:
            proto = self._proto
            if proto is None or proto.dead:
                proto = await self._ensure_for_write()
                if proto is None:
                    self._queue.put_all(packets, self.address, self.port)
                    return
            elif self._policy is not None:
                # Let the loop notice a server close before we write (at most every 2 ms).
                now = time.monotonic()
                if now - self._last_yield >= LIVENESS_INTERVAL:
                    self._last_yield = now
                    await asyncio.sleep(0)
                    if self._proto is not proto or proto.dead:
                        continue
            if proto.paused and not await self._wait_writable(proto, packets):
                return  # queued for the next connection
            if proto.dead:
                continue  # lost while we waited: decide again
            self._write_now(proto, packets)
            return

    def _write_now(self, proto: ClientProtocol, packets: list[bytes]) -> None:
        """Frame ``packets`` for ``proto`` and write them (tracked when reconnecting)."""
        frame = proto.frame
        frames = [frame(p) for p in packets]
        if self._policy is not None:  # before the write: a failing write clears the buffer
            proto.track(packets, [len(f) for f in frames])
        assert proto.transport is not None
        proto.transport.write(frames[0] if len(frames) == 1 else b"".join(frames))

    async def _wait_writable(self, proto: ClientProtocol, packets: list[bytes]) -> bool:
        """Wait (at most the timeout) for ``proto``'s buffer to drain; False if queued instead.

        On timeout nothing of ``packets`` was written: without reconnection the send raises
        (the connection stays, in frame); with it the connection is given up -- what it still
        buffers is queued again -- and ``packets`` wait for the next one.
        """
        try:
            await asyncio.wait_for(proto.drain(), self._timeout)
        except asyncio.TimeoutError:
            error = self._send_timeout(0, sum(map(len, packets)), len(packets))
            if self._policy is None:
                raise error from None
            # It does not read: do not wait for it to flush.  What it still buffers goes first.
            self._connection_lost(proto, error)
            with contextlib.suppress(ValueError):
                self._retiring.remove(proto)
            self._queue.requeue(proto.unsent())
            if proto.transport is not None:
                proto.transport.abort()
            self._queue.put_all(packets, self.address, self.port)
            return False
        return True

    async def _ensure_for_write(self) -> ClientProtocol | None:
        """The live connection to write to, or None when the data must be queued."""
        if self._closed:
            raise self._closed_error()
        if self._gave_up is not None:
            raise self._gave_up
        if self._policy is None:
            if self._ever_connected:
                raise self._lost_error()
            await self.connect()
        else:
            if not self._ever_connected:
                await self.connect()
            proto = self._proto
            if proto is not None and proto.dead:
                # Closing without having told us yet (framing error...): retire it now, so
                # that what it could not send is queued again before the reconnection.
                self._connection_lost(proto, proto.exc)
            if self._reconnect_task is not None or not self.connected:
                if len(self._queue) and self._queue.full():
                    raise self._queue_full()
                self._start_reconnect()
                return None
        proto = self._proto
        if proto is None or proto.dead:
            if self._policy is not None:
                self._start_reconnect()
                return None
            raise self._lost_error()
        return proto

    def _queue_full(self) -> OSError:
        return ReconnectQueueFull(self.address, self.port, len(self._queue))

    # -- receiving -----------------------------------------------------------------------------

    def _feed_from(self, proto: ClientProtocol, data: bytes) -> bool:
        """Frame bytes received on ``proto``; True when packets wait (to apply backpressure)."""
        if self._closed:
            return False  # replies read while closing are dropped: nobody reads them now
        if self._feed(proto.framer, data):
            if proto.transport is not None:
                proto.transport.close()
            if self._policy is not None:
                self._connection_lost(proto, None)  # write nothing more to it
        return bool(self._pending)

    def _wake(self) -> None:
        """Wake a reader waiting in :meth:`_next_raw`."""
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def _next_raw(self, timeout: float | None) -> bytes | None:
        """The next received packet, or None once ``timeout`` passes quietly or on EOF."""
        t = self._timeout if timeout is None else timeout
        if not self._pending and not self._closed and not self._ever_connected:
            await self.connect()
        loop = asyncio.get_running_loop()
        deadline = None if t is None else loop.time() + t
        while True:
            if self._pending:
                data = self._pending.popleft()
                proto = self._proto
                if proto is not None and len(self._pending) < MAX_PENDING // 2:
                    proto.resume_reading_if_paused()
                return data
            if self._closed or self._gave_up is not None:
                return None
            if not self.connected and self._policy is None:
                exc, self._lost_exc = self._lost_exc, None
                if exc is not None and not self._closed:
                    raise named_error(exc, self.address, self.port, "receiving from") from exc
                return None
            remaining = None if deadline is None else deadline - loop.time()
            if remaining is not None and remaining <= 0:
                return None
            waiter = loop.create_future()
            self._waiter = waiter
            handle = None
            if remaining is not None:
                handle = loop.call_later(remaining, _resolve, waiter)
            try:
                await waiter
            finally:
                self._waiter = None
                if handle is not None:
                    handle.cancel()

    def receive(self, timeout: float | None = None) -> AsyncReceive:
        """Yield parsed messages and bundles as they arrive (``async for``).

        Ends once ``timeout`` seconds (default: the client's timeout) pass without a new
        packet, or when the server closes the connection.  ``await client.receive(t)``
        instead returns python-osc's list of raw packets.
        """
        return AsyncReceive(self, timeout, flat=False)

    async def receive_raw(self, timeout: float | None = None) -> list[bytes]:
        """python-osc's ``receive``: raw packets of the next read, ``[]`` after ``timeout``."""
        first = await self._next_raw(timeout)
        if first is None:
            return []
        packets = [first]
        packets.extend(self._pending)
        self._pending.clear()
        proto = self._proto
        if proto is not None:
            proto.resume_reading_if_paused()
        return packets

    def get_messages(self, timeout: float | None = None) -> AsyncReceive:
        """Like :meth:`receive` but yields only :class:`OscMessage`, bundles flattened.

        ``await client.get_messages(t)`` returns python-osc's list of raw packets.
        """
        return AsyncReceive(self, timeout, flat=True)


class AsyncSimpleTCPClient(AsyncTCPClient):
    """asyncio TCP client with ``send_message`` (every client of osc_live has it)."""
