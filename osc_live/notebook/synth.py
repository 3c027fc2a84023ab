"""A virtual synth: a loopback OSC receiver that records what it gets and answers queries.

``%osc connect`` with no address starts one, so every notebook works with no external program.
It runs in its own thread (it keeps recording while a cell blocks), listens on UDP and TCP
(OSC 1.0 or 1.1, detected per connection) on 127.0.0.1, honours bundle timetags, and answers:

============================  ===========================================================
``/ping [args]``              ``/pong [args]``
``/status``                   ``/status.reply`` in the scsynth layout
``/get /address``             ``/get.reply /address last-values...``
``/sync id``                  ``/synced id``
``/notify``                   ``/done /notify 0``
``/s_new name id [a t] k v``  creates node ``id`` with controls; ``/n_set id k v ...`` changes them
``/s_get id k ...``           ``/n_set id k value ...`` (the control values, as scsynth answers)
``/n_free id ...``            removes nodes
============================  ===========================================================

What it receives is kept, within bounds (a hostile or runaway sender cannot grow it without
limit): :attr:`VirtualSynth.last` (the last arguments of the ``max_addresses`` most recently
used addresses), :attr:`history` (the latest ``history`` messages with arrival and due
times), :attr:`nodes` (at most ``max_nodes``, as scsynth's default, each with at most
``max_controls`` controls), at most ``max_scheduled`` messages of future-dated bundles waiting,
at most ``max_connections`` TCP connections, and :attr:`count`. What a bound refused is counted
in :attr:`refused` (``{"addresses": …, "nodes": …, "controls": …, "scheduled": …,
"connections": …}``; an address beyond the cap is not refused, the least recent is forgotten).
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import logging
import selectors
import socket
import threading
import time
from collections import Counter, OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from osc_live.errors import OscError
from osc_live.framing import Framer, make_framer
from osc_live.osc_message import OscMessage, encode_message
from osc_live.osc_packet import OscPacket

__all__ = ["Received", "VirtualSynth"]

logger = logging.getLogger("osc_live.synth")

#: default bounds of a :class:`VirtualSynth` (see the module docstring)
MAX_ADDRESSES = 10_000
MAX_NODES = 1024
MAX_CONTROLS = 256
MAX_SCHEDULED = 10_000
MAX_CONNECTIONS = 64
#: largest packet read from a TCP connection (a UDP datagram cannot be larger either)
MAX_PACKET_SIZE = 65_536

Address = tuple[Any, ...]
Reply = tuple[str, list[Any]]


@dataclass(frozen=True)
class Received:
    """One message the synth handled: when it arrived, when it was due, from where."""

    arrived: float
    due: float
    address: str
    args: tuple[Any, ...]
    type_tags: str
    source: str
    transport: str


def _format_peer(peer: Address) -> str:
    """``host:port``, IPv6 hosts in brackets (``[::1]:57120``)."""
    host = str(peer[0])
    return f"[{host}]:{peer[1]}" if ":" in host else f"{host}:{peer[1]}"


class _Conn:
    """A TCP connection: its socket, framer and peer name."""

    def __init__(self, sock: socket.socket, peer: str) -> None:
        self.sock = sock
        self.peer = peer
        self.framer: Framer = make_framer("auto", MAX_PACKET_SIZE)


class VirtualSynth:
    """The embedded loopback synth. ``start()`` binds and starts the thread; ``close()`` stops.

    ``host``: where UDP and TCP bind (``127.0.0.1``; an IPv6 literal such as ``::1`` binds IPv6).
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        udp_port: int = 0,
        tcp_port: int = 0,
        *,
        history: int = 1000,
        on_message: Callable[[Received], None] | None = None,
        max_addresses: int = MAX_ADDRESSES,
        max_nodes: int = MAX_NODES,
        max_controls: int = MAX_CONTROLS,
        max_scheduled: int = MAX_SCHEDULED,
        max_connections: int = MAX_CONNECTIONS,
    ) -> None:
        self.host = host
        self._want = (udp_port, tcp_port)
        self.on_message = on_message
        self.max_addresses = max_addresses
        self.max_nodes = max_nodes
        self.max_controls = max_controls
        self.max_scheduled = max_scheduled
        self.max_connections = max_connections
        self.last: OrderedDict[str, tuple[Any, ...]] = OrderedDict()
        self.history: deque[Received] = deque(maxlen=history)
        self.count = 0
        self.errors = 0
        #: what the bounds refused or forgot, by bound
        self.refused: Counter[str] = Counter()
        self.nodes: dict[int, dict[str, Any]] = {}
        self.started = 0.0
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._sel: selectors.BaseSelector | None = None
        self._udp: socket.socket | None = None
        self._tcp: socket.socket | None = None
        self._wake_r: socket.socket | None = None
        self._wake_w: socket.socket | None = None
        self._conns: dict[int, _Conn] = {}
        self._thread: threading.Thread | None = None
        self._stop = False
        self._due: list[tuple[float, int, OscMessage, str, str, Callable[[Reply], None]]] = []
        self._seq = itertools.count()

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def udp_address(self) -> tuple[str, int]:
        """``(host, port)`` of the UDP socket."""
        if self._udp is None:
            raise RuntimeError("the virtual synth is not running")
        host, port = self._udp.getsockname()[:2]
        return str(host), int(port)

    @property
    def tcp_address(self) -> tuple[str, int]:
        """``(host, port)`` of the TCP listening socket."""
        if self._tcp is None:
            raise RuntimeError("the virtual synth is not running")
        host, port = self._tcp.getsockname()[:2]
        return str(host), int(port)

    @property
    def running(self) -> bool:
        """True between :meth:`start` and :meth:`close`."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> VirtualSynth:
        """Bind UDP and TCP on ``host`` and start the thread (idempotent)."""
        if self.running:
            return self
        sel = selectors.DefaultSelector()
        udp = tcp = None
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        try:
            udp = socket.socket(family, socket.SOCK_DGRAM)
            udp.bind((self.host, self._want[0]))
            udp.setblocking(False)
            tcp = socket.socket(family, socket.SOCK_STREAM)
            tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            tcp.bind((self.host, self._want[1]))
            tcp.listen(16)
            tcp.setblocking(False)
        except OSError:
            for s in (udp, tcp):
                if s is not None:
                    s.close()
            sel.close()
            raise
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        sel.register(udp, selectors.EVENT_READ, "udp")
        sel.register(tcp, selectors.EVENT_READ, "accept")
        sel.register(self._wake_r, selectors.EVENT_READ, "wake")
        self._sel, self._udp, self._tcp = sel, udp, tcp
        self._stop = False
        self.started = time.time()
        self._thread = threading.Thread(target=self._run, name="osc_live-synth", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop the thread and close every socket (idempotent)."""
        thread = self._thread
        if thread is not None:
            self._stop = True
            if self._wake_w is not None:
                with contextlib.suppress(OSError):
                    self._wake_w.send(b"x")
            if thread is not threading.current_thread():
                thread.join(5)
            self._thread = None
        for conn in list(self._conns.values()):
            conn.sock.close()
        self._conns.clear()
        for s in (self._udp, self._tcp, self._wake_r, self._wake_w):
            if s is not None:
                s.close()
        self._udp = self._tcp = self._wake_r = self._wake_w = None
        if self._sel is not None:
            self._sel.close()
            self._sel = None
        self._due.clear()

    def __enter__(self) -> VirtualSynth:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- queries from Python ---------------------------------------------------------------

    def get(self, address: str) -> tuple[Any, ...] | None:
        """The last arguments received on ``address`` (None if never)."""
        with self._lock:
            return self.last.get(address)

    def wait_for(self, count: int, timeout: float = 5.0) -> bool:
        """Block until at least ``count`` messages were handled; False on timeout."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while self.count < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._changed.wait(left)
        return True

    def snapshot(self) -> dict[str, Any]:
        """A JSON-friendly summary: counts, last values per address, nodes."""
        with self._lock:
            return {
                "count": self.count,
                "errors": self.errors,
                "refused": dict(self.refused),
                "last": {a: list(v) for a, v in self.last.items()},
                "nodes": {str(k): dict(v) for k, v in self.nodes.items()},
            }

    # -- the thread ------------------------------------------------------------------------

    def _run(self) -> None:
        sel = self._sel
        assert sel is not None
        while not self._stop:
            timeout = 0.5
            if self._due:
                timeout = max(0.0, min(timeout, self._due[0][0] - time.time()))
            try:
                events = sel.select(timeout)
            except (OSError, ValueError):
                break
            for key, _ in events:
                if self._stop:
                    break
                try:
                    self._ready(key)
                except Exception:  # keep the synth alive whatever a peer sends
                    logger.exception("virtual synth: error handling input")
            self._run_due()

    def _ready(self, key: selectors.SelectorKey) -> None:
        kind = key.data
        if kind == "wake":
            assert self._wake_r is not None
            with contextlib.suppress(BlockingIOError):
                self._wake_r.recv(64)
        elif kind == "udp":
            self._read_udp()
        elif kind == "accept":
            assert self._tcp is not None and self._sel is not None
            try:
                sock, peer = self._tcp.accept()
            except BlockingIOError:
                return
            if len(self._conns) >= self.max_connections:
                with self._lock:
                    self.refused["connections"] += 1
                sock.close()
                return
            sock.setblocking(False)
            conn = _Conn(sock, _format_peer(peer))
            self._conns[sock.fileno()] = conn
            self._sel.register(sock, selectors.EVENT_READ, conn)
        elif isinstance(kind, _Conn):
            self._read_tcp(kind)

    def _read_udp(self) -> None:
        udp = self._udp
        assert udp is not None
        for _ in range(256):
            try:
                data, peer = udp.recvfrom(65536)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:  # ICMP port unreachable from an earlier reply
                continue

            def reply(msg: Reply, peer: Address = peer) -> None:
                with contextlib.suppress(OSError):
                    udp.sendto(encode_message(msg[0], msg[1]), peer)

            self._packet(data, _format_peer(peer), "udp", reply)

    def _read_tcp(self, conn: _Conn) -> None:
        try:
            data = conn.sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self._drop(conn)
            return

        def reply(msg: Reply) -> None:
            with contextlib.suppress(OSError):
                conn.sock.sendall(conn.framer.frame(encode_message(msg[0], msg[1])))

        try:
            packets = conn.framer.feed(data)
        except OscError as err:
            packets = list(getattr(err, "packets", []))
            self.errors += 1
            if getattr(err, "fatal", False):
                self._drop(conn)
        for packet in packets:
            self._packet(packet, conn.peer, "tcp", reply)

    def _drop(self, conn: _Conn) -> None:
        if self._sel is not None:
            with contextlib.suppress(KeyError, ValueError):
                self._sel.unregister(conn.sock)
        self._conns = {k: v for k, v in self._conns.items() if v is not conn}
        conn.sock.close()

    def _packet(
        self, data: bytes, source: str, transport: str, reply: Callable[[Reply], None]
    ) -> None:
        try:
            messages = OscPacket(data).messages
        except OscError:
            with self._lock:
                self.errors += 1
            return
        arrived = time.time()
        for due, message in messages:
            if due > arrived + 0.0005:
                if len(self._due) >= self.max_scheduled:
                    with self._lock:
                        self.refused["scheduled"] += 1
                    continue
                heapq.heappush(self._due, (due, next(self._seq), message, source, transport, reply))
            else:
                self._handle(arrived, arrived, message, source, transport, reply)

    def _run_due(self) -> None:
        now = time.time()
        while self._due and self._due[0][0] <= now:
            due, _, message, source, transport, reply = heapq.heappop(self._due)
            self._handle(now, due, message, source, transport, reply)

    def _handle(
        self,
        arrived: float,
        due: float,
        message: OscMessage,
        source: str,
        transport: str,
        reply: Callable[[Reply], None],
    ) -> None:
        args = tuple(message.params)
        item = Received(arrived, due, message.address, args, message.type_tags, source, transport)
        with self._changed:
            last = self.last
            if message.address in last:
                last.move_to_end(message.address)
            elif len(last) >= self.max_addresses:
                last.popitem(last=False)
                self.refused["addresses"] += 1
            last[message.address] = args
            self.history.append(item)
            answer = self._answer(message.address, args)
            self.count += 1
            self._changed.notify_all()
        if self.on_message is not None:
            try:
                self.on_message(item)
            except Exception:
                logger.exception("virtual synth: on_message callback failed")
        for msg in answer:
            reply(msg)

    # -- behaviour (called with the lock held) ---------------------------------------------

    def _answer(self, address: str, args: tuple[Any, ...]) -> list[Reply]:
        if address == "/ping":
            return [("/pong", list(args))]
        if address == "/status":
            return [("/status.reply", [1, 0, len(self.nodes), 1, 0, 0.0, 0.0, 48000.0, 48000.0])]
        if address == "/sync":
            return [("/synced", list(args[:1]))]
        if address == "/notify":
            return [("/done", ["/notify", 0])]
        if address == "/get":
            out = []
            for name in args:
                value = self.last.get(str(name), ())
                out.append(("/get.reply", [str(name), *value]))
            return out
        if address == "/s_new" and len(args) >= 2 and isinstance(args[1], int):
            if args[1] not in self.nodes and len(self.nodes) >= self.max_nodes:
                self.refused["nodes"] += 1
                return [("/fail", ["/s_new", f"too many nodes (max {self.max_nodes})"])]
            node: dict[str, Any] = {"synthdef": args[0]}
            self._set_controls(node, args[4:] if len(args) >= 4 else ())
            self.nodes[args[1]] = node
            return []
        if address == "/n_set" and args and isinstance(args[0], int):
            existing = self.nodes.get(args[0])
            if existing is None:
                if len(self.nodes) >= self.max_nodes:
                    self.refused["nodes"] += 1
                    return [("/fail", ["/n_set", f"too many nodes (max {self.max_nodes})"])]
                existing = self.nodes[args[0]] = {}
            self._set_controls(existing, args[1:])
            return []
        if address == "/s_get" and args and isinstance(args[0], int):
            node = self.nodes.get(args[0], {})
            values: list[Any] = [args[0]]
            for name in args[1:]:
                values += [name, node.get(str(name), 0.0)]
            return [("/n_set", values)]
        if address == "/n_free":
            for node_id in args:
                self.nodes.pop(node_id, None)
            return []
        return []

    def _set_controls(self, node: dict[str, Any], items: tuple[Any, ...]) -> None:
        """``name value`` pairs into ``node``; new names beyond ``max_controls`` are refused."""
        for i in range(0, len(items) - 1, 2):
            name = str(items[i])
            if name not in node and len(node) - ("synthdef" in node) >= self.max_controls:
                self.refused["controls"] += 1
                continue
            node[name] = items[i + 1]
