"""The OSCQuery client against hostile or broken servers: one clear line, bounded time."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from osc_live.oscquery import client
from osc_live.oscquery._decode import Limits
from osc_live.oscquery._http import HttpError, ResponseReader

Handler = Callable[[socket.socket], None]


@contextlib.contextmanager
def raw_server(handler: Handler) -> Iterator[str]:
    """A loopback TCP server running ``handler(conn)`` for each connection, in one thread."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.1)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except (TimeoutError, OSError):
                continue
            with conn:
                conn.settimeout(5)
                with contextlib.suppress(OSError):
                    conn.recv(65536)  # the request
                    handler(conn)

    thread = threading.Thread(target=serve, name="hostile-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/"
    finally:
        stop.set()
        thread.join(10)
        listener.close()


def reply(body: bytes, head: bytes = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"):
    def handler(conn: socket.socket) -> None:
        conn.sendall(head + b"Content-Length: %d\r\n\r\n" % len(body) + body)

    return handler


def fails(url: str, match: str, timeout: float = 1.0, **kw) -> float:
    start = time.monotonic()
    with pytest.raises(client.OscQueryError, match=match) as info:
        client.query(url, timeout=timeout, **kw)
    assert "\n" not in str(info.value) and url.rstrip("/") in str(info.value)
    return time.monotonic() - start


def test_a_server_that_never_answers_times_out():
    def silent(conn: socket.socket) -> None:
        time.sleep(1.5)

    with raw_server(silent) as url:
        assert fails(url, "no complete reply within 0.5 s", timeout=0.5) < 1.2


def test_a_trickling_server_is_bounded_in_total_time():
    def trickle(conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n")
        for _ in range(40):
            conn.sendall(b" ")
            time.sleep(0.05)

    with raw_server(trickle) as url:
        assert fails(url, "no complete reply within 0.6 s", timeout=0.6) < 1.3


def test_huge_replies_are_refused_before_reading_them():
    def huge(conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 10000000000\r\n\r\n")

    with raw_server(huge) as url:
        fails(url, "larger than 1000 bytes", limits=Limits(max_bytes=1000))

    def endless(conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        with contextlib.suppress(OSError):
            for _ in range(100):
                conn.sendall(b"400\r\n" + b" " * 0x400 + b"\r\n")

    with raw_server(endless) as url:
        fails(url, "larger than 4096 bytes", limits=Limits(max_bytes=4096))

    def close_delimited(conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.0 200 OK\r\n\r\n")
        with contextlib.suppress(OSError):
            conn.sendall(b"[" * 5000)

    with raw_server(close_delimited) as url:
        fails(url, "larger than 4096 bytes", limits=Limits(max_bytes=4096))


def test_endless_headers_are_refused():
    def headers(conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\n")
        with contextlib.suppress(OSError):
            for _ in range(200):
                conn.sendall(b"X-Junk: " + b"x" * 1000 + b"\r\n")

    with raw_server(headers) as url:
        fails(url, "header longer than 65536 bytes")


@pytest.mark.parametrize(
    ("body", "match"),
    [
        (b"[" * 200 + b"]" * 200, "nested deeper than 64 levels"),
        (b"not json", "not JSON"),
        (b'{"CONTENTS": {"a": {"TYPE": 3}}}', "/a: TYPE is a number"),
        (b'{"CONTENTS": "x"}', "CONTENTS is a string"),
        (b'"just a string"', "node is a string"),
    ],
)
def test_malformed_json_is_one_line(body, match):
    with raw_server(reply(body)) as url:
        fails(url, match)


def test_not_http_and_http_errors():
    with raw_server(lambda c: c.sendall(b"SSH-2.0-OpenSSH\r\n\r\n")) as url:
        fails(url, "bad reply: not an HTTP response")
    with raw_server(reply(b"nope", b"HTTP/1.1 500 Internal Server Error\r\n")) as url:
        fails(url, "HTTP 500 Internal Server Error: nope")
    with raw_server(reply(b"", b"HTTP/1.1 404 Not Found\r\n")) as url:
        fails(url, r"no such node \(404\)")
    with raw_server(lambda c: None) as url:  # closes at once
        fails(url, "connection closed before a complete HTTP response header")


def test_refused_and_bad_urls():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(client.OscQueryError, match="connection refused"):
        client.query(f"http://127.0.0.1:{port}/", timeout=1)
    for bad in ("https://x:1/", "http://nohost/", "ftp://a:1", "http://h:99999/"):
        with pytest.raises(client.OscQueryError):
            client.query(bad)


def test_url_forms():
    assert client.parse_url("5678") == client.ServerUrl("127.0.0.1", 5678, "/")
    assert client.parse_url("localhost:80/fx/") == client.ServerUrl("localhost", 80, "/fx")
    assert client.parse_url("http://[::1]:9/a", "/b").base == "http://[::1]:9/"
    assert str(client.parse_url("http://h:1/a%20b")) == "http://h:1/a b"


def test_chunked_and_interim_responses_are_read():
    body = json.dumps({"FULL_PATH": "/", "CONTENTS": {"x": {"TYPE": "f"}}}).encode()

    def chunked(conn: socket.socket) -> None:
        conn.sendall(
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        for i in range(0, len(body), 7):
            piece = body[i : i + 7]
            conn.sendall(b"%x;ext=1\r\n%s\r\n" % (len(piece), piece))
            time.sleep(0.001)
        conn.sendall(b"0\r\nX-Trailer: 1\r\n\r\n")

    with raw_server(chunked) as url:
        assert client.query(url, timeout=2).find("/x").type == "f"


def test_response_reader_any_chunking():
    raw = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"
    for size in (1, 2, 3, 7, len(raw)):
        reader = ResponseReader(100)
        for i in range(0, len(raw), size):
            reader.feed(raw[i : i + size])
        assert reader.done and reader.body == b"hello" and reader.status == 200
    reader = ResponseReader(100)
    reader.feed(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1")
    assert not reader.done
    with pytest.raises(HttpError, match="bad chunk size"):
        ResponseReader(100).feed(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n\r\n")
    with pytest.raises(HttpError, match="Transfer-Encoding"):
        ResponseReader(100).feed(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n")
    with pytest.raises(HttpError, match="middle of the HTTP body"):
        r = ResponseReader(100)
        r.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nabc")
        r.finish()
