"""``%osc replay FILE [@target] [--speed S] [--loop] [--sent] [/pattern]`` (``%osc replay stop``)
and ``osc-live replay FILE URL``: send a recording at its recorded times (docs/recording.md)."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from osc_live.commands.cli_support import cli_endpoint, float_option, take_options
from osc_live.commands.options import split_options, target_name
from osc_live.commands.registry import CliIO, CliUsage, CommandError, ParseContext, Subcommand
from osc_live.commands.subcommands.record import check_pattern, cli_pattern
from osc_live.commands.tokens import GrammarError, Token

__all__ = ["RESOURCE", "SUBCOMMAND", "Replay"]

RESOURCE = "replay"
"""The session resource name of the replay (``%osc close replay`` stops it too)."""


@dataclass(frozen=True)
class Replay:
    """``replay FILE [@target] [--speed S] [--loop] [--sent] [/pattern]``; ``path`` None: stop."""

    path: str | None
    target: str | None = None
    speed: float = 1.0
    loop: bool = False
    pattern: str | None = None
    sent: bool = False


def _speed(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value > 0 or value == float("inf"):
        raise GrammarError(f"bad value {text!r} for --speed: a number > 0", text)
    return value


def parse(tokens: Sequence[Token], ctx: ParseContext) -> Replay:
    """``FILE [@target] [--speed S] [--loop] [--sent] [/pattern]`` | ``stop``."""
    res = ctx.resolver()
    tokens = [Token(res.substitute(t.text, t.text), t.column) for t in tokens]
    pos, opts = split_options(tokens, {"speed": (), "loop": None, "sent": None})
    if not pos:
        raise GrammarError("replay FILE [@target] [--speed S] [--loop] [/pattern]", "replay")
    if pos[0].text == "stop" and len(pos) == 1 and not opts:
        return Replay(None)
    path, target, pattern = pos[0].text, None, None
    for tok in pos[1:]:
        if tok.text.startswith("@") and target is None:
            target = target_name(tok)
        elif tok.text.startswith("/") and pattern is None:
            pattern = check_pattern(tok.text)
        else:
            raise GrammarError(
                f"unexpected {tok.text!r}: replay FILE [@target] [/pattern]", tok.text
            )
    speed = _speed(str(opts["speed"])) if "speed" in opts else 1.0
    return Replay(path, target, speed, bool(opts.get("loop")), pattern, bool(opts.get("sent")))


def run(cmd: Replay, session: Any) -> Any:
    """Start the replay on the session loop (replacing a running one), or stop it."""
    from osc_live.notebook.capture import SessionReplay
    from osc_live.recording import RecordingError
    from osc_live.replay import Replayer

    if cmd.path is None:
        current = session.resources.get(RESOURCE)
        if current is None:
            raise CommandError("no replay is running")
        session.close(RESOURCE)
        return current
    try:  # the file first: a damaged one is reported whatever the target
        replayer = Replayer(
            cmd.path, lambda data: None, speed=cmd.speed, loop=cmd.loop, pattern=cmd.pattern,
            directions=("out",) if cmd.sent else ("in",),
        )  # fmt: skip
    except RecordingError as exc:
        raise CommandError(str(exc)) from None
    except OSError as exc:
        raise CommandError(f"cannot read {cmd.path}: {exc.strerror or exc}") from None
    try:
        target = session.target(cmd.target)
    except (LookupError, ValueError) as exc:
        raise CommandError(str(exc).strip("'\"")) from None
    replay = SessionReplay(session, replayer, target)
    session.add_resource(RESOURCE, replay)
    return replay


# -- osc-live replay ----------------------------------------------------------------------------


def cli(words: list[str], io: CliIO) -> int:
    """``osc-live replay FILE URL [--speed S] [--loop] [--sent] [--mode M] [/pattern]``."""
    spec = {"speed": True, "loop": False, "sent": False, "mode": True}
    rest, opts = take_options(words, spec, anywhere=True)
    if len(rest) not in (2, 3):
        raise CliUsage("usage: osc-live replay FILE URL [--speed S] [--loop] [/pattern]")
    path, url = rest[:2]
    pattern = cli_pattern(rest[2]) if len(rest) == 3 else None
    where = cli_endpoint(url)
    speed = float_option(opts, "speed", 1.0) or 0.0
    if speed <= 0:
        raise CliUsage("--speed must be > 0")
    from osc_live.recording import RecordingError
    from osc_live.replay import Replayer

    try:
        replayer = Replayer(
            path, lambda data: None, speed=speed, loop=bool(opts.get("loop")), pattern=pattern,
            directions=("out",) if opts.get("sent") else ("in",),
        )  # fmt: skip
    except RecordingError as exc:
        io.err.write(f"osc-live replay: {exc}\n")
        return 1
    except OSError as exc:
        io.err.write(f"osc-live replay: cannot read {path}: {exc.strerror or exc}\n")
        return 1
    try:
        return asyncio.run(_replay(replayer, where.url, str(opts.get("mode", "1.1")), io))
    except KeyboardInterrupt:
        return 0


async def _replay(replayer: Any, url: str, mode: str, io: CliIO) -> int:
    from osc_live._links import open_link

    try:
        link = await open_link(url, lambda data: None, mode=mode)
    except (OSError, ConnectionError) as exc:
        io.err.write(f"osc-live replay: cannot reach {url}: {exc}\n")
        return 1
    replayer.send = link.send
    loop = asyncio.get_running_loop()
    with contextlib.suppress(NotImplementedError, RuntimeError):
        loop.add_signal_handler(signal.SIGTERM, replayer.stop)
        loop.add_signal_handler(signal.SIGINT, replayer.stop)
    io.err.write(f"replaying {replayer.info.packets} packets to {url} at {replayer.speed:g}x\n")
    io.err.flush()
    try:
        stats = await replayer.run()
    finally:
        await link.close()
    late = stats.lateness_ms()
    io.err.write(
        f"sent {stats.sent} packets ({stats.loops} passes, {stats.send_errors} errors);"
        f" late p50 {late['p50']:.3f} ms, p99 {late['p99']:.3f} ms\n"
    )
    return 0 if stats.send_errors == 0 else 1


SUBCOMMAND = Subcommand(
    name="replay",
    usage="replay FILE [@target] [--speed S] [--loop] [--sent] [/pattern] | replay stop",
    summary="send a recording to a target at its recorded times (--sent: what was sent)",
    command=Replay,
    parse=parse,
    run=run,
    cli=cli,
    cli_usage=("replay FILE URL [--speed S] [--loop] [--sent] [--mode 1.0|1.1] [/pattern]",),
    options={"speed": (), "loop": None, "sent": None},
)
