"""``%osc send [@target] /address args`` and ``osc-live send URL /address args``."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from osc_live.commands.build import build_bundle, build_message, network_error
from osc_live.commands.cli_support import cli_endpoint, float_option, print_packet, take_options
from osc_live.commands.options import target_name
from osc_live.commands.registry import CliIO, CliUsage, CommandError, ParseContext, Subcommand
from osc_live.commands.tokens import GrammarError, Token, words_to_tokens
from osc_live.commands.values import MessageSpec, parse_message
from osc_live.osc_message import OscMessage

__all__ = ["SUBCOMMAND", "Send", "target_of"]


@dataclass(frozen=True)
class Send:
    """``send [@target] /address args``."""

    target: str | None
    message: MessageSpec


def parse(tokens: Sequence[Token], ctx: ParseContext) -> Send:
    """``[@target] /address arg...``."""
    target = None
    tokens = list(tokens)
    if tokens and tokens[0].text.startswith("@"):
        target = target_name(tokens[0])
        tokens = tokens[1:]
    if not tokens:
        raise GrammarError("send needs an /address", None)
    return Send(target, parse_message(tokens, ctx.namespace, ctx.float_tag, ctx.lenient))


def target_of(session: Any, name: str | None) -> Any:
    """The session's target ``name`` (None: the default), as a CommandError when missing."""
    try:
        return session.target(name)
    except LookupError as exc:
        raise CommandError(str(exc).strip("'\"")) from None


def run(cmd: Send, session: Any) -> OscMessage:
    """Send; returns the :class:`OscMessage` sent."""
    target = target_of(session, cmd.target)
    message = build_message(cmd.message)
    try:
        target.send(message)
    except OSError as exc:
        raise network_error(f"send to {target.name} failed", exc) from None
    return message


# -- osc-live send ------------------------------------------------------------------------------


def _contents(body: list[str], opts: dict[str, str | bool], io: CliIO) -> list[Any]:
    """What to send: the message of the words, or the lines of stdin (``-``)."""
    from osc_live.commands.parsing import parse_cell

    if body == ["-"]:
        header = ("--bundle" if opts.get("bundle") else "") + (
            f" --at {opts['at']}" if "at" in opts else ""
        )
        # namespace None: lines from a pipe are never evaluated ({{expr}} is an error)
        cell = parse_cell(header, io.stdin.read(), None, float_tag="f")
        if cell.header.bundle:
            return [build_bundle(cell.messages, cell.header.at)]
        return [build_message(m) for m in cell.messages]
    if opts.get("bundle") or "at" in opts:
        raise CliUsage("--bundle and --at apply to messages read from stdin (-)")
    cmd = parse(words_to_tokens(body), ParseContext(None, lenient=True))
    return [build_message(cmd.message)]


def cli(words: list[str], io: CliIO) -> int:
    """``osc-live send [--mode] [--wait S] URL /address args`` (or ``URL -``: stdin)."""
    rest, opts = take_options(words, {"mode": True, "wait": True, "bundle": False, "at": True})
    if not rest:
        raise CliUsage("send needs a URL and an /address")
    endpoint = cli_endpoint(rest[0])
    if endpoint.is_synth:
        raise CliUsage(
            "the virtual synth lives in a notebook; run 'osc-live synth' and use its port"
        )
    mode = str(opts.get("mode", "1.1"))
    if mode not in ("1.0", "1.1"):
        raise CliUsage(f"bad value {mode!r} for --mode: expected 1.0|1.1")
    wait = float_option(opts, "wait", 0.0) or 0.0
    try:
        contents = _contents(rest[1:], opts, io)
    except (GrammarError, CommandError) as exc:
        raise CliUsage(str(exc)) from None
    return asyncio.run(_send_all(endpoint.url, mode, contents, wait, io))


async def _send_all(url: str, mode: str, contents: list[Any], wait: float, io: CliIO) -> int:
    """Send over a link of :mod:`osc_live._links` (udp, tcp, ws); print what comes back
    for ``wait`` seconds."""
    from osc_live._links import open_link

    def show(data: bytes) -> None:
        print_packet(io.out, data, url)

    link = await open_link(url, show, mode=mode)
    try:
        for item in contents:
            await link.send(item.dgram)
        if wait:
            await asyncio.sleep(wait)
    finally:
        await link.close()
    return 0


SUBCOMMAND = Subcommand(
    name="send",
    usage="send [@target] /address [arg ...]",
    summary="send one message; returns the OscMessage sent (end the line with ; to silence it)",
    command=Send,
    parse=parse,
    run=run,
    cli=cli,
    cli_usage=(
        "send [--mode 1.0|1.1] [--wait SECONDS] URL /address [arg ...]",
        "send [--mode 1.0|1.1] [--bundle | --at +SECONDS] URL -   (messages on stdin)",
    ),
    completes="address",
)
