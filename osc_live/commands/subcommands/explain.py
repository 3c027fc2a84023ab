"""``%osc explain`` / ``osc-live explain``: a packet's bytes, annotated (for teaching)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from osc_live.commands.annotate import Explanation, explain_packet
from osc_live.commands.build import build_bundle, build_message
from osc_live.commands.options import message_tokens, time_option
from osc_live.commands.registry import (
    CliIO,
    CliUsage,
    CommandError,
    ParseContext,
    Subcommand,
)
from osc_live.commands.tokens import GrammarError, Token, words_to_tokens
from osc_live.commands.values import MessageSpec, parse_message

__all__ = ["SUBCOMMAND", "Explain", "explain"]

_OPTIONS: dict[str, tuple[str, ...] | None] = {"bundle": None, "at": (), "tcp": ("1.0", "1.1")}


@dataclass(frozen=True)
class Explain:
    """``explain [--bundle] [--at t] [--tcp mode] /address args``."""

    messages: tuple[MessageSpec, ...]
    bundle: bool = False
    at: float | None = None
    tcp: str | None = None


def parse(tokens: Sequence[Token], ctx: ParseContext) -> Explain:
    """``[--bundle] [--at +s] [--tcp 1.0|1.1] /address args``."""
    rest, opts = message_tokens(tokens, _OPTIONS)
    if not rest:
        raise GrammarError("explain needs an /address", None)
    message = parse_message(rest, ctx.namespace, ctx.float_tag, ctx.lenient)
    at = time_option(opts)
    tcp = opts.get("tcp")
    return Explain(
        (message,), bool(opts.get("bundle")) or at is not None, at, str(tcp) if tcp else None
    )


def explain(cmd: Explain) -> Explanation:
    """The :class:`~osc_live.commands.annotate.Explanation` of an ``explain`` command."""
    if cmd.bundle:
        packet = build_bundle(cmd.messages, cmd.at).dgram
    else:
        packet = build_message(cmd.messages[0]).dgram
    return explain_packet(packet, cmd.tcp)


def run(cmd: Explain, session: Any) -> Explanation:
    """The explanation (HTML in a notebook, text in a terminal); the session is not used."""
    return explain(cmd)


def cli(words: list[str], io: CliIO) -> int:
    """``osc-live explain [--bundle] [--at +s] [--tcp 1.0|1.1] /address args``."""
    try:
        cmd = parse(words_to_tokens(words), ParseContext(None, lenient=True))
        io.out.write(str(explain(cmd)) + "\n")
    except (GrammarError, CommandError) as exc:
        raise CliUsage(str(exc)) from None
    return 0


SUBCOMMAND = Subcommand(
    name="explain",
    usage="explain [--bundle] [--at +seconds] [--tcp 1.0|1.1] /address [arg ...]",
    summary="the packet's bytes, annotated (address, padding, tags, arguments, framing)",
    command=Explain,
    parse=parse,
    run=run,
    cli=cli,
    cli_usage=("explain [--bundle] [--at +SECONDS] [--tcp 1.0|1.1] /address [arg ...]",),
    options=_OPTIONS,
    completes="address",
)
