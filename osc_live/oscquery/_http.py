"""A bounded, sans-I/O reader of one HTTP/1.x response (the OSCQuery client's).

Feed it bytes as they arrive; it never holds more than ``max_header_bytes`` of head and
``max_body_bytes`` of body, whatever the peer sends (a huge ``Content-Length``, endless
chunks, a never-ending header line), and raises :class:`HttpError` with one line naming what
was wrong. Handles ``Content-Length``, ``Transfer-Encoding: chunked`` and bodies delimited by
the end of the connection; skips ``1xx`` interim responses.
"""

from __future__ import annotations

import re

__all__ = ["DEFAULT_MAX_HEADER_BYTES", "HttpError", "ResponseReader", "request_bytes"]

DEFAULT_MAX_HEADER_BYTES = 64 * 1024

_STATUS = re.compile(rb"HTTP/1\.[01] (\d{3})(?: ([^\r\n]*))?")
_CHUNK_LINE_MAX = 1024


class HttpError(Exception):
    """A response that is not well-formed HTTP, or that is over a limit (one line)."""


def request_bytes(host: str, port: int, target: str) -> bytes:
    """A ``GET target`` request for ``host:port`` that closes the connection afterwards."""
    if any(ch in target for ch in "\r\n ") or not target.startswith("/"):
        raise ValueError(f"bad request target {target!r}")
    authority = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    return (
        f"GET {target} HTTP/1.1\r\nHost: {authority}\r\nAccept: application/json\r\n"
        "User-Agent: osc_live\r\nConnection: close\r\n\r\n"
    ).encode("latin-1")


class ResponseReader:
    """The state of one response being read: feed bytes, then :meth:`finish` at EOF."""

    def __init__(self, max_body_bytes: int, max_header_bytes: int = DEFAULT_MAX_HEADER_BYTES):
        self.max_body_bytes = max_body_bytes
        self.max_header_bytes = max_header_bytes
        self.status = 0
        self.reason = ""
        self.headers: dict[str, str] = {}
        self.done = False
        self._buf = bytearray()
        self._body = bytearray()
        self._state = "head"  # head, length, chunk-size, chunk-data, chunk-end, trailer, close
        self._left = 0

    @property
    def body(self) -> bytes:
        """The body read so far (the whole body once :attr:`done`)."""
        return bytes(self._body)

    def feed(self, data: bytes) -> None:
        """Consume the next bytes of the response."""
        if self.done:
            return
        self._buf += data
        while not self.done and self._step():
            pass

    def finish(self) -> None:
        """The peer closed the connection: complete a close-delimited body or fail."""
        if self.done:
            return
        if self._state == "close":
            self.done = True
            return
        if self._state == "head":
            raise HttpError("connection closed before a complete HTTP response header")
        raise HttpError("connection closed in the middle of the HTTP body")

    # -- the state machine -----------------------------------------------------------------

    def _step(self) -> bool:
        """Advance as far as the buffered bytes allow; False when more bytes are needed."""
        state = self._state
        if state == "head":
            return self._head()
        if state == "length":
            take = min(self._left, len(self._buf))
            self._append(self._buf[:take])
            del self._buf[:take]
            self._left -= take
            if self._left == 0:
                self.done = True
            return not self.done and bool(self._buf)
        if state == "close":
            self._append(self._buf)
            self._buf.clear()
            return False
        if state == "chunk-size":
            line = self._line(_CHUNK_LINE_MAX, "chunk size line")
            if line is None:
                return False
            size_text = line.split(b";", 1)[0].strip()
            if not re.fullmatch(rb"[0-9A-Fa-f]{1,16}", size_text):
                raise HttpError(f"bad chunk size {size_text[:20]!r}")
            size = int(size_text, 16)
            if size == 0:
                self._state = "trailer"
            else:
                self._check_room(size)
                self._left, self._state = size, "chunk-data"
            return True
        if state == "chunk-data":
            take = min(self._left, len(self._buf))
            self._append(self._buf[:take])
            del self._buf[:take]
            self._left -= take
            if self._left:
                return False
            self._state = "chunk-end"
            return True
        if state == "chunk-end":
            if len(self._buf) < 2:
                return False
            if self._buf[:2] != b"\r\n":
                raise HttpError("chunk not followed by CRLF")
            del self._buf[:2]
            self._state = "chunk-size"
            return True
        # trailer: header lines until an empty one
        line = self._line(self.max_header_bytes, "trailer")
        if line is None:
            return False
        if not line:
            self.done = True
        return True

    def _head(self) -> bool:
        end = self._buf.find(b"\r\n\r\n")
        if end < 0:
            if len(self._buf) > self.max_header_bytes:
                raise HttpError(f"HTTP response header longer than {self.max_header_bytes} bytes")
            return False
        if end > self.max_header_bytes:
            raise HttpError(f"HTTP response header longer than {self.max_header_bytes} bytes")
        head = bytes(self._buf[:end])
        del self._buf[: end + 4]
        lines = head.split(b"\r\n")
        match = _STATUS.fullmatch(lines[0])
        if not match:
            raise HttpError(f"not an HTTP response: {lines[0][:60]!r}")
        status = int(match.group(1))
        headers: dict[str, str] = {}
        for raw in lines[1:]:
            name, sep, value = raw.partition(b":")
            if not sep or not name or name != name.strip():
                raise HttpError(f"bad HTTP header line {raw[:60]!r}")
            key = name.decode("latin-1").lower()
            text = value.strip().decode("latin-1")
            headers[key] = f"{headers[key]}, {text}" if key in headers else text
        if 100 <= status < 200:
            return True  # an interim response: the real one follows
        self.status, self.reason = status, (match.group(2) or b"").decode("latin-1")
        self.headers = headers
        encoding = headers.get("transfer-encoding", "").lower()
        if status in (204, 304):
            self.done = True
        elif encoding:
            if encoding.split(",")[-1].strip() != "chunked":
                raise HttpError(f"unsupported Transfer-Encoding {encoding!r}")
            self._state = "chunk-size"
        elif "content-length" in headers:
            text = headers["content-length"]
            if not text.isdigit() or len(text) > 18:
                raise HttpError(f"bad Content-Length {text[:20]!r}")
            self._left = int(text)
            self._check_room(self._left)
            self._state = "length"
            if self._left == 0:
                self.done = True
        else:
            self._state = "close"
        return bool(self._buf) or self.done

    def _line(self, limit: int, what: str) -> bytes | None:
        end = self._buf.find(b"\r\n")
        if end < 0:
            if len(self._buf) > limit:
                raise HttpError(f"{what} longer than {limit} bytes")
            return None
        line = bytes(self._buf[:end])
        del self._buf[: end + 2]
        return line

    def _check_room(self, more: int) -> None:
        if len(self._body) + more > self.max_body_bytes:
            raise HttpError(f"response larger than {self.max_body_bytes} bytes")

    def _append(self, data: bytes | bytearray) -> None:
        self._check_room(len(data))
        self._body += data
