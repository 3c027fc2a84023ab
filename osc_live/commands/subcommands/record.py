"""``%osc record FILE [/pattern] [--listener NAME] [--sent]`` ... ``%osc record stop``, and
``osc-live record FILE URL [/pattern]``: recordings of OSC traffic (see docs/recording.md)."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from osc_live.commands.cli_support import cli_endpoint, float_option, hostport, take_options
from osc_live.commands.options import name, split_options
from osc_live.commands.registry import CliIO, CliUsage, CommandError, ParseContext, Subcommand
from osc_live.commands.tokens import GrammarError, Token

__all__ = ["RESOURCE", "SUBCOMMAND", "Record", "check_pattern", "cli_pattern"]

RESOURCE = "record"
"""The session resource name of the recording (``%osc close record`` stops it too)."""


@dataclass(frozen=True)
class Record:
    """``record FILE [/pattern] [--listener NAME] [--sent]`` or ``record stop`` (``path``
    None)."""

    path: str | None
    pattern: str | None = None
    sent: bool = False
    listener: str | None = None


def cli_pattern(text: str) -> str:
    """A /pattern word of the command line (CliUsage when malformed)."""
    try:
        return check_pattern(text)
    except GrammarError as exc:
        raise CliUsage(str(exc)) from None


def check_pattern(text: str) -> str:
    """An OSC address pattern word (GrammarError if malformed)."""
    from osc_live._pattern import compile_pattern

    if not text.startswith("/") or compile_pattern(text) is None:
        raise GrammarError(f"bad address pattern {text!r}", text)
    return text


def parse(tokens: Sequence[Token], ctx: ParseContext) -> Record:
    """``FILE [/pattern] [--sent]`` | ``stop``."""
    res = ctx.resolver()
    tokens = [Token(res.substitute(t.text, t.text), t.column) for t in tokens]
    pos, opts = split_options(tokens, {"sent": None, "listener": ()})
    if not pos:
        raise GrammarError("record FILE [/pattern] [--listener NAME] [--sent] | stop", "record")
    if pos[0].text == "stop" and len(pos) == 1 and not opts:
        return Record(None)
    if len(pos) > 2:
        raise GrammarError(f"unexpected {pos[2].text!r}: record FILE [/pattern]", pos[2].text)
    pattern = check_pattern(pos[1].text) if len(pos) == 2 else None
    listener = None
    if "listener" in opts:
        listener = name(Token(str(opts["listener"]), 0), "listener name")
    return Record(pos[0].text, pattern, bool(opts.get("sent", False)), listener)


def run(cmd: Record, session: Any) -> Any:
    """Start (replacing a running recording) or stop; returns the recording or a summary."""
    from osc_live.notebook.capture import SessionRecording

    if cmd.path is None:
        current = session.resources.get(RESOURCE)
        if current is None:
            raise CommandError("no recording is running")
        session.close(RESOURCE)
        return current
    try:
        recording = SessionRecording(
            session, cmd.path, pattern=cmd.pattern, sent=cmd.sent, listener=cmd.listener
        )
    except LookupError as exc:
        raise CommandError(str(exc).strip("'\"")) from None
    except OSError as exc:
        raise CommandError(f"cannot record to {cmd.path}: {exc.strerror or exc}") from None
    session.add_resource(RESOURCE, recording)
    return recording


# -- osc-live record ----------------------------------------------------------------------------


def cli(words: list[str], io: CliIO) -> int:
    """``osc-live record FILE URL [/pattern] [--mode M] [--duration S] [--count N]``."""
    rest, opts = take_options(words, {"mode": True, "duration": True, "count": True}, anywhere=True)
    if len(rest) not in (2, 3):
        raise CliUsage("usage: osc-live record FILE URL [/pattern]")
    path, url = rest[:2]
    pattern = cli_pattern(rest[2]) if len(rest) == 3 else None
    where = cli_endpoint(url, listening=True)
    duration = float_option(opts, "duration", None)
    count = float_option(opts, "count", None)
    try:
        return asyncio.run(
            _record(path, where, pattern, str(opts.get("mode", "auto")), duration, count, io)
        )
    except KeyboardInterrupt:
        return 0


async def _record(
    path: str,
    where: Any,
    pattern: str | None,
    mode: str,
    duration: float | None,
    count: float | None,
    io: CliIO,
) -> int:
    from osc_live._links import serve_raw
    from osc_live.recording import Recorder

    done = asyncio.Event()
    with Recorder(path, pattern=pattern, source=where.url) as rec:

        def seen(data: bytes, client_address: Any) -> None:
            peer = f"{where.scheme}:{hostport(*client_address[:2])}" if client_address else ""
            rec.record(data, peer)
            if count is not None and rec.packets >= count:
                done.set()

        try:
            bound, stop = await serve_raw(where, seen, mode=mode)
        except OSError as exc:
            io.err.write(f"osc-live record: cannot listen on {where.url}: {exc}\n")
            return 1
        io.err.write(f"recording {where.scheme}://{hostport(*bound[:2])} to {path}\n")
        io.err.flush()
        loop = asyncio.get_running_loop()
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signal.SIGTERM, done.set)
            loop.add_signal_handler(signal.SIGINT, done.set)
        try:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(done.wait(), duration)
        finally:
            await stop()
    io.err.write(f"recorded {rec.packets} packets ({rec.filtered} filtered) to {path}\n")
    return 0


SUBCOMMAND = Subcommand(
    name="record",
    usage="record FILE [/pattern] [--listener NAME] [--sent] | record stop",
    summary="record every packet received (--sent: and sent) with its time to a JSON Lines file",
    command=Record,
    parse=parse,
    run=run,
    cli=cli,
    cli_usage=(
        "record FILE URL [/pattern] [--mode 1.0|1.1|auto] [--duration S] [--count N]"
        "   (until Ctrl-C)",
    ),
    options={"sent": None, "listener": ()},
)
