"""What every asyncio OSC stream server shares: ``async with``, and ``start()`` until ``stop()``.

A server class inherits :class:`AsyncServing`, defines ``listen()`` (open the socket; idempotent)
and ``stop()``, calls :meth:`AsyncServing._serving` when ``listen`` opens the socket and
:meth:`AsyncServing._served` at the end of ``stop``::

    async with Server(...) as server:    # listening on entry, stopped on exit
        ...
    await server.start()                 # listen, serve until server.stop() (or cancelled)

Standard library only.
"""

from __future__ import annotations

import asyncio
from typing import Any, TypeVar

__all__ = ["AsyncServing"]

_S = TypeVar("_S", bound="AsyncServing")


class AsyncServing:
    """``async with`` / :meth:`start` / :meth:`serve` for a server with ``listen`` and ``stop``."""

    _stopped: asyncio.Event | None = None

    async def listen(self) -> None:
        """Open the listening socket and start accepting (idempotent)."""
        raise NotImplementedError

    async def stop(self) -> None:
        """Stop listening and close the connections."""
        raise NotImplementedError

    def _serving(self) -> None:
        """``listen`` opened the socket: :meth:`start` now waits for :meth:`_served`."""
        self._stopped = asyncio.Event()

    def _served(self) -> None:
        """``stop`` is done: :meth:`start` returns."""
        if self._stopped is not None:
            self._stopped.set()

    async def start(self) -> None:
        """Listen and serve until :meth:`stop` is called (then return normally); cancelled,
        stop first."""
        await self.listen()
        assert self._stopped is not None
        try:
            await self._stopped.wait()
        except asyncio.CancelledError:
            await self.stop()
            raise

    async def serve(self) -> None:
        """Alias of :meth:`start`."""
        await self.start()

    async def __aenter__(self: _S) -> _S:
        """Listen and return the server."""
        await self.listen()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        """Stop the server."""
        await self.stop()
