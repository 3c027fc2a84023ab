"""Listeners: receivers feeding the session dispatcher (UDP or TCP, on the loop or a thread).

On the session loop (``%osc listen``): an ``AsyncIOOSCUDPServer`` / ``AsyncOSCTCPServer``,
handled between cells and during ``await``. In a thread (``--thread``): a
``BlockingOSCUDPServer`` / ``ThreadingOSCTCPServer`` in a daemon thread, which keeps receiving
while a cell blocks; its handlers then run in that thread. A scheme's listeners are made by the
``listen`` function of its link (:mod:`.links`).
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from osc_live.endpoints import Endpoint
    from osc_live.notebook.kernel_session import OscSession

__all__ = ["Listener", "ListenerTap", "listen_tcp", "listen_udp"]

logger = logging.getLogger("osc_live.notebook")


class Listener:
    """A receiver feeding the session dispatcher; :meth:`close` stops it and frees the port."""

    def __init__(
        self,
        name: str,
        url: str,
        kind: str,
        threaded: bool,
        server: Any,
        close: Callable[[], None],
        address: tuple[Any, ...],
    ) -> None:
        self.name = name
        self.url = url
        self.kind = kind
        self.threaded = threaded
        self.server = server
        self.address = address
        self._close = close
        self.closed = False
        #: called as ``hook(data, client_address)`` with every raw packet this listener receives
        #: (``%osc record --listener NAME``); filled by the :class:`ListenerTap` of its server
        self.packet_hooks: list[Callable[[bytes, Any], None]] = []

    @property
    def port(self) -> int:
        """The bound port (useful with port 0)."""
        return int(self.address[1])

    def close(self) -> None:
        """Stop receiving and free the port (idempotent)."""
        if not self.closed:
            self.closed = True
            self._close()

    def __repr__(self) -> str:
        how = "thread" if self.threaded else "loop"
        return f"<Listener {self.name} {self.url} ({how})>"


class ListenerTap:
    """What a listener's server dispatches to: the session dispatcher, after the listener's
    ``packet_hooks`` have seen the raw packet (nothing more when there are none)."""

    def __init__(self, dispatcher: Any) -> None:
        self.dispatcher = dispatcher
        self.hooks: list[Callable[[bytes, Any], None]] = []

    def _seen(self, data: bytes, client_address: Any) -> None:
        for hook in list(self.hooks):
            try:
                hook(data, client_address)
            except Exception:
                logger.exception("listener packet hook failed")

    def call_handlers_for_packet(self, data: bytes, client_address: Any, **kw: Any) -> Any:
        if self.hooks:
            self._seen(data, client_address)
        return self.dispatcher.call_handlers_for_packet(data, client_address, **kw)

    async def async_call_handlers_for_packet(
        self, data: bytes, client_address: Any, **kw: Any
    ) -> Any:
        if self.hooks:
            self._seen(data, client_address)
        return await self.dispatcher.async_call_handlers_for_packet(data, client_address, **kw)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.dispatcher, name)

    def bind(self, listener: Listener) -> Listener:
        """Give ``listener`` this tap's hooks; return it."""
        listener.packet_hooks = self.hooks
        return listener


def _serve_in_thread(server: Any, name: str) -> Callable[[], None]:
    """Run a socketserver-style ``server`` in a daemon thread; return what stops and closes it."""
    worker = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.1}, name=name, daemon=True
    )
    worker.start()

    def stop() -> None:
        server.shutdown()
        server.server_close()
        worker.join(5)

    return stop


def _stop_on_loop(owner: OscSession, stop: Callable[[], Any]) -> Callable[[], None]:
    """What closes a loop server: ``await stop()`` on the session loop (if it still runs)."""

    def close() -> None:
        runner = owner._runner
        if runner is None or runner.loop.is_closed():
            return
        with contextlib.suppress(TimeoutError, RuntimeError):
            runner.run(stop(), timeout=5)

    return close


def listen_udp(owner: OscSession, endpoint: Endpoint, thread: bool, mode: str) -> Listener:
    """The ``udp://`` link's ``listen``."""
    from osc_live import osc_server

    del mode
    host, port = endpoint.host, endpoint.port
    tap = ListenerTap(owner.dispatcher)
    dispatcher: Any = tap
    if thread:
        blocking = osc_server.BlockingOSCUDPServer((host, port), dispatcher)
        stop = _serve_in_thread(blocking, f"osc_live-listen-udp:{port}")
        address = tuple(blocking.server_address)
        return tap.bind(Listener("", "", "udp", True, blocking, stop, address))
    server = osc_server.AsyncIOOSCUDPServer((host, port), dispatcher, owner.loop)
    owner.runner.run(server.create_serve_endpoint())
    close = _stop_on_loop(owner, server.aclose)
    return tap.bind(Listener("", "", "udp", False, server, close, tuple(server.server_address)))


def listen_tcp(owner: OscSession, endpoint: Endpoint, thread: bool, mode: str) -> Listener:
    """The ``tcp://`` link's ``listen`` (``mode``: ``auto``, ``1.0`` or ``1.1``)."""
    from osc_live import osc_tcp_server

    host, port = endpoint.host, endpoint.port
    mode = mode or "auto"
    tap = ListenerTap(owner.dispatcher)
    dispatcher: Any = tap
    if thread:
        tserver = osc_tcp_server.ThreadingOSCTCPServer((host, port), dispatcher, mode=mode)
        stop = _serve_in_thread(tserver, f"osc_live-listen-tcp:{port}")
        address = tuple(tserver.server_address)
        return tap.bind(Listener("", "", "tcp", True, tserver, stop, address))
    aserver = osc_tcp_server.AsyncOSCTCPServer(host, port, dispatcher, mode=mode)
    owner.runner.run(aserver.listen())
    close = _stop_on_loop(owner, aserver.stop)
    return tap.bind(Listener("", "", "tcp", False, aserver, close, tuple(aserver.server_address)))
