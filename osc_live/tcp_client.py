"""OSC over TCP: clients (python-osc 1.10.2 ``tcp_client`` API, reference document semantics).

Clients: :class:`TCPClient`, :class:`SimpleTCPClient`, :class:`TCPDispatchClient` (blocking
sockets) and :class:`AsyncTCPClient`, :class:`AsyncSimpleTCPClient`,
:class:`AsyncDispatchTCPClient` (asyncio).  Each takes
``(address, port, family=socket.AF_INET, mode="1.1", timeout=30.0)``; ``mode`` is
:data:`MODE_1_1` (SLIP, the default) or :data:`MODE_1_0` (4-byte size prefix).

The blocking clients live in :mod:`osc_live._tcp_client_sync`, the asyncio ones in
:mod:`osc_live._tcp_client_async`, the dispatch clients of both in
:mod:`osc_live._tcp_client_dispatch`; what they share (framing, the reconnect queue, errors) in
:mod:`osc_live._tcp_client_base`.  This module is their public face.

Every client has ``send(message_or_bundle)``, ``send_message(address, value)``,
``receive(timeout)`` and ``get_messages(timeout)``, and is a context manager (``with`` /
``async with``).  Differences from python-osc, on purpose:

- ``receive(timeout)`` yields parsed :class:`OscMessage` / :class:`OscBundle` objects (the
  reference document's API) instead of returning a list of raw ``bytes``; it keeps yielding
  while packets arrive and ends quietly once ``timeout`` seconds pass with nothing new (or the
  server closes the connection), so ``for``/``async for`` loops finish.  ``receive_raw(timeout)``
  returns python-osc's list of raw packets, and on the async clients ``await
  client.receive(timeout)`` does too, so python-osc code keeps working.
- ``get_messages(timeout)`` yields :class:`OscMessage`, the contents of bundles flattened.
- ``send_message`` exists on every client (the reference calls it on ``TCPClient``).
- Reading uses the stream framers of :mod:`osc_live.framing`: split headers, packets split
  over many reads, several packets in one read and SLIP with a single ``END`` all work.
- An IPv6 literal such as ``"::1"`` connects over IPv6 even with the default
  ``family=socket.AF_INET``.
- Errors name the peer: ``ConnectionRefusedError``, ``ConnectionResetError``,
  ``TimeoutError``... are raised as subclasses (see :mod:`osc_live._net`) whose message
  contains ``host:port``.
- ``timeout`` bounds every blocking step: connecting, a send waiting for a peer that does not
  read (one kernel send timeout, not one per retry), the default wait of ``receive``.  A send
  that times out never reports success for bytes the server cannot frame: if it stopped in
  the middle of a frame the connection is closed (later sends raise the same error); if
  nothing was written the message was not sent and the connection stays usable.
- Opt-in reconnection: ``reconnect=True`` or ``reconnect=ReconnectPolicy(...)``.  See
  :mod:`osc_live._reconnect` and ``docs/transports.md``: on a broken connection (or a send
  timeout) the client reconnects with exponential backoff; a message cut by the failure and
  those sent meanwhile wait in a bounded queue and go out whole, in order; a full queue raises
  :class:`ReconnectQueueFull`; ``on_disconnect(exc)`` and ``on_reconnect()`` callbacks report
  the events.
- ``AsyncDispatchTCPClient`` and ``TCPDispatchClient`` send handler return values back to the
  server (python-osc drops them), including those of future-dated bundles run later.
"""

from __future__ import annotations

from osc_live._reconnect import ReconnectGaveUp, ReconnectPolicy, ReconnectQueueFull
from osc_live._tcp_client_async import AsyncSimpleTCPClient, AsyncTCPClient
from osc_live._tcp_client_base import CLOSE_TIMEOUT, DEFAULT_TIMEOUT, MODE_1_0, MODE_1_1
from osc_live._tcp_client_dispatch import AsyncDispatchTCPClient, TCPDispatchClient
from osc_live._tcp_client_sync import SimpleTCPClient, TCPClient

__all__ = [
    "CLOSE_TIMEOUT",
    "DEFAULT_TIMEOUT",
    "MODE_1_0",
    "MODE_1_1",
    "AsyncDispatchTCPClient",
    "AsyncSimpleTCPClient",
    "AsyncTCPClient",
    "ReconnectGaveUp",
    "ReconnectPolicy",
    "ReconnectQueueFull",
    "SimpleTCPClient",
    "TCPClient",
    "TCPDispatchClient",
]
