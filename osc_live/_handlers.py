"""What the dispatcher calls and counts: ``Handler`` (python-osc's call shapes), the
``DispatcherStats`` counters, ``encode_replies`` and running a coroutine handler to completion.

Public through :mod:`osc_live.dispatcher`.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from osc_live.errors import BuildError
from osc_live.osc_message import OscMessage, encode_message

__all__ = [
    "DispatcherStats",
    "Handler",
    "ReplyCallback",
    "encode_replies",
    "logger",
    "run_coroutine",
]

logger = logging.getLogger("osc_live.dispatcher")

ReplyCallback = Callable[[list[Any]], Any]
"""``reply(results)``: receives the results of handlers that ran later (scheduled)."""


class Handler:
    """A callback mapped to an address, with its fixed arguments (python-osc compatible).

    ``callback`` is called as ``callback([client_address,] address, [args,] *osc_args)``:
    ``client_address`` only when ``needs_reply_address``, ``args`` (the list of fixed
    arguments given to ``map``) only when it is not empty.
    """

    def __init__(
        self,
        _callback: Callable[..., Any],
        _args: Any | list[Any],
        _needs_reply_address: bool = False,
    ) -> None:
        """Wrap ``_callback`` with fixed arguments ``_args``."""
        self.callback = _callback
        self.args = _args
        self.needs_reply_address = _needs_reply_address

    def __eq__(self, other: object) -> bool:
        """Equal when callback, fixed args and needs_reply_address are equal."""
        return (
            isinstance(self, type(other))
            and self.callback == other.callback  # type: ignore[attr-defined]
            and self.args == other.args  # type: ignore[attr-defined]
            and self.needs_reply_address == other.needs_reply_address  # type: ignore[attr-defined]
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        name = getattr(self.callback, "__qualname__", None) or repr(self.callback)
        extra = ", needs_reply_address=True" if self.needs_reply_address else ""
        return f"Handler({name}, {self.args!r}{extra})"

    def invoke(self, client_address: tuple[str, int] | Any, message: OscMessage) -> Any:
        """Call the callback for ``message``; return its result (a coroutine for async ones)."""
        if self.needs_reply_address:
            if self.args:
                return self.callback(client_address, message.address, self.args, *message)
            return self.callback(client_address, message.address, *message)
        if self.args:
            return self.callback(message.address, self.args, *message)
        return self.callback(message.address, *message)

    async def async_invoke(self, client_address: tuple[str, int] | Any, message: OscMessage) -> Any:
        """Call the callback for ``message``, awaiting it if it is a coroutine function."""
        result = self.invoke(client_address, message)
        if inspect.isawaitable(result):
            return await result
        return result


class DispatcherStats:
    """Counters of one dispatcher (approximate when several threads dispatch at once)."""

    __slots__ = (
        "dropped",
        "handler_errors",
        "messages",
        "packets",
        "parse_errors",
        "scheduled",
        "unmatched",
    )

    def __init__(self) -> None:
        self.packets = 0
        """Packets given to ``call_handlers_for_packet`` / ``async_call_handlers_for_packet``."""
        self.messages = 0
        """Messages dispatched (now or later)."""
        self.parse_errors = 0
        """Malformed packets ignored."""
        self.unmatched = 0
        """Messages whose address matched no mapping (the default handler got them, if any)."""
        self.scheduled = 0
        """Messages of future-dated bundles scheduled for later."""
        self.dropped = 0
        """Future messages refused because ``max_scheduled`` messages or
        ``max_scheduled_bytes`` bytes were already waiting."""
        self.handler_errors = 0
        """Exceptions raised by scheduled handlers or ``reply`` (logged, not propagated)."""

    def as_dict(self) -> dict[str, int]:
        """The counters as a dict."""
        return {name: getattr(self, name) for name in sorted(self.__slots__)}

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={v}" for k, v in self.as_dict().items())
        return f"DispatcherStats({inner})"


def encode_replies(results: Iterable[Any]) -> list[bytes]:
    """Encode handler results as OSC messages, as python-osc servers do.

    A ``str`` is an address without arguments; a tuple or list is ``(address, *args)``.
    Anything else, or a result that cannot be encoded, is logged on
    ``osc_live.dispatcher`` and skipped (the other results are still encoded).
    """
    out: list[bytes] = []
    for result in results:
        if isinstance(result, str):
            address: str = result
            args: Sequence[Any] = ()
        elif isinstance(result, (tuple, list)) and result and isinstance(result[0], str):
            address = result[0]
            args = result[1:]
        else:
            logger.warning(
                "handler result %.200r is not an OSC reply (an address str or a tuple"
                " (address, *args)); not sent",
                result,
            )
            continue
        try:
            out.append(encode_message(address, args))
        except BuildError as exc:
            logger.warning("handler result %.200r cannot be encoded: %s; not sent", result, exc)
    return out


def run_coroutine(coro: Any) -> Any:
    """Run a coroutine to completion on a private event loop (sync path, no running loop)."""
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(coro)
    finally:
        try:
            loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            loop.close()
