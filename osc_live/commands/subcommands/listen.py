"""``%osc listen [name] [url|port] [--mode] [--thread]`` and ``osc-live listen`` (alias
``dump``)."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from osc_live.commands.build import network_error
from osc_live.commands.cli_support import float_option, hostport, print_packet, take_options
from osc_live.commands.options import endpoint, name_and_endpoint, split_options
from osc_live.commands.registry import CliIO, CliUsage, ParseContext, Subcommand
from osc_live.commands.tokens import GrammarError, Token, words_to_tokens
from osc_live.endpoints import SCHEMES, Endpoint, scheme

__all__ = ["SUBCOMMAND", "Listen"]


@dataclass(frozen=True)
class Listen:
    """``listen [name] [url|port] [--mode] [--thread]``."""

    name: str | None
    endpoint: Endpoint
    mode: str = "auto"
    thread: bool = False


def _modes() -> tuple[str, ...]:
    return tuple(dict.fromkeys(m for s in SCHEMES.values() for m in s.listen_modes))


def parse(tokens: Sequence[Token], ctx: ParseContext) -> Listen:
    """``[name] [url|port] [--mode] [--thread]``; no url: a free UDP port."""
    res = ctx.resolver()
    tokens = [Token(res.substitute(t.text, t.text), t.column) for t in tokens]
    pos, opts = split_options(tokens, {"mode": _modes(), "thread": None})
    name, where = name_and_endpoint(pos, "listener", "listen [name] [url|port]")
    place = endpoint(
        where.text if where is not None else "0", listening=True, default_host=ctx.listen_host
    )
    kind = scheme(place.scheme)
    mode = kind.default_mode(listening=True) or "auto"
    if "mode" in opts:
        if str(opts["mode"]) not in kind.listen_modes:
            users = "/".join(f"{s.name}://" for s in SCHEMES.values() if s.listen_modes)
            raise GrammarError(f"--mode applies to {users} listeners only", "--mode")
        mode = str(opts["mode"])
    return Listen(name, place, mode, bool(opts.get("thread", False)))


def run(cmd: Listen, session: Any) -> Any:
    """Listen on the session; returns the :class:`~osc_live.notebook.listeners.Listener`."""
    try:
        return session.listen(cmd.endpoint.url, thread=cmd.thread, name=cmd.name, mode=cmd.mode)
    except (OSError, TimeoutError) as exc:
        raise network_error(f"cannot listen on {cmd.endpoint.url}", exc) from None


# -- osc-live listen ----------------------------------------------------------------------------


def cli(words: list[str], io: CliIO) -> int:
    """``osc-live listen [URL|PORT] [--mode] [--count N] [--timeout S] [--json]``."""
    rest, opts = take_options(words, {"mode": True, "count": True, "timeout": True, "json": False})
    count_raw = opts.get("count")
    count = None
    if count_raw is not None:
        if not str(count_raw).isdigit() or int(str(count_raw)) < 1:
            raise CliUsage(f"bad value {count_raw!r} for --count")
        count = int(str(count_raw))
    timeout = float_option(opts, "timeout", None)
    cli_words = [*rest] + (["--mode", str(opts["mode"])] if "mode" in opts else [])
    try:
        cmd = parse(words_to_tokens(cli_words), ParseContext(None, lenient=True))
    except GrammarError as exc:
        raise CliUsage(str(exc)) from None
    try:
        got = asyncio.run(_serve(cmd, io, count, timeout, bool(opts.get("json"))))
    except KeyboardInterrupt:
        return 0
    return 0 if count is None or got >= count else 1


async def _serve(
    cmd: Listen, io: CliIO, count: int | None, timeout: float | None, as_json: bool
) -> int:
    """Print every message received on the endpoint (any scheme of :mod:`osc_live._links`)
    until ``count`` messages, ``timeout`` seconds, Ctrl-C or SIGTERM."""
    from osc_live._links import serve_raw

    done = asyncio.Event()
    seen = 0

    def show(data: bytes, client_address: Any) -> None:
        nonlocal seen
        peer = hostport(client_address[0], client_address[1]) if client_address else "?"
        seen += print_packet(io.out, data, peer, as_json)
        if count is not None and seen >= count:
            done.set()

    bound, stop = await serve_raw(cmd.endpoint, show, mode=cmd.mode)
    io.err.write(f"listening on {cmd.endpoint.scheme}://{hostport(bound[0], bound[1])}\n")
    io.err.flush()
    loop = asyncio.get_running_loop()
    with contextlib.suppress(NotImplementedError, RuntimeError):
        loop.add_signal_handler(signal.SIGTERM, done.set)
    try:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(done.wait(), timeout)
    finally:
        await stop()
    return seen


SUBCOMMAND = Subcommand(
    name="listen",
    usage="listen [name] [udp://host:port | tcp://host:port | ws://host:port[/path] | port]"
    " [--mode 1.0|1.1|auto]"
    " [--thread]",
    summary="receive on the kernel's asyncio loop (--thread: in a thread, for blocking cells)",
    command=Listen,
    parse=parse,
    run=run,
    cli=cli,
    cli_usage=(
        "listen [URL | PORT] [--mode 1.0|1.1|auto] [--count N] [--timeout SECONDS] [--json]"
        "   (alias: dump)",
    ),
    cli_aliases=("dump",),
    options={"mode": ("1.0", "1.1", "auto"), "thread": None},
    completes="endpoint",
)
