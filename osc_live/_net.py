"""Shared socket helpers for the transports (TCP and UDP): addresses, families, named errors.

Stable internal API (the TCP modules own this file; the UDP modules may import from it):

- :func:`format_address` -- ``"host:port"``, IPv6 hosts in brackets (``"[::1]:9000"``).
- :func:`strip_brackets` -- ``"[::1]"`` -> ``"::1"``.
- :func:`is_ipv6_literal` / :func:`is_ipv4_literal` -- literal address tests (no DNS).
- :func:`family_for_host` -- the address family to use for ``host``: an IPv6 literal gets
  ``AF_INET6`` even when the caller left python-osc's default ``AF_INET``.
- :func:`resolve` -- ``getaddrinfo`` for one socket type; failures raise ``socket.gaierror``
  naming ``host:port``.
- :func:`connect_tcp` -- a connected, ``TCP_NODELAY`` stream socket, trying every address.
- :func:`set_send_timeout` -- blocking mode plus a kernel send timeout (no poll per send).
- :func:`named_error` -- turn any ``OSError`` into one that names ``host:port`` while keeping
  its builtin class (``ConnectionRefusedError``, ``TimeoutError``...): the result is an
  instance of a subclass of the original class and of :class:`NetError`, with ``.host``,
  ``.port`` and ``.errno`` set, so ``except ConnectionRefusedError`` keeps working.
- :func:`set_recv_buffer` -- ask for a larger ``SO_RCVBUF`` (capped quietly by the kernel),
  return the effective size; :data:`DEFAULT_UDP_RECV_BUFFER` (4 MiB) is what UDP sockets ask.
- :func:`unsent_bytes` -- bytes a stream socket's kernel has not had acknowledged yet (Linux
  ``SIOCOUTQ``; None where unknown).
- :data:`RECV_SIZE` (64 KiB), :data:`DEFAULT_BIND_HOST` (``"127.0.0.1"``).

Only the standard library is imported here.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import socket
import struct
import time
from typing import Any

__all__ = [
    "DEFAULT_BIND_HOST",
    "DEFAULT_UDP_RECV_BUFFER",
    "RECV_SIZE",
    "NetError",
    "OscBrokenPipeError",
    "OscConnectionAbortedError",
    "OscConnectionRefusedError",
    "OscConnectionResetError",
    "OscTimeoutError",
    "SockAddr",
    "check_recv_buffer",
    "connect_tcp",
    "family_for_host",
    "format_address",
    "is_ipv4_literal",
    "is_ipv6_literal",
    "local_host_port",
    "named_error",
    "recv_buffer_size",
    "resolve",
    "running_loop",
    "set_recv_buffer",
    "set_send_timeout",
    "strip_brackets",
    "tune_stream_socket",
    "unsent_bytes",
]

RECV_SIZE = 1 << 16
"""Bytes asked for by every ``recv`` of the transports (64 KiB)."""

DEFAULT_UDP_RECV_BUFFER = 4 << 20
"""``SO_RCVBUF`` the UDP servers and clients ask for (4 MiB): the Linux default (~208 KiB) holds
only about 3000 small datagrams, so a receiver that falls behind for a moment drops the rest.
The kernel caps the request at ``net.core.rmem_max``."""

DEFAULT_BIND_HOST = "127.0.0.1"
"""Host a server binds when the caller gives none: loopback, never every interface."""

_logger = logging.getLogger("osc_live._net")

SockAddr = Any
"""A socket address as returned by ``getaddrinfo`` (2-tuple for IPv4, 4-tuple for IPv6)."""


def strip_brackets(host: str) -> str:
    """Return ``host`` without the brackets of a URL-style IPv6 literal (``"[::1]"``)."""
    if len(host) > 2 and host[0] == "[" and host[-1] == "]":
        return host[1:-1]
    return host


def is_ipv6_literal(host: str) -> bool:
    """True when ``host`` is an IPv6 address literal (with or without brackets or zone)."""
    h = strip_brackets(host).split("%", 1)[0]
    if ":" not in h:
        return False
    try:
        socket.inet_pton(socket.AF_INET6, h)
    except (OSError, ValueError):
        return False
    return True


def is_ipv4_literal(host: str) -> bool:
    """True when ``host`` is a dotted-quad IPv4 address literal."""
    try:
        socket.inet_pton(socket.AF_INET, host)
    except (OSError, ValueError):
        return False
    return True


def format_address(host: Any, port: Any) -> str:
    """``"host:port"`` for messages; IPv6 hosts are bracketed (``"[::1]:8000"``)."""
    h = host.decode("ascii", "replace") if isinstance(host, (bytes, bytearray)) else str(host)
    if ":" in h and not h.startswith("["):
        h = f"[{h}]"
    return f"{h}:{port}"


def family_for_host(host: str, family: int = socket.AF_INET) -> socket.AddressFamily:
    """The family to use for ``host``.

    ``family`` is honoured, except that an IPv6 literal (``"::1"``) always gets ``AF_INET6``:
    python-osc's default ``family=AF_INET`` would otherwise make ``"::1"`` fail. ``AF_UNSPEC``
    is returned as is (``getaddrinfo`` then picks).
    """
    if family == socket.AF_INET and is_ipv6_literal(host):
        return socket.AF_INET6
    return socket.AddressFamily(family)


def resolve(
    host: str,
    port: int,
    family: int = socket.AF_INET,
    socktype: int = socket.SOCK_STREAM,
    *,
    passive: bool = False,
) -> list[tuple[socket.AddressFamily, SockAddr]]:
    """Resolve ``host``/``port`` to ``[(family, sockaddr), ...]`` for ``socktype``.

    The family is chosen by :func:`family_for_host`. Resolution failures raise
    ``socket.gaierror`` whose message names ``host:port``.
    """
    h = strip_brackets(host)
    fam = family_for_host(h, family)
    flags = socket.AI_PASSIVE if passive else 0
    try:
        infos = socket.getaddrinfo(h or None, port, fam, socktype, 0, flags)
    except socket.gaierror as exc:
        err = socket.gaierror(exc.errno, f"cannot resolve {format_address(host, port)}: {exc}")
        raise err from exc
    result: list[tuple[socket.AddressFamily, SockAddr]] = []
    for af, _type, _proto, _canon, sockaddr in infos:
        if (af, sockaddr) not in result:
            result.append((af, sockaddr))
    if not result:  # pragma: no cover - getaddrinfo raises instead
        raise socket.gaierror(errno.ENOENT, f"no address found for {format_address(host, port)}")
    return result


class NetError(OSError):
    """An ``OSError`` naming the peer: ``.host`` and ``.port`` tell which one.

    The concrete classes also derive from the matching builtin (``ConnectionRefusedError``,
    ``ConnectionResetError``, ``TimeoutError``...), so existing ``except`` clauses still match.
    """

    host: str = ""
    port: int = 0


class OscConnectionRefusedError(NetError, ConnectionRefusedError):
    """Connection refused, naming host and port."""


class OscConnectionResetError(NetError, ConnectionResetError):
    """Connection reset by the peer, naming host and port."""


class OscConnectionAbortedError(NetError, ConnectionAbortedError):
    """Connection aborted, naming host and port."""


class OscBrokenPipeError(NetError, BrokenPipeError):
    """Write on a connection the peer has closed, naming host and port."""


class OscTimeoutError(NetError, TimeoutError):
    """Timed out (``socket.timeout`` is ``TimeoutError``), naming host and port."""


_NAMED: tuple[tuple[type[OSError], type[NetError]], ...] = (
    (ConnectionRefusedError, OscConnectionRefusedError),
    (ConnectionResetError, OscConnectionResetError),
    (ConnectionAbortedError, OscConnectionAbortedError),
    (BrokenPipeError, OscBrokenPipeError),
    (TimeoutError, OscTimeoutError),
)


def named_error(exc: BaseException, host: Any, port: Any, action: str = "connection to") -> OSError:
    """Return an ``OSError`` like ``exc`` whose message names ``host:port``.

    ``action`` is the phrase before the address (``"connecting to"``, ``"sending to"``...).
    An ``exc`` that already is a :class:`NetError` is returned unchanged. The result keeps
    ``exc``'s builtin class (through a :class:`NetError` subclass) and its ``errno``.
    """
    if isinstance(exc, NetError):
        return exc
    where = format_address(host, port)
    cls: type[OSError] = NetError
    for builtin, named in _NAMED:
        if isinstance(exc, builtin):
            cls = named
            break
    code = getattr(exc, "errno", None)
    reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    if isinstance(exc, BlockingIOError):  # a kernel send timeout (SO_SNDTIMEO) fired
        cls = OscTimeoutError
        code = errno.ETIMEDOUT
        reason = "timed out (the peer is not reading)"
    if isinstance(exc, TimeoutError) and code is None:
        code = errno.ETIMEDOUT
        reason = "timed out"
    message = f"{action} {where}: {reason}"
    err: OSError = cls(code, message) if code is not None else cls(message)
    if isinstance(err, NetError):
        err.host = str(host)
        err.port = int(port) if isinstance(port, int) else 0
    return err


def recv_buffer_size(sock: Any) -> int:
    """The socket's effective ``SO_RCVBUF`` as the kernel reports it (0 if it cannot tell).

    Linux reports twice what was granted (the second half is its bookkeeping overhead).
    """
    try:
        return int(sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF))
    except (OSError, AttributeError):
        return 0


_MAX_SOCKOPT_INT = (1 << 31) - 1  # setsockopt takes a C int: larger requests are capped here


def check_recv_buffer(size: int | None) -> int | None:
    """Validate a ``recv_buffer_size`` argument: an int >= 0 or None (0 and None: default).

    Returns the size to ask for (None: leave the default), at most the largest C int.
    """
    if size is None:
        return None
    if isinstance(size, bool) or not isinstance(size, int):
        raise TypeError(f"recv_buffer_size must be an int or None, not {type(size).__name__}")
    if size < 0:
        raise ValueError(f"recv_buffer_size must be >= 0, not {size}")
    return min(size, _MAX_SOCKOPT_INT) or None


def set_recv_buffer(sock: Any, size: int | None) -> int:
    """Ask for a receive buffer of ``size`` bytes; return the effective size (see above).

    ``None`` (or 0) leaves the system default.  The kernel caps the request at
    ``net.core.rmem_max`` without an error; that, or a platform refusing the option, is only
    logged at debug level on ``osc_live._net``: a smaller buffer is not a failure.
    ``sock`` is a ``socket.socket`` or asyncio's transport socket.
    """
    size = check_recv_buffer(size)
    if size is None:
        return recv_buffer_size(sock)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, size)
    except OSError as exc:
        _logger.debug("SO_RCVBUF %d refused: %s", size, exc)
    effective = recv_buffer_size(sock)
    if effective < size:
        _logger.debug(
            "receive buffer of %d bytes asked, %d granted (raise net.core.rmem_max for more)",
            size,
            effective,
        )
    return effective


def running_loop() -> asyncio.AbstractEventLoop | None:
    """The event loop running in this thread, None outside one (to tell whether a callback
    from any thread may touch a loop's objects directly or must go through
    ``call_soon_threadsafe``)."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def tune_stream_socket(sock: socket.socket) -> None:
    """Set ``TCP_NODELAY`` on a TCP socket (OSC messages are small and latency matters)."""
    with contextlib.suppress(OSError):  # not a TCP socket
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def local_host_port(sock: Any) -> tuple[str, int] | None:
    """``(host, port)`` of ``sock``'s local end (a socket or asyncio's transport socket; IPv6's
    flow and scope ids left out); None for no socket, a closed one or one not bound yet."""
    if sock is None:
        return None
    try:
        local = sock.getsockname()
    except OSError:
        return None
    if not isinstance(local, tuple) or not local[1]:
        return None
    return (local[0], local[1])


def unsent_bytes(fileno: int) -> int | None:
    """Bytes the kernel still holds for sending on the stream socket ``fileno`` (sent but not
    acknowledged by the peer's kernel, or not sent yet); None where the system cannot tell.

    Linux's ``SIOCOUTQ`` (the ``TIOCOUTQ`` ioctl on a socket).  A close that resets the
    connection destroys these bytes: they are what the peer can no longer get.
    """
    try:
        import fcntl
        import termios

        out = fcntl.ioctl(fileno, termios.TIOCOUTQ, b"\0\0\0\0")
    except (ImportError, OSError, AttributeError, ValueError):
        return None
    return int.from_bytes(out, "little", signed=True) if len(out) == 4 else None


def set_send_timeout(sock: socket.socket, timeout: float | None) -> None:
    """Put ``sock`` in blocking mode with a kernel send timeout (``SO_SNDTIMEO``).

    A Python socket timeout makes every ``send``/``recv`` poll first (one more system call per
    message); a kernel send timeout costs nothing until it fires.  A ``sendall`` that times out
    then raises ``BlockingIOError``, which :func:`named_error` turns into a ``TimeoutError``.
    ``None`` (or <= 0) means no send timeout.  Receiving should wait with ``poll``/``select``.
    """
    sock.settimeout(None)
    if timeout is None or timeout <= 0 or not hasattr(socket, "SO_SNDTIMEO"):
        return
    seconds = int(timeout)
    micros = int((timeout - seconds) * 1_000_000)
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, struct.pack("ll", seconds, micros))


def connect_tcp(
    host: str, port: int, family: int = socket.AF_INET, timeout: float | None = None
) -> socket.socket:
    """Connect a TCP socket to ``host:port`` (every resolved address in turn).

    ``timeout`` bounds the whole attempt, all addresses together; the connected socket is then
    in blocking mode with ``timeout`` as kernel send timeout (:func:`set_send_timeout`) and
    ``TCP_NODELAY``.  Failures raise :func:`named_error` exceptions
    (``ConnectionRefusedError`` subclasses...).
    """
    deadline = None if timeout is None else time.monotonic() + timeout
    last: BaseException | None = None
    for af, sockaddr in resolve(host, port, family, socket.SOCK_STREAM):
        remaining = None if deadline is None else deadline - time.monotonic()
        if remaining is not None and remaining <= 0:
            last = TimeoutError("timed out")
            break
        sock = socket.socket(af, socket.SOCK_STREAM)
        try:
            sock.settimeout(remaining)
            sock.connect(sockaddr)
        except OSError as exc:
            sock.close()
            last = exc
            continue
        tune_stream_socket(sock)
        set_send_timeout(sock, timeout)
        return sock
    assert last is not None
    raise named_error(last, host, port, "connecting to") from last
