"""The dispatch clients: :class:`TCPDispatchClient` (blocking) and
:class:`AsyncDispatchTCPClient` (asyncio).

Public face: :mod:`osc_live.tcp_client`.  They are the plain clients of
:mod:`osc_live._tcp_client_sync` / :mod:`osc_live._tcp_client_async` plus a
:class:`~osc_live.dispatcher.Dispatcher` that handles what the server sends; handler return
values are sent back to the server (python-osc drops them), those of future-dated bundles when
they run.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Sequence
from typing import Any

from osc_live._net import running_loop
from osc_live._tcp_client_async import AsyncTCPClient
from osc_live._tcp_client_base import DEFAULT_TIMEOUT, MODE_1_1, ClientBase, reply_packets
from osc_live._tcp_client_sync import SimpleTCPClient
from osc_live.dispatcher import Dispatcher

__all__ = ["AsyncDispatchTCPClient", "TCPDispatchClient"]

logger = logging.getLogger("osc_live.tcp_client")


class _OwnDispatcher(ClientBase):
    """The dispatch clients' constructor: the plain client's arguments (python-osc's
    ``(address, port, family, mode, timeout)`` and the keyword-only extensions), plus
    ``dispatcher=`` which overrides the class attribute.  The signature is spelled out (not
    ``*args``) so ``inspect.signature`` and editors show python-osc's parameters."""

    dispatcher: Dispatcher

    def __init__(
        self,
        address: str,
        port: int,
        family: socket.AddressFamily = socket.AF_INET,
        mode: str = MODE_1_1,
        timeout: float | None = DEFAULT_TIMEOUT,
        *,
        dispatcher: Dispatcher | None = None,
        **kwargs: Any,
    ) -> None:
        """Connect as the plain client; ``dispatcher`` overrides the class attribute."""
        if dispatcher is not None:
            self.dispatcher = dispatcher
        super().__init__(address, port, family, mode, timeout, **kwargs)


class TCPDispatchClient(_OwnDispatcher, SimpleTCPClient):
    """TCP client whose :attr:`dispatcher` handles what the server sends.

    ``dispatcher`` is a class attribute as in python-osc and may be replaced per class
    (``TCPDispatchClient.dispatcher = Dispatcher()``) or given per instance
    (``dispatcher=`` keyword).
    """

    dispatcher: Dispatcher = Dispatcher()

    def _send_replies(self, results: Sequence[Any]) -> None:
        """Send handler return values back to the server (also called by the scheduler)."""
        if not results:
            return
        packets = reply_packets(self.dispatcher, results)
        if not packets:
            return
        try:
            self._send_packets(packets)
        except OSError as exc:
            logger.warning("could not send %d replies to %s: %s", len(results), self._where, exc)

    def handle_messages(self, timeout_sec: float | None = None) -> None:
        """Dispatch what arrives until ``timeout_sec`` passes quietly; answer with results."""
        t = self._effective(timeout_sec)
        client_address = (self.address, self.port)
        reply = self._send_replies
        while True:
            data = self._next_raw(t)
            if data is None:
                return
            try:
                results = self.dispatcher.call_handlers_for_packet(
                    data, client_address, reply=reply
                )
            except Exception:
                logger.exception("error while handling a packet from %s", self._where)
                continue
            if results:
                reply(results)


class AsyncDispatchTCPClient(_OwnDispatcher, AsyncTCPClient):
    """asyncio TCP client whose :attr:`dispatcher` handles what the server sends.

    ``dispatcher`` is a class attribute (the reference assigns
    ``AsyncDispatchTCPClient.dispatcher = Dispatcher()``) and may be given per instance with
    the ``dispatcher=`` keyword.
    """

    dispatcher: Dispatcher = Dispatcher()

    async def _send_replies(self, results: Sequence[Any], dispatcher: Any) -> None:
        """Send handler return values back to the server."""
        if not results:
            return
        packets = reply_packets(dispatcher, results)
        if packets:
            try:
                await self._write(packets)
            except OSError as exc:
                logger.warning("could not send replies to %s: %s", self._where, exc)

    async def handle_messages(self, timeout: float | None = None) -> None:
        """Dispatch what arrives until ``timeout`` passes quietly; answer with results.

        Handler return values (``"/addr"`` or ``("/addr", *args)``) are sent back to the
        server, those of future-dated bundles when they run.
        """
        dispatcher = self.dispatcher
        client_address = (self.address, self.port)
        loop = asyncio.get_running_loop()
        pending_replies: set[asyncio.Task[None]] = set()

        def reply_later(results: list[Any]) -> None:
            task = loop.create_task(self._send_replies(results, dispatcher))
            pending_replies.add(task)
            self._hook_tasks.add(task)
            task.add_done_callback(pending_replies.discard)
            task.add_done_callback(self._hook_tasks.discard)

        def reply(results: list[Any]) -> None:
            if not results:
                return
            if running_loop() is loop:
                reply_later(results)
            else:
                loop.call_soon_threadsafe(reply_later, results)

        while True:
            data = await self._next_raw(timeout)
            if data is None:
                break
            try:
                results = await dispatcher.async_call_handlers_for_packet(
                    data, client_address, reply=reply
                )
            except Exception:
                logger.exception("error while handling a packet from %s", self._where)
                continue
            if results:
                await self._send_replies(results, dispatcher)
        if pending_replies:
            await asyncio.gather(*pending_replies, return_exceptions=True)
