"""Follow a remote OSCQuery server over its WebSocket: LISTEN to paths, receive binary OSC.

::

    follower = ListenClient("ws://127.0.0.1:5678/", ["/fx/reverb"], on_packet, loop=loop)
    follower.start()          # connects, sends {"COMMAND": "LISTEN", "DATA": "/fx/reverb"}
    ...                       # on_packet(bytes) for every OSC packet the server pushes
    follower.close()

Runs as one task on the given asyncio loop (a notebook: the kernel's, so callbacks run where
the widgets live). After a lost connection it reconnects with a growing delay (0.5 s up to
5 s) and LISTENs again, as the proposal asks of clients. Incoming frames are bounded
(64 KiB); text frames (``PATH_ADDED``...) go to ``on_event(command, data)``. Needs
``websockets``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import json
import logging
import threading
from collections.abc import Callable, Iterable
from typing import Any

from osc_live._ws import websockets_module

__all__ = ["ListenClient"]

_log = logging.getLogger("osc_live.oscquery.listen")
MAX_FRAME = 64 * 1024
_DELAYS = (0.5, 1.0, 2.0, 5.0)


class ListenClient:
    """LISTENs to ``paths`` of the server at ``ws_url``; see the module documentation."""

    def __init__(
        self,
        ws_url: str,
        paths: Iterable[str],
        on_packet: Callable[[bytes], object],
        *,
        loop: asyncio.AbstractEventLoop,
        on_event: Callable[[str, Any], None] | None = None,
        open_timeout: float = 5.0,
    ) -> None:
        self.ws_url = ws_url
        self.paths = list(dict.fromkeys(paths))
        self.on_packet = on_packet
        self.on_event = on_event
        self.loop = loop
        self.open_timeout = open_timeout
        self.connected = False
        self.received = 0
        self.connections = 0
        self.last_error: str | None = None
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        self._ready = threading.Event()
        self._conn: Any = None

    def start(self) -> ListenClient:
        """Start following (from any thread); returns at once."""
        websockets_module("asyncio.client")  # ImportError now, not in the task
        if self._task is None:
            self.loop.call_soon_threadsafe(self._spawn)
        return self

    def wait_connected(self, timeout: float = 5.0) -> bool:
        """Block until the first LISTENs were sent (not from the loop's own thread)."""
        return self._ready.wait(timeout)

    def _spawn(self) -> None:
        if self._task is None and not self._closed:
            self._task = self.loop.create_task(self._run())

    async def _run(self) -> None:
        client = websockets_module("asyncio.client")
        attempt = 0
        while not self._closed:
            try:
                async with client.connect(
                    self.ws_url,
                    open_timeout=self.open_timeout,
                    max_size=MAX_FRAME,
                    max_queue=64,
                    compression=None,
                    close_timeout=1,
                ) as conn:
                    self.connections += 1
                    self._conn = conn
                    for path in self.paths:
                        await conn.send(json.dumps({"COMMAND": "LISTEN", "DATA": path}))
                    self.connected, attempt = True, 0
                    self._ready.set()
                    async for frame in conn:
                        self._frame(frame)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.last_error = f"{type(exc).__name__}: {exc}".splitlines()[0]
                _log.debug("LISTEN connection to %s: %s", self.ws_url, self.last_error)
            finally:
                self.connected, self._conn = False, None
            if self._closed:
                break
            await asyncio.sleep(_DELAYS[min(attempt, len(_DELAYS) - 1)])
            attempt += 1

    def _frame(self, frame: str | bytes) -> None:
        if isinstance(frame, bytes):
            self.received += 1
            try:
                self.on_packet(frame)
            except Exception:
                _log.exception("handling a packet from %s failed", self.ws_url)
            return
        try:
            message = json.loads(frame)
        except ValueError:
            return
        if isinstance(message, dict) and self.on_event is not None:
            try:
                self.on_event(str(message.get("COMMAND")), message.get("DATA"))
            except Exception:
                _log.exception("handling %r from %s failed", message, self.ws_url)

    def close(self, timeout: float = 5.0) -> None:
        """Stop following and close the connection (idempotent, from any thread)."""
        self._closed = True
        task, self._task = self._task, None
        if task is None or self.loop.is_closed():
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self.loop or not self.loop.is_running():
            task.cancel()  # finishes on the loop's next turn (or when the loop closes)
            return

        async def stop() -> None:
            conn = self._conn
            if conn is not None:  # a clean close (1000) rather than the 1011 of a cancel
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(conn.close(), 2)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

        future = asyncio.run_coroutine_threadsafe(stop(), self.loop)
        with contextlib.suppress(concurrent.futures.TimeoutError, RuntimeError):
            future.result(timeout)

    def __repr__(self) -> str:
        state = "connected" if self.connected else "closed" if self._closed else "connecting"
        return f"<ListenClient {self.ws_url} {state} paths={len(self.paths)} got={self.received}>"
