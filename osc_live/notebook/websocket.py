"""The ``ws://`` session link: WebSocket targets and listeners (``%osc connect ws://…``,
``%osc listen ws://…``).

A target is an :class:`~osc_live.ws_client.AsyncWSClient` on the session loop; what the server
sends back goes to the session dispatcher (as a TCP target's replies). A listener is an
:class:`~osc_live.osc_ws_server.AsyncOSCWSServer` on the session loop (or, with ``--thread``, a
:class:`~osc_live.osc_ws_server.BlockingOSCWSServer` in a thread) feeding the session
dispatcher; handler results go back on the connection that sent the packet.
Needs the extra ``osc-live[websocket]``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from osc_live.notebook.listeners import Listener, ListenerTap, _serve_in_thread, _stop_on_loop
from osc_live.notebook.targets import Target, TcpTarget

if TYPE_CHECKING:
    from osc_live.endpoints import Endpoint
    from osc_live.notebook.kernel_session import OscSession

__all__ = ["WsTarget", "connect_ws", "listen_ws"]


class WsTarget(TcpTarget):
    """A WebSocket target: reading, sending and closing work as for TCP, over a WS client."""

    kind = "ws"

    def __init__(self, owner: OscSession, name: str, endpoint: Endpoint, **kw: Any) -> None:
        from osc_live.ws_client import AsyncWSClient

        Target.__init__(self, owner, name, endpoint.url, (endpoint.host, endpoint.port), **kw)
        # TcpTarget reads, sends and closes through connect/send/receive_raw/connected/close,
        # which the WebSocket client offers alike.
        self._client = AsyncWSClient(  # type: ignore[assignment]
            endpoint.url, timeout=owner.options.send_timeout
        )
        self._reader = None
        owner.runner.run(self._open(), timeout=owner.options.send_timeout + 1)


def connect_ws(owner: OscSession, endpoint: Endpoint, name: str, mode: str, **kw: Any) -> Target:
    """The ``ws://`` link's ``connect``."""
    del mode
    return WsTarget(owner, name, endpoint, **kw)


def listen_ws(owner: OscSession, endpoint: Endpoint, thread: bool, mode: str) -> Listener:
    """The ``ws://`` link's ``listen`` (``ws://host:port[/path]``: only that path is served)."""
    from osc_live.osc_ws_server import AsyncOSCWSServer, BlockingOSCWSServer

    del mode
    path = endpoint.path or None
    tap = ListenerTap(owner.dispatcher)
    dispatcher: Any = tap
    if thread:
        blocking = BlockingOSCWSServer((endpoint.host, endpoint.port), dispatcher, path=path)
        stop = _serve_in_thread(blocking, f"osc_live-listen-ws:{blocking.port}")
        address = tuple(blocking.server_address)
        return tap.bind(Listener("", "", "ws", True, blocking, stop, address))
    server = AsyncOSCWSServer(endpoint.host, endpoint.port, dispatcher, path=path)
    owner.runner.run(server.listen())
    close = _stop_on_loop(owner, server.stop)
    return tap.bind(Listener("", "", "ws", False, server, close, tuple(server.server_address)))
