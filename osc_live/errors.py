"""The one exception hierarchy of osc_live.

Every python-osc module name (``osc_message``, ``osc_bundle``, ``osc_packet``,
``osc_message_builder``, ``osc_bundle_builder``, ``parsing.osc_types``) re-exports these same
classes, so ``except osc_message.ParseError`` catches errors raised anywhere in the codec.
"""

from __future__ import annotations

__all__ = ["BuildError", "FramingError", "NtpError", "OscError", "ParseError"]


class OscError(Exception):
    """Base class of every error raised by osc_live."""


class ParseError(OscError, ValueError):
    """Malformed input: the message names what is wrong and, when known, the byte offset.

    ``offset`` is the byte offset of the problem in the datagram being parsed, or None.
    """

    def __init__(self, message: str = "", *args: object, offset: int | None = None) -> None:
        super().__init__(message, *args)
        self.offset = offset


class BuildError(OscError, ValueError):
    """A value or address that cannot be encoded as OSC."""


class NtpError(OscError, ValueError):
    """A time that cannot be represented as an NTP/OSC timetag, or a malformed timetag."""


class FramingError(ParseError):
    """A stream framer met bad data.

    ``packets`` holds every good packet completed by the ``feed`` call that raised (deliver
    them); ``fatal`` is True when the stream cannot continue and the connection must be closed.
    """

    def __init__(
        self,
        message: str = "",
        *args: object,
        packets: list[bytes] | None = None,
        fatal: bool = False,
        offset: int | None = None,
    ) -> None:
        super().__init__(message, *args, offset=offset)
        self.packets: list[bytes] = packets if packets is not None else []
        self.fatal = fatal
