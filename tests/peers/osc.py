"""A deliberately tiny, stdlib-only OSC codec used by the peer fixtures for readiness probes.

It is independent of ``osc_live`` on purpose: the fixtures must keep working while the code under
test is broken. It knows just enough tags for scsynth's replies (``i f s b h d t T F N``).
"""

from __future__ import annotations

import socket
import struct
import time
from collections.abc import Sequence

Arg = int | float | str | bytes | bool | None


def _padded(raw: bytes) -> bytes:
    """``raw`` plus its NUL terminator, padded to a multiple of four bytes."""
    return raw + b"\0" * (4 - len(raw) % 4)


def encode(address: str, args: Sequence[Arg] = ()) -> bytes:
    """Encode one OSC message; ``int`` → i, ``float`` → f, ``str`` → s, ``bytes`` → b."""
    tags = ","
    payload = b""
    for arg in args:
        if arg is True:
            tags += "T"
        elif arg is False:
            tags += "F"
        elif arg is None:
            tags += "N"
        elif isinstance(arg, int):
            tags += "i"
            payload += struct.pack(">i", arg)
        elif isinstance(arg, float):
            tags += "f"
            payload += struct.pack(">f", arg)
        elif isinstance(arg, str):
            tags += "s"
            payload += _padded(arg.encode())
        else:
            tags += "b"
            payload += struct.pack(">i", len(arg)) + arg + b"\0" * (-len(arg) % 4)
    return _padded(address.encode()) + _padded(tags.encode()) + payload


def _string(data: bytes, pos: int) -> tuple[str, int]:
    end = data.index(b"\0", pos)
    return data[pos:end].decode("utf-8", "replace"), (end + 4) & ~3


def decode(data: bytes) -> list[tuple[str, list[object]]]:
    """Decode a message or a bundle (flattened) into ``[(address, args)]``."""
    if data.startswith(b"#bundle\0"):
        out: list[tuple[str, list[object]]] = []
        pos = 16
        while pos + 4 <= len(data):
            (size,) = struct.unpack_from(">i", data, pos)
            out += decode(data[pos + 4 : pos + 4 + size])
            pos += 4 + size
        return out
    address, pos = _string(data, 0)
    if pos >= len(data):
        return [(address, [])]
    tags, pos = _string(data, pos)
    args: list[object] = []
    for tag in tags[1:]:
        if tag in "if":
            args.append(struct.unpack_from(">" + tag, data, pos)[0])
            pos += 4
        elif tag in "hdt":
            args.append(struct.unpack_from({"h": ">q", "d": ">d", "t": ">Q"}[tag], data, pos)[0])
            pos += 8
        elif tag in "sS":
            text, pos = _string(data, pos)
            args.append(text)
        elif tag == "b":
            (size,) = struct.unpack_from(">i", data, pos)
            args.append(data[pos + 4 : pos + 4 + size])
            pos += 4 + size + (-size % 4)
        elif tag in "TFN":
            args.append({"T": True, "F": False, "N": None}[tag])
        else:  # unknown tag: stop here rather than guess its size
            break
    return [(address, args)]


def request_udp(
    port: int, address: str, args: Sequence[Arg], expect: str, timeout: float = 1.0
) -> list[object] | None:
    """Send one message to 127.0.0.1:port over UDP; return the args of the reply ``expect``."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        sock.sendto(encode(address, args), ("127.0.0.1", port))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                data = sock.recv(65535)
            except OSError:
                return None
            for reply_address, reply_args in decode(data):
                if reply_address == expect:
                    return reply_args
    return None


def _recv_exact(sock: socket.socket, size: int) -> bytes:
    buf = b""
    while len(buf) < size:
        chunk = sock.recv(size - len(buf))
        if not chunk:
            raise ConnectionError("peer closed the connection")
        buf += chunk
    return buf


def request_tcp(
    port: int, address: str, args: Sequence[Arg], expect: str, timeout: float = 1.0
) -> list[object] | None:
    """Same as :func:`request_udp` over TCP with the OSC 1.0 size prefix (scsynth's framing)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
            packet = encode(address, args)
            sock.sendall(struct.pack(">i", len(packet)) + packet)
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                (size,) = struct.unpack(">i", _recv_exact(sock, 4))
                for reply_address, reply_args in decode(_recv_exact(sock, size)):
                    if reply_address == expect:
                        return reply_args
    except OSError:
        return None
    return None
