"""``%osc bridge ws://host:port TARGET [--lan] [--broadcast] [--origin URL] [--mode M]`` and
``osc-live bridge``: relay OSC between WebSocket clients (browsers) and a UDP/TCP target
(docs/websocket.md)."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from osc_live.commands.cli_support import take_options
from osc_live.commands.options import endpoint, split_options
from osc_live.commands.registry import CliIO, CliUsage, CommandError, ParseContext, Subcommand
from osc_live.commands.tokens import GrammarError, Token

__all__ = ["RESOURCE", "SUBCOMMAND", "Bridge"]

RESOURCE = "bridge"
USAGE = "bridge ws://host:port udp://host:port|tcp://host:port [--lan] [--broadcast] [--origin URL]"


@dataclass(frozen=True)
class Bridge:
    """``bridge LISTEN TARGET [options]``; ``listen`` None: ``bridge stop``."""

    listen: str | None
    target: str = ""
    lan: bool = False
    broadcast: bool = False
    origins: tuple[str, ...] = field(default_factory=tuple)
    mode: str = "1.1"


def _check(listen: str, target: str) -> tuple[str, str]:
    where = endpoint(listen if "://" in listen else "ws://" + listen, listening=True)
    if where.scheme != "ws":
        raise GrammarError(f"the bridge listens on ws://host:port, not {listen!r}", listen)
    goal = endpoint(target)
    return where.url, goal.url


def parse(tokens: Sequence[Token], ctx: ParseContext) -> Bridge:
    """``LISTEN TARGET [--lan] [--broadcast] [--origin URL] [--mode 1.0|1.1]`` | ``stop``."""
    res = ctx.resolver()
    tokens = [Token(res.substitute(t.text, t.text), t.column) for t in tokens]
    origins = tuple(tokens[i + 1].text for i, t in enumerate(tokens[:-1]) if t.text == "--origin")
    kept: list[Token] = []
    skip = False
    for i, tok in enumerate(tokens):
        if skip:
            skip = False
            continue
        if tok.text == "--origin" and i + 1 < len(tokens):
            skip = True
            continue
        kept.append(tok)
    pos, opts = split_options(kept, {"lan": None, "broadcast": None, "mode": ("1.0", "1.1")})
    if len(pos) == 1 and pos[0].text == "stop" and not opts:
        return Bridge(None)
    if len(pos) != 2:
        raise GrammarError(USAGE, pos[2].text if len(pos) > 2 else "bridge")
    listen, target = _check(pos[0].text, pos[1].text)
    return Bridge(
        listen, target, bool(opts.get("lan")), bool(opts.get("broadcast")), origins,
        str(opts.get("mode", "1.1")),
    )  # fmt: skip


def _target_url(session: Any, target: str) -> str:
    """``udp://synth`` / ``tcp://synth``: the session's virtual synth (started if needed)."""
    from osc_live.endpoints import parse_endpoint
    from osc_live.notebook.targets import format_peer

    where = parse_endpoint(target)
    if not where.is_synth:
        return target
    synth = session.start_synth()
    address = synth.udp_address if where.scheme == "udp" else synth.tcp_address
    return f"{where.scheme}://{format_peer(address)}"


def run(cmd: Bridge, session: Any) -> Any:
    """Start the bridge on the session loop (replacing a running one), or stop it."""
    from osc_live.notebook.capture import SessionBridge

    if cmd.listen is None:
        current = session.resources.get(RESOURCE)
        if current is None:
            raise CommandError("no bridge is running")
        session.close(RESOURCE)
        return current
    old = session.resources.get(RESOURCE)
    if old is not None:  # free its port before binding again
        session.close(RESOURCE)
    try:
        bridge = SessionBridge(
            session, cmd.listen, _target_url(session, cmd.target), lan=cmd.lan,
            broadcast=cmd.broadcast, origins=list(cmd.origins) or None, mode=cmd.mode,
        )  # fmt: skip
    except ImportError as exc:
        raise CommandError(str(exc)) from None
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    except OSError as exc:
        raise CommandError(f"cannot listen on {cmd.listen}: {exc.strerror or exc}") from None
    session.add_resource(RESOURCE, bridge)
    return bridge


# -- osc-live bridge ----------------------------------------------------------------------------


def cli(words: list[str], io: CliIO) -> int:
    """``osc-live bridge WS_URL TARGET_URL [--lan] [--broadcast] [--origin URL] [--mode M]``."""
    origins: list[str] = []
    plain: list[str] = []
    it = iter(words)
    for word in it:
        if word == "--origin":
            value = next(it, None)
            if value is None:
                raise CliUsage("option --origin needs a value")
            origins.append(value)
        elif word.startswith("--origin="):
            origins.append(word.split("=", 1)[1])
        else:
            plain.append(word)
    rest, opts = take_options(plain, {"lan": False, "broadcast": False, "mode": True})
    if len(rest) != 2:
        raise CliUsage("usage: osc-live " + USAGE)
    try:
        listen, target = _check(*rest)
    except GrammarError as exc:
        raise CliUsage(str(exc)) from None
    try:
        from osc_live.bridge import OscBridge

        bridge = OscBridge(
            listen, target, lan=bool(opts.get("lan")), broadcast=bool(opts.get("broadcast")),
            origins=origins or None, mode=str(opts.get("mode", "1.1")),
        )  # fmt: skip
    except (ImportError, ValueError) as exc:
        raise CliUsage(str(exc)) from None
    try:
        return asyncio.run(_serve(bridge, io))
    except KeyboardInterrupt:
        return 0


async def _serve(bridge: Any, io: CliIO) -> int:
    done = asyncio.Event()
    loop = asyncio.get_running_loop()
    with contextlib.suppress(NotImplementedError, RuntimeError):
        loop.add_signal_handler(signal.SIGTERM, done.set)
        loop.add_signal_handler(signal.SIGINT, done.set)
    try:
        await bridge.start()
    except OSError as exc:
        io.err.write(f"osc-live bridge: cannot listen: {exc}\n")
        return 1
    io.err.write(f"bridging {bridge.url} <-> {bridge.target} (Ctrl-C stops)\n")
    io.err.flush()
    try:
        await done.wait()
    finally:
        await bridge.stop()
    counters = {k: v for k, v in bridge.stats.as_dict().items() if v}
    io.err.write("bridge counters: " + ", ".join(f"{k} {v}" for k, v in counters.items()) + "\n")
    return 0


SUBCOMMAND = Subcommand(
    name="bridge",
    usage=USAGE + " [--mode 1.0|1.1] | bridge stop",
    summary="relay OSC between WebSocket clients (browsers, osc.js) and a UDP/TCP target",
    command=Bridge,
    parse=parse,
    run=run,
    cli=cli,
    cli_usage=(
        "bridge ws://HOST:PORT udp://HOST:PORT|tcp://HOST:PORT [--lan] [--broadcast]"
        " [--origin URL]... [--mode 1.0|1.1]   (until Ctrl-C)",
    ),
    options={"lan": None, "broadcast": None, "origin": (), "mode": ("1.0", "1.1")},
    completes="endpoint",
)
