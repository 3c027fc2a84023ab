"""OSC servers over TCP (python-osc 1.10.2 ``osc_tcp_server`` API), safe on hostile input.

Servers:

- :class:`BlockingOSCTCPServer` -- one connection at a time, in the thread of
  ``serve_forever``;
- :class:`ThreadingOSCTCPServer` -- a thread per connection;
- :class:`ForkingOSCTCPServer` -- a process per connection (POSIX);
- :class:`AsyncOSCTCPServer` -- asyncio, every connection in the running loop.

The socketserver-based ones take ``(server_address, dispatcher, mode="1.1", family=None)``
(as python-osc); :class:`AsyncOSCTCPServer` takes ``(server_address, port, dispatcher,
mode="1.1")``.  ``mode`` is ``"1.0"`` (size prefix), ``"1.1"`` (SLIP) or ``"auto"``: the
framing is then detected per connection from its first byte.

Limits (:class:`~osc_live._limits.Limits`; keyword-only, on all of them, or all at once as
``limits=Limits(...)``): ``max_packet_size`` (1 MiB: larger packets are refused),
``max_buffered`` (4 MiB: bytes one connection may hold -- the frame it is sending plus replies
it has not read), ``max_buffered_total`` (32 MiB: the same for all connections together),
``max_connections`` (128) and ``max_connections_per_host`` (32: more are closed as soon as
accepted), ``frame_timeout`` (10 s a started frame may take: trickling peers are cut),
``idle_timeout`` (seconds without data before a connection is closed, ``None`` = never),
``send_timeout`` (10 s a reply may wait for a peer that does not read), ``shutdown_grace``
(0.25 s connections are drained when the server stops).  Each limit, when hit, is counted in
:attr:`stats` and logged once per peer host; the offending peer is cut, the others go on.
``docs/transports.md`` has the table.

The socketserver-based servers live in :mod:`osc_live._tcp_server_sync`, the asyncio one in
:mod:`osc_live._tcp_server_async`; both drive the sans-I/O per-connection state of
:mod:`osc_live._tcp_server_base`.  This module is their public face.

Behaviour (differences from python-osc are on purpose):

- handler return values (``"/addr"`` or ``("/addr", *args)``) go back to the sender on the
  same connection with the same framing -- also those of future-dated bundles, which are
  scheduled by the dispatcher and never block the connection;
- bad input never stops the server: garbage, a size prefix beyond ``max_packet_size`` (the
  connection is closed), a peer that disconnects mid-frame, a frame that does not complete
  within ``frame_timeout``, too many connections or bytes -- each is counted in :attr:`stats`
  and logged as a warning (once per peer host and kind) on the ``osc_live.osc_tcp_server``
  logger (never the root logger); malformed packets are counted by the dispatcher
  (``dispatcher.stats.parse_errors``).  A handler that raises is logged and
  counted; the connection goes on;
- addresses are reusable at once after a server stops (``allow_reuse_address``);
- stopping (``shutdown()`` / ``server_close()`` / ``stop()``) closes the open connections
  gracefully: the server stops writing, reads and dispatches what the peer still sends for
  ``shutdown_grace`` seconds or until the peer closes, then closes (python-osc waits for
  every client to disconnect);
- with no address given the servers bind ``127.0.0.1`` on a free port; the
  socketserver-based ones also create their own dispatcher when given none (and close it
  when they close).
"""

from __future__ import annotations

import os

from osc_live._limits import (
    DEFAULT_FRAME_TIMEOUT,
    DEFAULT_SEND_TIMEOUT,
    DEFAULT_SHUTDOWN_GRACE,
    Limits,
    ServerStats,
)
from osc_live._tcp_server_async import AsyncOSCTCPServer
from osc_live._tcp_server_base import MODE_1_0, MODE_1_1, MODE_AUTO
from osc_live._tcp_server_sync import BlockingOSCTCPServer, OSCTCPServer, ThreadingOSCTCPServer

__all__ = [
    "DEFAULT_FRAME_TIMEOUT",
    "DEFAULT_SEND_TIMEOUT",
    "DEFAULT_SHUTDOWN_GRACE",
    "MODE_1_0",
    "MODE_1_1",
    "MODE_AUTO",
    "AsyncOSCTCPServer",
    "BlockingOSCTCPServer",
    "Limits",
    "OSCTCPServer",
    "ServerStats",
    "ThreadingOSCTCPServer",
]
if hasattr(os, "fork"):
    from osc_live._tcp_server_sync import ForkingOSCTCPServer

    __all__ += ["ForkingOSCTCPServer"]
