"""The asyncio side of one connection of the async TCP clients, and their ``receive`` object.

- :class:`ClientProtocol` -- an ``asyncio.Protocol`` with its own framer (the first SLIP frame
  of a connection is the framer's business), flow control both ways (the client waits while
  the write buffer is above its high-water mark; reading pauses while too many received
  packets wait), and the record of which written packets may not have left the buffer
  (:class:`~osc_live._tcp_client_base.Inflight`) so that a reconnecting client sends them
  again whole.
- :class:`AsyncReceive` -- what ``receive`` / ``get_messages`` return: ``async for`` yields
  parsed packets, ``await`` returns python-osc's list of raw packets.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Generator, Sequence
from typing import TYPE_CHECKING, Any

from osc_live._net import unsent_bytes
from osc_live._tcp_client_base import Inflight, flatten, parse
from osc_live.framing import make_framer
from osc_live.osc_message import OscMessage

if TYPE_CHECKING:
    from osc_live._tcp_client_async import AsyncTCPClient

__all__ = ["MAX_PENDING", "AsyncReceive", "ClientProtocol"]

MAX_PENDING = 100_000
"""Received packets an async client buffers before it stops reading (backpressure)."""


class ClientProtocol(asyncio.Protocol):
    """asyncio side of one connection of an async client: framing and flow control.

    A reconnecting client also tracks the packets it wrote that may still sit in the
    transport's write buffer (:meth:`track`, :meth:`unsent`): if the connection dies before
    they are handed to the kernel, they are queued again instead of being lost.
    """

    def __init__(self, owner: AsyncTCPClient) -> None:
        self.owner = owner
        self.framer = make_framer(owner.mode, owner._framer.max_packet_size)
        self.frame = self.framer.send
        self.transport: asyncio.Transport | None = None
        self.lost = False
        self.eof = False
        self.ok = False
        """True while writing is allowed: connected, no EOF from the server, not closing."""
        self.exc: BaseException | None = None
        self.closed = asyncio.get_running_loop().create_future()
        self.paused = False
        self._drain: asyncio.Future[None] | None = None
        self._reading_paused = False
        self.inflight = Inflight()
        self._sent = 0  # bytes known to have left the write buffer (last sample)

    @property
    def dead(self) -> bool:
        """True once nothing may be written any more (lost, server EOF, or closing)."""
        if not self.ok:
            return True
        transport = self.transport
        if transport is None or transport.is_closing():
            self.ok = False
            return True
        return False

    def track(self, packets: Sequence[bytes], sizes: Sequence[int]) -> None:
        """Remember ``packets`` (framed: ``sizes`` bytes each) until they left the buffer.

        Call it right before ``transport.write``: the buffer is sampled first, while its size
        still means something (a failing write clears it).
        """
        self._sample()
        self.inflight.add(packets, sizes)

    def _sample(self) -> None:
        """Forget the tracked packets the transport has handed to the kernel entirely.

        Called only while the buffer's size is meaningful: before a write (and before a failed
        write could clear the buffer), on EOF, and while the transport flushes after a close.
        """
        transport = self.transport
        if transport is None or self.lost:
            return  # after a loss the buffer is cleared: its size says nothing any more
        self._sent = self.inflight.written - transport.get_write_buffer_size()
        self.inflight.sent(self._sent)

    def unsent(self) -> list[bytes]:
        """Tracked packets not known to have left the write buffer (whole, oldest first).

        Exact while the connection is not lost; after a loss, what the last sample said.  A
        packet partly handed to the kernel counts as unsent: the peer cannot have handled it.
        """
        self._sample()
        return self.inflight.unsent(self._sent)

    def undelivered(self) -> int | None:
        """Bytes written but not yet delivered: the transport's buffer plus the kernel's
        unacknowledged send queue (None when neither can be told)."""
        transport = self.transport
        if transport is None or self.lost:
            return None
        buffered = transport.get_write_buffer_size()
        sock = transport.get_extra_info("socket")
        kernel = unsent_bytes(sock.fileno()) if sock is not None else None
        return buffered + (kernel or 0)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.ok = True

    def data_received(self, data: bytes) -> None:
        owner = self.owner
        if owner._feed_from(self, data) and self.transport is not None:
            pending = owner._pending
            if len(pending) > MAX_PENDING:
                self.transport.pause_reading()
                self._reading_paused = True
        owner._wake()

    def eof_received(self) -> bool:
        # The server stopped writing (it is closing, ours drain): write nothing more to this
        # connection.  Returning False closes the transport once its write buffer is flushed.
        self.eof = True
        self.ok = False
        self._sample()
        self.owner._connection_lost(self, None)
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        if exc is None:
            # Closed after a complete flush (or aborted by the client, which took the unsent
            # packets before): nothing tracked is left to send.
            self.inflight.unsent(self.inflight.written)
        self.lost = True
        self.ok = False
        self.exc = exc
        if not self.closed.done():
            self.closed.set_result(None)
        self._wake_writer()
        self.owner._connection_lost(self, exc)

    def pause_writing(self) -> None:
        self.paused = True

    def resume_writing(self) -> None:
        self.paused = False
        self._wake_writer()

    def _wake_writer(self) -> None:
        if self._drain is not None and not self._drain.done():
            self._drain.set_result(None)

    def resume_reading_if_paused(self) -> None:
        if self._reading_paused and self.transport is not None and not self.lost:
            self._reading_paused = False
            self.transport.resume_reading()

    async def drain(self) -> None:
        """Wait while the transport's write buffer is above its high-water mark."""
        while self.paused and not self.lost:
            self._drain = asyncio.get_running_loop().create_future()
            await self._drain
            self._drain = None


class AsyncReceive:
    """What the async clients' ``receive`` / ``get_messages`` return.

    ``async for`` over it yields parsed packets (or flattened messages) until ``timeout``
    passes quietly; ``await`` on it returns python-osc's list of raw packets.
    """

    def __init__(self, client: AsyncTCPClient, timeout: float | None, flat: bool) -> None:
        self._client = client
        self._timeout = timeout
        self._flat = flat
        self._buffer: deque[OscMessage] = deque()

    def __aiter__(self) -> AsyncReceive:
        return self

    async def __anext__(self) -> Any:
        if self._buffer:
            return self._buffer.popleft()
        client = self._client
        while True:
            data = await client._next_raw(self._timeout)
            if data is None:
                raise StopAsyncIteration
            packet = parse(data, client._where)
            if packet is None:
                continue
            if not self._flat or isinstance(packet, OscMessage):
                return packet
            out: list[OscMessage] = []
            flatten(packet, out)
            if out:
                self._buffer.extend(out[1:])
                return out[0]

    def __await__(self) -> Generator[Any, None, list[bytes]]:
        return self._client.receive_raw(self._timeout).__await__()
